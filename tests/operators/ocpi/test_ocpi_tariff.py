"""The tariff engine over the spec's worked examples (specs/ocpi.md §4.2, errata applied)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from operators.ocpi import codec
from operators.ocpi.messages import Cdr, CdrDimension, ChargingPeriod
from operators.ocpi.models import Tariff
from operators.ocpi.tariff import Reservation, cost

EXAMPLES = Path(__file__).resolve().parent / "official"  # unmodified copies of shared/specs/ocpi-examples
TZ = "Europe/Berlin"


def _tariff(name: str) -> Tariff:
    return codec.from_json(Tariff, codec.loads((EXAMPLES / name).read_bytes()))


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def _session(
    start: str, *segments: tuple[int, dict[str, str | Decimal]]
) -> tuple[list[ChargingPeriod], datetime]:
    """Periods from (minutes, dimensions) segments; TIME/PARKING_TIME given as minutes → hours."""
    at = _local(start)
    periods = []
    for minutes, dims in segments:
        volumes = []
        for kind, value in dims.items():
            volume = Decimal(value)
            if kind in ("TIME", "PARKING_TIME"):
                volume = volume / 60
            volumes.append(CdrDimension(type=kind, volume=volume))
        periods.append(ChargingPeriod(start_date_time=at, dimensions=tuple(volumes)))
        at += timedelta(minutes=minutes)
    return periods, at


def _r(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("name", "segments", "excl", "incl"),
    [
        ("tariff_8_simple_025kwh.json", [(60, {"ENERGY": "20"})], "5.00", "5.50"),  # 1
        ("tariff_9_025kwh_start.json", [(60, {"ENERGY": "20"})], "5.50", "6.10"),  # 2
        ("tariff_12_025kwh_min_price.json", [(60, {"ENERGY": "20"})], "5.00", "5.50"),  # 3
        ("tariff_12_025kwh_min_price.json", [(10, {"ENERGY": "1.5"})], "0.50", "0.55"),  # 3, < 2 kWh
        (
            "tariff_10_025kwh_parking_start.json",
            [(60, {"ENERGY": "20", "TIME": "60"}), (40, {"PARKING_TIME": "40"})],
            "7.00",
            "7.90",
        ),  # 4
        ("tariff_6_025kwh_start_max_price.json", [(300, {"ENERGY": "50"})], "10.00", "11.00"),  # 5
        ("tariff_6_025kwh_start_max_price.json", [(180, {"ENERGY": "30"})], "8.00", "8.85"),  # 5
        ("tariff_1_simple_2hour.json", [(150, {"TIME": "150"})], "5.00", "5.50"),  # 6
        (
            "tariff_13_simple_3hour_5parking.json",
            [(150, {"TIME": "150"}), (42, {"PARKING_TIME": "42"})],
            "11.25",
            "12.75",
        ),  # 7
        ("tariff_2_alt_text.json", [(150, {"TIME": "150"})], "4.75", "5.00"),  # 8
        ("tariff_3_alt_url.json", [(120, {"ENERGY": "20.45"})], "5.63", "6.24"),  # 9
        (
            "tariffrestriction_example_max_power.json",
            [
                (10, {"ENERGY": "1", "POWER": "6"}),
                (50, {"ENERGY": "40", "POWER": "48"}),
                (8, {"ENERGY": "0.5", "POWER": "4"}),
            ],
            "20.30",
            "24.36",
        ),  # 14
        (
            "tariffrestriction_example_max_duration.json",
            [(30, {"ENERGY": "5"}), (10, {"ENERGY": "1.2"})],
            "0.30",
            "0.36",
        ),  # 15
    ],
)
def test_worked_examples(name: str, segments: list, excl: str, incl: str) -> None:
    periods, end = _session("2024-03-04T10:00", *segments)
    result = cost(_tariff(name), periods, end, TZ)
    assert (_r(result.excl_vat), _r(result.incl_vat)) == (Decimal(excl), Decimal(incl))


def test_example_9_energy_is_rounded_to_100_wh() -> None:
    periods, end = _session("2024-03-04T10:00", (120, {"ENERGY": "20.45"}))
    result = cost(_tariff("tariff_3_alt_url.json"), periods, end, TZ)
    excl, incl = result.dimension("ENERGY")
    assert (_r(excl), _r(incl)) == (Decimal("5.13"), Decimal("5.64"))
    assert [line.quantity for line in result.lines if line.dimension == "ENERGY"] == [Decimal("20.5")]


@pytest.mark.parametrize(
    ("name", "minutes", "expired", "excl", "incl"),
    [
        ("tariff_15_reservation_5_euro_per_hour.json", 15, False, "6.75", "7.60"),  # 10
        ("tariff_16_reservation_2_euro_fee_5_euro_per_hour.json", 13, False, "8.75", "10.00"),  # 11
        ("tariff_17_reservation_with_expire_fee.json", 22, False, "6.50", "7.30"),  # 12
        ("tariff_17_reservation_with_expire_fee.json", 60, True, "6.00", "7.20"),  # 12 expired
        ("tariff_18_reservation_with_expire_time.json", 22, False, "7.00", "7.90"),  # 13
        ("tariff_18_reservation_with_expire_time.json", 90, True, "9.00", "10.80"),  # 13 expired
    ],
)
def test_reservation_examples(name: str, minutes: int, expired: bool, excl: str, incl: str) -> None:
    reserved = _local("2024-03-04T10:00")
    start = reserved + timedelta(minutes=minutes)
    periods, end = (
        ([], start) if expired else _session(start.strftime("%Y-%m-%dT%H:%M"), (60, {"ENERGY": "20"}))
    )
    result = cost(_tariff(name), periods, end, TZ, Reservation(reserved, start, expired))
    assert (_r(result.excl_vat), _r(result.incl_vat)) == (Decimal(excl), Decimal(incl))


def test_complex_tariff_monday() -> None:
    periods, end = _session(
        "2024-03-04T09:30", (165, {"TIME": "165", "CURRENT": "16"}), (42, {"PARKING_TIME": "42"})
    )
    result = cost(_tariff("tariff_4_complex.json"), periods, end, TZ)
    assert [
        (_r(a, "0.001"), _r(b, "0.001")) for a, b in map(result.dimension, ("FLAT", "TIME", "PARKING_TIME"))
    ] == [
        (Decimal("2.500"), Decimal("2.875")),
        (Decimal("2.750"), Decimal("3.300")),
        (Decimal("3.750"), Decimal("4.125")),
    ]
    assert (_r(result.excl_vat), _r(result.incl_vat)) == (Decimal("9.00"), Decimal("10.30"))


def test_complex_tariff_saturday_erratum() -> None:
    # The spec table prints 12.28 / 13.861; 114 min × 1.25/h = 2.375, so 12.375 / 13.975 (issue 396).
    periods, end = _session(
        "2024-03-09T13:30", (114, {"TIME": "114", "CURRENT": "43"}), (71, {"PARKING_TIME": "71"})
    )
    result = cost(_tariff("tariff_4_complex.json"), periods, end, TZ)
    assert (_r(result.excl_vat, "0.001"), _r(result.incl_vat, "0.001")) == (
        Decimal("12.375"),
        Decimal("13.975"),
    )


@pytest.mark.parametrize(
    ("start", "segments", "excl"),
    [
        ("2024-03-04T16:55", [(5, {"TIME": "5"}), (5, {"TIME": "5"}), (2, {"PARKING_TIME": "2"})], "0.55"),
        ("2024-03-04T16:35", [(25, {"TIME": "25"}), (10, {"TIME": "10"})], "1.30"),
        # Erratum: the 2.2.1-d2 text said 0.80 with wrong rates; 0.48 + 0.25 = 0.73.
        (
            "2024-03-04T19:40",
            [(12, {"TIME": "12"}), (8, {"PARKING_TIME": "8"}), (12, {"PARKING_TIME": "12"})],
            "0.73",
        ),
    ],
)
def test_step_size_switching(start: str, segments: list, excl: str) -> None:
    periods, end = _session(start, *segments)
    result = cost(_tariff("tariff_14_step_size.json"), periods, end, TZ)
    assert _r(result.excl_vat) == Decimal(excl)


def test_energy_step_extra_billed_at_last_price() -> None:
    tariff = codec.from_json(
        Tariff,
        {
            "country_code": "DE",
            "party_id": "ALL",
            "id": "x",
            "currency": "EUR",
            "last_updated": "2024-01-01T00:00:00Z",
            "elements": [
                {
                    "price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 500}],
                    "restrictions": {"end_time": "17:00"},
                },
                {"price_components": [{"type": "ENERGY", "price": 0.27, "step_size": 500}]},
            ],
        },
    )
    periods, end = _session("2024-03-04T16:00", (60, {"ENERGY": "4.3"}), (30, {"ENERGY": "1.1"}))
    result = cost(tariff, periods, end, TZ)
    assert [line.quantity for line in result.lines] == [Decimal("4.3"), Decimal("1.2")]


@pytest.mark.parametrize(
    ("charging", "parking", "step", "billed_charging", "billed_parking"),
    [(21, 16, 600, 21, 20), (21, 7, 300, 21, 10)],
)
def test_only_the_last_time_dimension_is_rounded(
    charging: int, parking: int, step: int, billed_charging: int, billed_parking: int
) -> None:
    tariff = codec.from_json(
        Tariff,
        {
            "country_code": "DE",
            "party_id": "ALL",
            "id": "x",
            "currency": "EUR",
            "last_updated": "2024-01-01T00:00:00Z",
            "elements": [
                {
                    "price_components": [
                        {"type": "TIME", "price": 1.00, "step_size": step},
                        {"type": "PARKING_TIME", "price": 2.00, "step_size": step},
                    ]
                }
            ],
        },
    )
    periods, end = _session(
        "2024-03-04T10:00", (charging, {"TIME": str(charging)}), (parking, {"PARKING_TIME": str(parking)})
    )
    result = cost(tariff, periods, end, TZ)
    assert [_r(line.quantity * 60) for line in result.lines] == [
        Decimal(billed_charging),
        Decimal(billed_parking),
    ]


def test_cdr_example_total_matches() -> None:
    cdr = codec.from_json(Cdr, codec.loads((EXAMPLES / "cdr_example.json").read_bytes()))
    result = cost(cdr.tariffs[0], cdr.charging_periods, cdr.end_date_time, "Europe/Brussels")
    assert (_r(result.excl_vat), _r(result.incl_vat)) == (cdr.total_cost.excl_vat, cdr.total_cost.incl_vat)


def test_free_tariff_costs_nothing() -> None:
    periods, end = _session("2024-03-04T10:00", (60, {"ENERGY": "20", "TIME": "60"}))
    result = cost(_tariff("tariff_5_free_of_charge.json"), periods, end, TZ)
    assert (result.excl_vat, result.incl_vat) == (Decimal("0.00"), Decimal("0.00"))
