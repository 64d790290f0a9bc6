"""The fake operator's table (protocol ``fake``), checked like an adapter's: errors name the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from operators.base import OperatorConfigError


@dataclass(frozen=True, slots=True)
class FakeSettings:
    """Every key but ``id`` has a default."""

    id: str
    name: str = "Fake operator"
    stations: int = 20
    seed: int = 0
    center: tuple[float, float] = (31.230, 121.474)
    currency: str = "CNY"
    page_size: int = 50
    timeout_s: float = 0.5  # a call slower than this is an OperatorTimeout, as an adapter's own timeout
    autopilot_s: float = 0.0  # above 0: sessions move on by themselves every autopilot_s seconds
    step_kwh: Decimal = Decimal("0.5")  # energy delivered per autopilot step


def parse_settings(config: Mapping[str, object]) -> FakeSettings:
    """The table as :class:`FakeSettings`; raises :class:`OperatorConfigError` naming a bad key."""
    values: dict[str, Any] = {}
    for f in fields(FakeSettings):
        if f.name not in config:
            if f.name == "id":
                raise OperatorConfigError("id", "required")
            continue
        raw = config[f.name]
        try:
            values[f.name] = _coerce(f.name, raw)
        except (TypeError, ValueError, InvalidOperation) as exc:
            raise OperatorConfigError(f.name, f"bad value {raw!r}: {exc}") from None
    return FakeSettings(**values)


def _coerce(key: str, raw: object) -> object:
    if key in ("id", "name", "currency"):
        if not isinstance(raw, str) or not raw:
            raise ValueError("expected a non-empty string")
        return raw
    if key in ("stations", "seed", "page_size"):
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < (0 if key == "seed" else 1):
            raise ValueError("expected a positive integer")
        return raw
    if key == "center":
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise ValueError("expected [lat, lon]")
        return (float(raw[0]), float(raw[1]))
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("expected a number, not negative")
    value = Decimal(str(raw)) if key == "step_kwh" else float(raw)
    if value < 0:
        raise ValueError("expected a number, not negative")
    return value
