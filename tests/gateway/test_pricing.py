"""The one pricing routine: time-of-use pieces, lines, rounding, and the fast total held to the lines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from gateway.catalogue import pricing
from operators.domain import Tariff, TariffExtra, TariffPeriod

D = Decimal
# Shanghai time: cheap night, dear day, cheaper after 22:00 (UTC+8, so 22:00 local is 14:00 UTC).
TOU = Tariff(
    "CNY",
    (
        TariffPeriod(time(0), D("0.3000"), D("0.4000")),
        TariffPeriod(time(8), D("1.0000"), D("0.8000")),
        TariffPeriod(time(22), D("0.3500"), D("0.4000")),
    ),
)
OCPI_LIKE = Tariff(
    "CNY",
    (TariffPeriod(time(0), D("1.13"), D("0")),),
    extras=(
        TariffExtra("FLAT", D("1.13"), "session"),
        TariffExtra("TIME", D("3.39"), "hour"),
        TariffExtra("PARKING", D("6.78"), "hour"),
    ),
)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour - 8 if hour >= 8 else hour + 16, minute, tzinfo=UTC)


def test_a_charge_past_22_00_has_a_line_per_fee_and_period():
    # 30 kWh at 7 kW from 21:30: half an hour of day price, two hours after 22:00, the rest after midnight.
    est = pricing.estimate(TOU, D(30), local(21, 30), D(7))
    rows = [(line.kind, line.quantity, line.unit_price, line.amount) for line, _, _ in est.lines]
    assert rows == [
        ("ENERGY", D("3.500"), D("1.0000"), D("3.50")),
        ("SERVICE", D("3.500"), D("0.8000"), D("2.80")),
        ("ENERGY", D("14.000"), D("0.3500"), D("4.90")),
        ("SERVICE", D("14.000"), D("0.4000"), D("5.60")),
        ("ENERGY", D("12.500"), D("0.3000"), D("3.75")),
        ("SERVICE", D("12.500"), D("0.4000"), D("5.00")),
    ]
    assert est.total == D("25.55")
    starts = [start for _, start, _ in est.lines[::2]]
    assert starts == [
        local(21, 30),
        datetime(2026, 1, 5, 14, tzinfo=UTC),
        datetime(2026, 1, 5, 16, tzinfo=UTC),
    ]
    assert est.end - est.start == (est.lines[-1][2] - est.start)
    assert round((est.end - est.start).total_seconds()) == round(30 / 7 * 3600)


def test_a_charge_inside_one_period_is_one_line_per_fee():
    est = pricing.estimate(TOU, D(30), local(10), D(60))
    assert [(x.kind, x.amount) for x, _, _ in est.lines] == [("ENERGY", D("30.00")), ("SERVICE", D("24.00"))]
    assert est.total == D("54.00")


def test_the_same_period_across_midnight_stays_one_line():
    flat = Tariff("CNY", (TariffPeriod(time(0), D("1.2"), D("0.5")),))
    est = pricing.estimate(flat, D(20), local(23), D(7))
    assert [x.kind for x, _, _ in est.lines] == ["ENERGY", "SERVICE"]
    assert est.lines[0][0].quantity == D(20)


def test_session_fees_and_time_by_the_hour_parking_left_out():
    est = pricing.estimate(OCPI_LIKE, D(30), local(10), D(60))
    rows = {x.kind: (x.quantity, x.amount) for x, _, _ in est.lines}
    assert rows == {
        "ENERGY": (D(30), D("33.90")),
        "FLAT": (D(1), D("1.13")),
        "TIME": (D("0.5000"), D("1.70")),  # 1.695 rounds half up
    }
    assert est.total == D("36.73")


def test_amounts_are_cents_and_unit_prices_keep_their_places():
    tf = Tariff("CNY", (TariffPeriod(time(0), D("1.2345"), D("0.0105")),))
    est = pricing.estimate(tf, D("3.3"), local(9), D(7))
    assert [x.amount for x, _, _ in est.lines] == [D("4.07"), D("0.03")]
    assert [x.unit_price for x, _, _ in est.lines] == [D("1.2345"), D("0.0105")]
    assert est.total == D("4.10")


def test_a_tariff_starting_after_midnight_wraps_to_its_last_period():
    tf = Tariff("CNY", (TariffPeriod(time(6), D("1"), D("0")), TariffPeriod(time(20), D("0.5"), D("0"))))
    est = pricing.estimate(tf, D(10), local(3), D(10))
    assert [(x.unit_price, x.amount) for x, _, _ in est.lines] == [(D("0.5"), D("5.00"))]


@pytest.mark.parametrize(
    ("energy", "power", "field"),
    [(D(0), D(7), "energyKwh"), (D(10), D(0), "power"), (D(500), D(1), "energyKwh")],
)
def test_charges_that_cannot_be_priced(energy: Decimal, power: Decimal, field: str):
    with pytest.raises(pricing.PricingError) as caught:
        pricing.estimate(TOU, energy, local(10), power)
    assert caught.value.field == field


def test_the_fast_total_is_the_sum_of_the_lines():
    rng = random.Random(16)
    tariffs = [TOU, OCPI_LIKE]
    for _ in range(20):
        starts = sorted(rng.sample(range(0, 24 * 60, 15), rng.randint(1, 6)))
        periods = tuple(
            TariffPeriod(
                time(m // 60, m % 60),
                D(rng.randrange(1, 20000)).scaleb(-4),
                D(rng.randrange(0, 9000)).scaleb(-4),
            )
            for m in starts
        )
        extras = (
            (TariffExtra("FLAT", D(rng.randrange(0, 300)).scaleb(-2), "session"),)
            if rng.random() < 0.5
            else ()
        )
        tariffs.append(Tariff("CNY", periods, extras=extras))
    for _ in range(3000):
        schedule = pricing.schedule_of(rng.choice(tariffs))
        energy = D(rng.randrange(1, 120_000)).scaleb(-3)
        power = D(rng.choice([3.5, 7, 11, 22, 60, 120, 350])).quantize(D("0.1"))
        start = rng.randrange(0, 86_400)
        lines = pricing.lines(schedule, energy, start, power)
        assert pricing.cost(schedule, energy, start, power) == sum(x.amount for x in lines)
        assert sum(x.quantity for x in lines if x.kind == "ENERGY") == energy


def test_schedules_are_prepared_once_per_tariff_object():
    assert pricing.schedule_of(TOU) is pricing.schedule_of(TOU)
    twin = Tariff(TOU.currency, TOU.periods)
    assert pricing.schedule_of(twin).tariff is twin
    assert pricing.schedule_of(TOU).total_at(23 * 3600) == D("0.7500")
