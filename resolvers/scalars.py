"""Our ``DateTime`` scalar: every time the API shows is UTC, in one ISO 8601 notation ending in ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition


def serialize_datetime(value: datetime) -> str:
    """``2026-12-02T06:31:09.120Z``: UTC, milliseconds, ``Z`` (what JavaScript's ``toISOString`` gives)."""
    if value.tzinfo is None:
        raise ValueError("a naive datetime has no place in the API: the gateway keeps aware UTC times")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

SCALARS = {datetime: DATETIME}
"""For ``StrawberryConfig(scalar_map=...)`` of every schema we build."""
