"""The cap prediction: the pace of a session and when to stop it, on real and accelerated clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from gateway.charging.caps import MIN_CHECK_S, STOP_MARGIN_S, Pace, pace, plan
from gateway.store import PaymentMode, SessionRecord
from gateway.store.codec import tariff_to_json
from operators.domain import SessionPhase, Tariff, TariffExtra, TariffPeriod

T0 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
TARIFF = Tariff(
    "CNY",
    (
        TariffPeriod(time(0), Decimal("0.40"), Decimal("0.40")),
        TariffPeriod(time(8), Decimal("1.00"), Decimal("0.50")),
    ),
    extras=(TariffExtra("TIME", Decimal("3.60"), "hour"),),
)
CHARGING = SessionRecord(
    id="s", driver_id="alice", idempotency_key="k", operator_id="op", station_id="st", connector_id="c",
    operator_ref=None, payment_mode=PaymentMode.POSTPAID, status=SessionPhase.CHARGING, currency="CNY",
    energy_kwh=Decimal(0), cost=Decimal(0), power_kw=None, soc=None, max_cost=Decimal("6.48"),
    max_energy_kwh=None, tariff_json=tariff_to_json(TARIFF), failure=None, end_reason=None, created_at=T0,
    started_at=T0, ended_at=None, updated_at=T0, version=2,
)  # fmt: skip


def report(
    before: SessionRecord, seconds: float, cost: str, kwh: str, kw: float | None = None
) -> SessionRecord:
    return replace(
        before, cost=Decimal(cost), energy_kwh=Decimal(kwh), power_kw=kw,
        updated_at=before.updated_at + timedelta(seconds=seconds), version=before.version + 1,
    )  # fmt: skip


def test_on_a_real_clock_the_power_at_the_dearest_price_sets_the_pace():
    after = report(CHARGING, 30, "0.30", "0.2", kw=120.0)
    p = pace(CHARGING, after, rated_kw=160.0)
    # 120 kW at ¥1.50/kWh plus ¥3.60/h: ¥0.051/s, more than the ¥0.01/s the report shows.
    assert p.cost_per_s == Decimal("120") / 3600 * Decimal("1.50") + Decimal("0.001")
    assert p.kwh_per_s == Decimal("120") / 3600


def test_before_any_power_is_reported_the_connector_rating_counts():
    assert pace(CHARGING, CHARGING, rated_kw=36.0).kwh_per_s == Decimal("0.01")


def test_an_accelerated_clock_shows_in_the_observed_pace():
    """180×: two real seconds carry six minutes of charging at 60 kW (6 kWh, ¥9 at ¥1.50)."""
    after = report(CHARGING, 2, "9.00", "6", kw=60.0)
    p = pace(CHARGING, after, rated_kw=60.0)
    assert p == Pace(Decimal("4.5"), Decimal("3"))
    assert plan(after, p, after.updated_at, 30).stop == "cost"  # already past ¥6.48: stop


def test_a_report_that_changed_nothing_keeps_the_previous_pace():
    previous = Pace(Decimal("4.5"), Decimal("3"))
    assert pace(CHARGING, CHARGING, None, previous) == previous


@pytest.mark.parametrize(
    ("cost", "since_s", "expected"),
    [
        ("0.00", 0, "check"),  # 6.48 s to the cap at ¥1/s: look again in 3.24 s
        ("6.00", 0, "stop"),  # 0.48 s left: within a check and a stop's way to the operator
        ("3.00", 3.0, "stop"),  # ¥3 then, ¥6 by now: the projection says stop
        ("6.48", 0, "stop"),
    ],
)
def test_stop_when_the_cap_could_be_passed_before_the_next_look(cost, since_s, expected):
    session = replace(CHARGING, cost=Decimal(cost))
    decided = plan(session, Pace(Decimal(1), Decimal(0)), T0 + timedelta(seconds=since_s), 30)
    assert (decided.stop == "cost") == (expected == "stop")
    if expected == "check":
        assert decided.check_in_s == pytest.approx(3.24)
        assert decided.check_in_s > (STOP_MARGIN_S + MIN_CHECK_S) / 2


def test_the_energy_limit_and_no_limit():
    session = replace(CHARGING, max_cost=None, max_energy_kwh=Decimal("2"), energy_kwh=Decimal("1.9"))
    assert plan(session, Pace(Decimal(0), Decimal("0.5")), T0, 30).stop == "energy"
    assert (
        plan(replace(session, max_energy_kwh=None), Pace(Decimal(1), Decimal(1)), T0, 30).check_in_s is None
    )
    far = plan(replace(CHARGING, max_cost=Decimal(300)), Pace(Decimal("0.01"), Decimal(0)), T0, 30)
    assert far.check_in_s == 30  # never longer than the poll interval
