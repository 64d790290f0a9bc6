"""The credit-bureau simulator's configuration and the faults it can inject."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gateway.credit.demo import demo_scores
from gateway.credit.provider import SCORE_MAX, SCORE_MIN

DEFAULT_API_KEY = "demo-credit-bureau-key"  # a public demo string: pass your own for anything shared
_RATES = ("error_rate", "timeout_rate")


@dataclass(frozen=True, slots=True)
class BureauFaults:
    """Faults applied to every request. Replace the whole object to change them
    (``sim.faults = BureauFaults(down=True)`` or ``POST /_sim/faults``).

    - ``latency_ms``: added before every answer.
    - ``error_rate``: probability of HTTP 500.
    - ``timeout_rate``: probability of never answering (until the simulator stops).
    - ``down``: every request gets HTTP 503.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    down: bool = False

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        for name in _RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: Any) -> BureauFaults:
        """A copy with ``changes`` (field name → JSON value) applied; ValueError on bad input."""
        if not isinstance(changes, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "down":
                if not isinstance(value, bool):
                    raise ValueError("down must be a boolean")
                clean[name] = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                clean[name] = float(value)
            else:
                raise ValueError(f"{name} must be a number")
        return dataclasses.replace(self, **clean)


@dataclass(frozen=True, slots=True)
class BureauConfig:
    """``scores`` is the bureau's table; other drivers get a stable score derived from a hash of
    their id and ``seed`` unless ``derive_unknown`` is off, in which case they are unknown (404)."""

    api_key: str = DEFAULT_API_KEY
    host: str = "127.0.0.1"
    port: int = 0  # 0: an ephemeral port; read it from ``sim.port`` after start
    seed: int = 1
    scores: Mapping[str, int] = field(default_factory=demo_scores)
    derive_unknown: bool = True
    faults: BureauFaults = field(default_factory=BureauFaults)

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        for driver_id, score in self.scores.items():
            if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
                raise ValueError(f"score of {driver_id!r} must be an integer {SCORE_MIN}..{SCORE_MAX}")
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))
