"""OCPI → domain mapping tables and conversions, over the official examples."""

from __future__ import annotations

import logging
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from operators import domain
from operators.ocpi import codec, mapping
from operators.ocpi.messages import Cdr, Session
from operators.ocpi.models import Connector, Location, Tariff

EXAMPLES = Path(__file__).resolve().parent / "official"  # unmodified copies of shared/specs/ocpi-examples
S = domain.ConnectorStatus
T = domain.ConnectorType


def _load(cls: type, name: str):
    return codec.from_json(cls, codec.loads((EXAMPLES / name).read_bytes()))


@pytest.mark.parametrize(
    ("ocpi", "status"),
    [
        ("AVAILABLE", S.AVAILABLE),
        ("BLOCKED", S.OCCUPIED),
        ("CHARGING", S.CHARGING),
        ("INOPERATIVE", S.OFFLINE),
        ("OUTOFORDER", S.FAULTED),
        ("PLANNED", S.OFFLINE),
        ("REMOVED", S.OFFLINE),
        ("RESERVED", S.RESERVED),
        ("UNKNOWN", S.UNKNOWN),
        ("SOMETHING_NEW", S.UNKNOWN),
    ],
)
def test_status_map(ocpi: str, status: domain.ConnectorStatus) -> None:
    assert mapping.connector_status(ocpi) is status


@pytest.mark.parametrize(
    ("standard", "kind"),
    [
        ("IEC_62196_T2", T.TYPE2),
        ("IEC_62196_T2_COMBO", T.CCS2),
        ("IEC_62196_T1", T.TYPE1),
        ("IEC_62196_T1_COMBO", T.CCS1),
        ("CHADEMO", T.CHADEMO),
        ("GBT_AC", T.GBT_AC),
        ("GBT_DC", T.GBT_DC),
        ("DOMESTIC_F", T.DOMESTIC),
        ("DOMESTIC_O", T.DOMESTIC),
        ("TESLA_S", T.TESLA),
        ("TESLA_R", T.TESLA),
        ("IEC_60309_2_three_32", T.OTHER),
        ("PANTOGRAPH_TOP_DOWN", T.OTHER),
        ("CHAOJI", T.OTHER),
    ],
)
def test_connector_type_map(standard: str, kind: domain.ConnectorType) -> None:
    assert mapping.connector_type(standard) is kind


def test_unknown_standard_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert mapping.connector_type("MAGIC_PLUG") is T.OTHER
    assert "MAGIC_PLUG" in caplog.text


@pytest.mark.parametrize(
    ("power_type", "volts", "amps", "watts", "kw"),
    [
        ("AC_1_PHASE", 230, 16, None, 3.68),
        ("AC_3_PHASE", 230, 32, None, 22.08),
        ("AC_2_PHASE", 230, 16, None, 7.36),
        ("DC", 500, 125, None, 62.5),
        ("DC", 920, 300, 150000, 150.0),
    ],
)
def test_power(power_type: str, volts: int, amps: int, watts: int | None, kw: float) -> None:
    conn = Connector(
        id="1",
        standard="X",
        format="CABLE",
        power_type=power_type,
        max_voltage=volts,
        max_amperage=amps,
        max_electric_power=watts,
        last_updated=codec.parse_datetime("2024-01-01T00:00:00Z"),
    )
    assert mapping.max_power_kw(conn) == pytest.approx(kw)
    assert mapping.power_type(power_type)[0] is (
        domain.PowerType.DC if power_type == "DC" else domain.PowerType.AC
    )


@pytest.mark.parametrize("parts", [("LOC1", "3256", "1"), ("A*B", "E/1", "%2"), ("x y", "ü", "1")])
def test_connector_key_round_trips(parts: tuple[str, str, str]) -> None:
    key = mapping.connector_key(*parts)
    assert key.count("*") == 2
    assert mapping.split_connector_key(key) == parts


@pytest.mark.parametrize("bad", ["", "a*b", "a**c", "a*b*c*d"])
def test_bad_connector_key(bad: str) -> None:
    with pytest.raises(ValueError):
        mapping.split_connector_key(bad)


def test_location_to_station() -> None:
    station = mapping.location_to_station("BEBEC", _load(Location, "location_example.json"))
    assert (station.id, station.name, station.timezone) == ("LOC1", "Gent Zuid", "Europe/Brussels")
    assert station.location == domain.GeoPoint(51.047599, 3.729944)
    assert station.address == "F.Rooseveltlaan 3A, 9000, Gent"
    assert [c.id for c in station.connectors] == ["LOC1*3256*1", "LOC1*3256*2", "LOC1*3257*1"]
    assert {c.type for c in station.connectors} == {T.TYPE2}
    assert station.connectors[0].max_power_kw == pytest.approx(10.56)  # 220 V × 16 A × 3 phases
    assert station.connectors[0].name == "BE*BEC*E041503001"
    states = mapping.connector_states(_load(Location, "location_example.json"), domain.StatusSource.POLL)
    assert states["LOC1*3257*1"].status is S.RESERVED


def test_bad_time_zone_falls_back_to_utc() -> None:
    assert mapping.timezone("Mars/Olympus") == "UTC"


def test_tariff_to_domain_energy_and_extras() -> None:
    tariff = mapping.tariff_to_domain(_load(Tariff, "tariff_10_025kwh_parking_start.json"), "Europe/Berlin")
    assert tariff.periods == (domain.TariffPeriod(time(0), Decimal("0.25") * Decimal("1.1"), Decimal("0")),)
    assert set(tariff.extras) == {
        domain.TariffExtra("FLAT", Decimal("0.50") * Decimal("1.2"), "session"),
        domain.TariffExtra("PARKING", Decimal("2.00") * Decimal("1.2"), "hour"),
    }


def test_tariff_without_vat_and_time_only() -> None:
    tariff = mapping.tariff_to_domain(_load(Tariff, "tariff_14_step_size.json"), "Europe/Berlin")
    assert [p.energy_per_kwh for p in tariff.periods] == [Decimal("0")]
    assert {e.amount for e in tariff.extras if e.kind == "TIME"} == {Decimal("1.20"), Decimal("2.40")}


def test_conditional_energy_elements_use_the_fallback() -> None:
    tariff = mapping.tariff_to_domain(_load(Tariff, "tariffrestriction_example_max_power.json"), "UTC")
    assert tariff.price_at(time(12)).energy_per_kwh == Decimal("0.50") * Decimal("1.2")


def test_session_to_progress() -> None:
    progress = mapping.session_to_progress(_load(Session, "session_example_2_short_finished.json"), "ref")
    assert progress.phase is domain.SessionPhase.COMPLETED
    assert progress.connector_id == "LOC1*3256*1"
    assert progress.energy_kwh == Decimal("41.12") and progress.cost == Decimal("9.35")
    pending = mapping.session_to_progress(_load(Session, "session_example_1_simple_start.json"), "ref")
    assert (pending.phase, pending.cost) == (domain.SessionPhase.STARTING, Decimal("2.5"))


def test_cdr_to_order() -> None:
    order = mapping.cdr_to_order(_load(Cdr, "cdr_example.json"), "ref")
    assert (order.total, order.currency, order.energy_kwh) == (Decimal("4.40"), "EUR", Decimal("15.342"))
    assert [(line.kind, line.amount) for line in order.lines] == [("TIME", Decimal("4.40"))]
    assert order.connector_id == "LOC1*3256*1"
