"""The gateway's clock bounds every operator timestamp: what an operator reports cannot lie ahead.

Operators run their own clocks, some fast (a simulator's accelerated time, a pile whose clock
drifted). A past event reported later than our own clock is recorded at our clock's time instead,
where it enters the gateway (session reports, final orders, connector states), and converted to
UTC, so nothing downstream, the API included, ever shows an event in the future.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from operators.domain import ConnectorState, FinalOrder, OrderLine, SessionProgress

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def not_after(moment: datetime, now: datetime) -> datetime:
    """``moment`` in UTC, or ``now`` if ``moment`` is later (logged: the operator's clock is ahead)."""
    moment = moment.astimezone(UTC)
    if moment <= now:
        return moment
    if log.isEnabledFor(logging.DEBUG):  # not formatted for nothing: this runs per connector state
        log.debug("operator time %s is %.0f s ahead of ours; using ours", moment.isoformat(),
                  (moment - now).total_seconds())  # fmt: skip
    return now


def _bounded(moment: datetime | None, now: datetime) -> datetime | None:
    return None if moment is None else not_after(moment, now)


def bounded_progress(progress: SessionProgress, now: datetime) -> SessionProgress:
    return replace(
        progress,
        started_at=_bounded(progress.started_at, now),
        updated_at=_bounded(progress.updated_at, now),
        ended_at=_bounded(progress.ended_at, now),
    )


def _bounded_line(line: OrderLine, now: datetime) -> OrderLine:
    return replace(line, start=_bounded(line.start, now), end=_bounded(line.end, now))


def bounded_order(order: FinalOrder, now: datetime) -> FinalOrder:
    return replace(
        order,
        started_at=not_after(order.started_at, now),
        ended_at=not_after(order.ended_at, now),
        lines=tuple(_bounded_line(line, now) for line in order.lines),
    )


def bounded_state(state: ConnectorState, now: datetime) -> ConnectorState:
    observed_at = not_after(state.observed_at, now)
    # A UTC time already in the past is kept as it is, and with it the one object every connector
    # of a poll shares (the API then formats it once for all of them).
    return state if observed_at is state.observed_at else replace(state, observed_at=observed_at)
