"""The gateway's clock bounds connector states: never ahead of it, always in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.clock import bounded_state
from operators.domain import ConnectorState, ConnectorStatus

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def state(at: datetime) -> ConnectorState:
    return ConnectorState("C1", ConnectorStatus.AVAILABLE, at)


def test_a_past_utc_state_is_kept_as_it_is() -> None:
    past = state(NOW - timedelta(seconds=5))
    assert bounded_state(past, NOW) is past


def test_a_state_in_another_zone_is_given_in_utc() -> None:
    local = state(datetime(2026, 12, 2, 13, 59, 55, tzinfo=ZoneInfo("Asia/Shanghai")))
    bounded = bounded_state(local, NOW)
    assert bounded.observed_at == NOW - timedelta(seconds=5) and bounded.observed_at.tzinfo is UTC
    assert (bounded.connector_id, bounded.status) == ("C1", ConnectorStatus.AVAILABLE)


def test_a_state_ahead_of_our_clock_is_recorded_at_our_time() -> None:
    assert bounded_state(state(NOW + timedelta(minutes=3)), NOW).observed_at == NOW
