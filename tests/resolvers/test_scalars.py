"""The DateTime scalar's one notation, whether or not the instant was formatted before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from resolvers import scalars
from resolvers.scalars import serialize_datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (
            datetime(2026, 12, 2, 14, 31, 9, 120456, tzinfo=SHANGHAI),
            "2026-12-02T06:31:09.120Z",
        ),
        (datetime(2026, 12, 2, 6, 31, 9, tzinfo=UTC), "2026-12-02T06:31:09.000Z"),
        (
            datetime(2026, 12, 2, 1, 0, 0, 999999, tzinfo=NEW_YORK_WINTER),
            "2026-12-02T06:00:00.999Z",
        ),
    ],
)
def test_utc_milliseconds_z_every_time(value: datetime, text: str) -> None:
    assert serialize_datetime(value) == text
    assert serialize_datetime(value) == text  # the remembered text is the same
    copy = value.replace()  # an equal instant in another object
    assert copy is not value and serialize_datetime(copy) == text


def test_a_naive_datetime_is_refused_every_time() -> None:
    naive = datetime(2026, 12, 2, 6, 31, 9)
    for _ in range(2):
        with pytest.raises(ValueError, match="naive"):
            serialize_datetime(naive)


def test_the_memory_is_bounded_and_stays_exact() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    values = [start + timedelta(milliseconds=i) for i in range(scalars.MAX_FORMATTED + 10)]
    texts = [serialize_datetime(v) for v in values]
    assert len(scalars._FORMATTED) <= scalars.MAX_FORMATTED
    assert texts[-1] == "2026-01-01T00:00:04.105Z"
    assert [serialize_datetime(v) for v in values] == texts
