"""OCPI estimates priced by the billing engine: an estimate and the CPO's bill for the same charge agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.catalogue import pricing
from operators.ocpi import codec, mapping
from operators.ocpi import pricing as ocpi_pricing
from operators.ocpi.messages import CdrDimension, ChargingPeriod
from operators.ocpi.models import Tariff
from operators.ocpi.sim import network as sim_network
from operators.ocpi.tariff import cost

SHANGHAI = "Asia/Shanghai"
D = Decimal
PLACES = D("1e-10")


def sim_tariff(tid: str) -> Tariff:
    """The OCPI simulator's own tariffs (VAT 13 %): AC-TOU, and DC-TOU with a FLAT start fee and a
    TIME blocking fee from 90 minutes on (step 60 s)."""
    spec = sim_network.NetworkSpec(
        3, 9, (31.23, 121.47), "CN", "SHA", SHANGHAI, datetime(2026, 1, 1, tzinfo=UTC)
    )
    return next(codec.from_json(Tariff, t) for t in sim_network.tariffs(spec) if t["id"] == tid)


def tariff(*elements: dict[str, Any], **extra: Any) -> Tariff:
    body = {"country_code": "CN", "party_id": "SHA", "id": "T", "currency": "CNY",
            "elements": list(elements), "last_updated": "2026-01-01T00:00:00Z", **extra}  # fmt: skip
    return codec.from_json(Tariff, body)


def component(kind: str, price: str, step: int = 1, vat: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "price": D(price), "step_size": step}
    if vat is not None:
        out["vat"] = D(vat)
    return out


def cpo_bill(
    t: Tariff, energy: Decimal, start: datetime, power: Decimal, minutes: int = 1
) -> dict[str, Decimal]:
    """What the CPO bills a constant-power charge reported in periods of ``minutes`` (as the
    simulator reports its ticks): incl.-VAT totals by dimension, exact."""
    periods, left, at = [], energy, start
    step = power * minutes / 60
    while left > 0:
        kwh = min(step, left)
        hours = kwh / power
        periods.append(ChargingPeriod(start_date_time=at, dimensions=(
            CdrDimension(type="ENERGY", volume=kwh), CdrDimension(type="TIME", volume=hours),
            CdrDimension(type="POWER", volume=power))))  # fmt: skip
        at += timedelta(seconds=float(hours * 3600))
        left -= kwh
    billed = cost(t, periods, at, SHANGHAI)
    out = {dim: billed.dimension(dim)[1] for dim in ("FLAT", "ENERGY", "TIME")}
    out["total"] = billed.incl_vat
    return {k: v.quantize(PLACES) for k, v in out.items()}


def by_kind(lines: list[Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.kind] = out.get(line.kind, D(0)) + line.amount
    return {k: v.quantize(PLACES) for k, v in out.items()}


def total(lines: list[Any]) -> Decimal:
    return sum((line.amount for line in lines), D(0)).quantize(PLACES)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(SHANGHAI))


def test_a_charge_across_a_time_restriction_and_a_duration_threshold_is_priced_as_billed():
    """120 kWh at 60 kW from 20:30: half an hour of peak (to 21:00), then the flat price; the
    blocking fee from 90 minutes on; the start fee once. VAT 13 % on every price."""
    dc = sim_tariff("DC-TOU")
    start = local("2026-01-05T20:30")
    lines = ocpi_pricing.price_charge(ocpi_pricing.document(dc), D(120), start, D(60), SHANGHAI)
    got = [(x.kind, x.quantity, x.unit, x.unit_price, x.amount, x.start, x.end) for x in lines]
    assert got == [
        ("FLAT", 1, "session", D("1.13"), D("1.13"), start, local("2026-01-05T22:30")),
        ("ENERGY", 30, "kWh", D("2.034"), D("61.02"), start, local("2026-01-05T21:00")),
        ("ENERGY", 90, "kWh", D("1.469"), D("132.21"), local("2026-01-05T21:00"), local("2026-01-05T22:30")),
        (
            "TIME",
            D("0.5"),
            "hour",
            D("3.39"),
            D("1.695"),
            local("2026-01-05T22:00"),
            local("2026-01-05T22:30"),
        ),
    ]
    bill = cpo_bill(dc, D(120), start, D(60))
    assert by_kind(lines) == {k: bill[k] for k in ("FLAT", "ENERGY", "TIME")}
    assert total(lines) == bill["total"]


@pytest.mark.parametrize(
    ("name", "elements", "extra", "energy", "start"),
    [
        ("weekday price",
         [{"price_components": [component("ENERGY", "0.50")],
           "restrictions": {"day_of_week": ["SATURDAY", "SUNDAY"]}},
          {"price_components": [component("ENERGY", "0.90")]}],
         {}, "60", "2026-01-09T23:30"),  # Friday night into Saturday
        ("price above a power",
         [{"price_components": [component("ENERGY", "1.20")], "restrictions": {"min_power": 50}},
          {"price_components": [component("ENERGY", "0.80")]}],
         {}, "30", "2026-01-05T10:00"),
        ("price after 20 kWh",
         [{"price_components": [component("ENERGY", "0.40")], "restrictions": {"min_kwh": 20}},
          {"price_components": [component("ENERGY", "0.60")]}],
         {}, "45", "2026-01-05T10:00"),
        ("energy and time steps",
         [{"price_components": [component("ENERGY", "0.70", step=1000, vat="6"),
                                component("TIME", "2.00", step=900, vat="6")]}],
         {}, "10.5", "2026-01-05T10:00"),
        ("minimum price", [{"price_components": [component("ENERGY", "0.50")]}],
         {"min_price": {"excl_vat": D("40.00"), "incl_vat": D("40.00")}}, "30", "2026-01-05T10:00"),
        ("maximum price", [{"price_components": [component("ENERGY", "0.50")]}],
         {"max_price": {"excl_vat": D("10.00"), "incl_vat": D("10.00")}}, "30", "2026-01-05T10:00"),
    ],
)  # fmt: skip
def test_restrictions_steps_and_price_limits_price_as_the_cpo_bills(name, elements, extra, energy, start):
    t = tariff(*elements, **extra)
    lines = ocpi_pricing.price_charge(ocpi_pricing.document(t), D(energy), local(start), D(60), SHANGHAI)
    bill = cpo_bill(t, D(energy), local(start), D(60))
    assert total(lines) == bill["total"], name
    if not extra:  # no minimum or maximum price: the lines are the bill's, dimension by dimension
        assert by_kind(lines) == {k: v for k, v in bill.items() if k != "total" and v}, name


def test_the_domain_tariff_carries_the_rules_and_estimates_follow_them():
    """Through the gateway: the mapped tariff prices a 1-hour DC charge without the TIME fee its
    daily table lists (it starts after 90 minutes), lines rounded half-up, the total their sum."""
    dc = mapping.tariff_to_domain(sim_tariff("DC-TOU"), SHANGHAI)
    assert dc.rules is not None and {e.kind for e in dc.extras} == {"FLAT", "TIME", "PARKING"}
    start = local("2026-01-05T20:30").astimezone(UTC)
    short = pricing.estimate(dc, D(60), start, D(60))
    assert [line.kind for line, _, _ in short.lines] == ["FLAT", "ENERGY", "ENERGY"]
    assert [dc.periods[line.piece.period].start.isoformat() for line, _, _ in short.lines if line.piece] == [
        "18:00:00",
        "21:00:00",
    ]
    assert (
        short.total == D("1.13") + D("61.02") + D("44.07") == sum(line.amount for line, _, _ in short.lines)
    )
    long = pricing.estimate(dc, D(120), start, D(60))
    assert long.total == D("1.13") + D("61.02") + D("132.21") + D("1.70")  # 1.695 rounded half-up
    assert [(s, e) for line, s, e in long.lines if line.kind == "TIME"] == [
        (start + timedelta(minutes=90), start + timedelta(minutes=120))
    ]


def test_the_rules_survive_the_quote_snapshot_and_the_shared_cache():
    from gateway.replicas.codec import DomainSerializer
    from gateway.store.codec import tariff_from_json, tariff_to_json

    dc = mapping.tariff_to_domain(sim_tariff("DC-TOU"), SHANGHAI)
    assert tariff_from_json(tariff_to_json(dc)) == dc  # a quoted bill prices by the same rules
    serializer = DomainSerializer()
    assert serializer.loads(serializer.dumps(dc)) == dc
    plain = mapping.tariff_to_domain(sim_tariff("DC-TOU"), SHANGHAI)
    assert plain == dc and hash(plain) == hash(dc)  # equal tariffs still intern to one object
