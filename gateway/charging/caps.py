"""When to stop a capped session: the pace of its cost and energy, and how far ahead to look.

Progress reports arrive every few seconds on a real clock, and a simulator's accelerated clock packs
minutes of charging into each. Waiting for a report to show a cap *reached* overshoots it by up to
one report's worth, so the gateway predicts instead: at the current pace, could the cap be passed
before the gateway sees the session again and its stop reaches the operator? The pace is the faster
of two estimates:

- what the last two observations show, per second of the gateway's clock (the only way to see an
  accelerated clock: a simulator at 180× charges 180 seconds' worth every second);
- the power the operator reports (before it reports any, the connector's rating) at the dearest
  price of the quoted tariff, plus any per-hour fee (what a real clock gives before there is a
  history, and the safe side when a period boundary falls within the horizon).

Between reports the gateway watches a capped session itself (see ``SessionService``): it asks the
operator for the session's state ``FIRST_CHECK_S`` after charging begins, then at half the predicted
time to the cap, so neither a slow push interval nor a fast clock carries a session past its cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.store import SessionRecord
from gateway.store.codec import tariff_from_json

FIRST_CHECK_S = 0.1  # after charging begins: learn the pace before a first report could pass the cap
MIN_CHECK_S = 0.2  # never ask an operator about one session more often than this
STOP_MARGIN_S = 0.5  # a stop's way to the operator and back, with room to spare
PER_HOUR = Decimal(3600)


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a session's cost and energy grow, per second of the gateway's clock."""

    cost_per_s: Decimal
    kwh_per_s: Decimal


@dataclass(frozen=True, slots=True)
class Plan:
    """``stop``: ``"cost"`` or ``"energy"``, the limit that is about to be passed; else look again
    in ``check_in_s`` seconds (None when the session has no limit)."""

    stop: str | None = None
    check_in_s: float | None = None


def dearest_price(tariff_json: str | None) -> tuple[Decimal, Decimal]:
    """The highest per-kWh price of the quoted tariff and its per-hour fees (0, 0 without a tariff)."""
    if not tariff_json:
        return Decimal(0), Decimal(0)
    tariff = tariff_from_json(tariff_json)
    per_kwh = max((p.energy_per_kwh + p.service_per_kwh for p in tariff.periods), default=Decimal(0))
    per_hour = sum((e.amount for e in tariff.extras if e.kind == "TIME"), Decimal(0))
    return per_kwh, per_hour


def pace(
    before: SessionRecord, after: SessionRecord, rated_kw: float | None, previous: Pace | None = None
) -> Pace:
    """The pace after a report (``before`` → ``after``); ``previous`` when the report changed nothing."""
    per_kwh, per_hour = dearest_price(after.tariff_json)
    kw = Decimal(str(after.power_kw or rated_kw or 0))
    kwh_per_s = kw / PER_HOUR
    cost_per_s = kwh_per_s * per_kwh + per_hour / PER_HOUR
    seconds = (after.updated_at - before.updated_at).total_seconds()
    if after.version != before.version and seconds > 0:
        elapsed = Decimal(str(seconds))
        cost_per_s = max(cost_per_s, (after.cost - before.cost) / elapsed)
        kwh_per_s = max(kwh_per_s, (after.energy_kwh - before.energy_kwh) / elapsed)
    elif previous is not None:
        cost_per_s, kwh_per_s = max(cost_per_s, previous.cost_per_s), max(kwh_per_s, previous.kwh_per_s)
    return Pace(cost_per_s, kwh_per_s)


def plan(session: SessionRecord, pace: Pace, now: datetime, max_check_s: float) -> Plan:
    """Stop now, or when to look again: the figures are projected from the last report to ``now``."""
    since = Decimal(str(max((now - session.updated_at).total_seconds(), 0.0)))
    ahead: list[tuple[float, str]] = []
    for limit, value, rate, name in (
        (session.max_cost, session.cost, pace.cost_per_s, "cost"),
        (session.max_energy_kwh, session.energy_kwh, pace.kwh_per_s, "energy"),
    ):
        if limit is None:
            continue
        headroom = limit - value - rate * since
        if headroom <= 0:
            return Plan(stop=name)
        ahead.append((float(headroom / rate) if rate > 0 else max_check_s * 2, name))
    if not ahead:
        return Plan()
    seconds, name = min(ahead)
    if seconds <= STOP_MARGIN_S + MIN_CHECK_S:
        return Plan(stop=name)
    return Plan(check_in_s=min(max(seconds / 2, MIN_CHECK_S), max_check_s))
