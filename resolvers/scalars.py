"""Our scalars: ``DateTime`` always UTC in one notation; ``Decimal`` strict on the way in.

Strawberry's own ``Decimal`` scalar hands the text to Python's ``Decimal``, which also reads
``"1_000"``, ``"1e3"`` and other scripts' digits (``"١٢٣"``). Ours reads only
``-?[0-9]+(\\.[0-9]+)?``; any other text or number becomes ``Decimal("NaN")``, which every amount
check refuses with a typed ``InvalidInput`` naming the field (a scalar error could only be a
top-level error). A value that is not text or a number at all (``true``, a list) is a request error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import strawberry
from strawberry.types.scalar import ScalarDefinition

from gateway.billing import parse_plain

MAX_FORMATTED = 4096
# Texts of the datetimes formatted lately, keyed by the object's id and checked by identity (the
# entry holds the object, so its id cannot be reused while it is here); bounded, cleared when full.
# A cached connector status keeps one ``observed_at`` object for every request that reads it, and a
# batch of statuses shares one, so a search formats each once instead of once per connector.
_FORMATTED: dict[int, tuple[datetime, str]] = {}


def serialize_datetime(value: datetime) -> str:
    """``2026-12-02T06:31:09.120Z``: UTC, milliseconds, ``Z`` (what JavaScript's ``toISOString`` gives)."""
    hit = _FORMATTED.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    if value.tzinfo is None:
        raise ValueError("a naive datetime has no place in the API: the gateway keeps aware UTC times")
    text = value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if len(_FORMATTED) >= MAX_FORMATTED:
        _FORMATTED.clear()
    _FORMATTED[id(value)] = (value, text)
    return text


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry Z or an offset")
    return parsed.astimezone(UTC)


DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An instant in UTC, ISO 8601 with milliseconds and `Z`: `2026-12-02T06:31:09.120Z`. "
    "Times of past events (session start and end, status changes, payments) are never later than "
    "the gateway's clock, whatever the operator reported; deadlines such as `Bill.dueAt` lie ahead.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Decimal must be a string of digits such as "12.50"')
    parsed = parse_plain(value)
    return Decimal("NaN") if parsed is None else parsed


DECIMAL: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description="Decimal (fixed-point), as a string of plain ASCII digits: `12.50`.",
    serialize=str,
    parse_value=parse_decimal,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DATETIME, Decimal: DECIMAL}
"""For ``StrawberryConfig(scalar_map=...)`` of every schema we build."""
