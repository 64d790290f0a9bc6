"""T/CEC → domain mapping, parametrised over the recorded payloads in ``payloads/``.

Each payload file holds a decrypted ``Data`` object (as a partner sent it: alias spellings,
lowercase-first keys, numbers as strings) and what the domain objects must look like. Payloads go
through the same :meth:`Profile.normalise` step the client and the receiver apply.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from operators.domain import ConnectorStatus, ConnectorType, PowerType, SessionPhase
from operators.tcec import mapping, sessions
from operators.tcec.fields import MappingError, field_decimal, field_int, parse_datetime
from operators.tcec.profile import PRESETS

PAYLOADS = Path(__file__).parent / "payloads"
OPERATOR_ID = "MA1G55M8X"
SEQ = "MA1G55M8X123456789012345678"


def _payloads(kind: str) -> list[Any]:
    cases = []
    for path in sorted(PAYLOADS.glob("*.json")):
        case = json.loads(path.read_text("utf-8"))
        if case["kind"] == kind:
            cases.append(pytest.param(PRESETS["2016"].normalise(case["data"]), case["expect"], id=path.stem))
    assert cases, f"no {kind} payloads"
    return cases


@pytest.mark.parametrize(("data", "expect"), _payloads("stations"))
def test_stations(data: dict[str, Any], expect: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    stations = mapping.parse_stations(data["StationInfos"], OPERATOR_ID)

    assert len([r for r in caplog.records if "skipping malformed" in r.message]) == expect["skipped"]
    assert [s.id for s in stations] == [s["id"] for s in expect["stations"]]
    for station, want in zip(stations, expect["stations"], strict=True):
        assert station.operator_id == OPERATOR_ID
        assert (station.name, station.address) == (want["name"], want["address"])
        assert station.location.lat == pytest.approx(want["lat"])
        assert station.location.lon == pytest.approx(want["lon"])
        assert (station.timezone, station.updated_at) == ("Asia/Shanghai", None)
        got = [
            {
                "id": c.id,
                "type": c.type.value,
                "power_type": c.power_type.value,
                "max_power_kw": c.max_power_kw,
                "name": c.name,
            }
            for c in station.connectors
        ]
        assert got == want["connectors"]
        for connector in station.connectors:
            assert connector.station_id == station.id
            assert connector.qr_code == f"hlht://{connector.id}.{OPERATOR_ID}/"


@pytest.mark.parametrize(("data", "expect"), _payloads("status"))
def test_connector_statuses(data: dict[str, Any], expect: dict[str, Any]) -> None:
    got = {cid: status.value for cid, status in mapping.parse_connector_status_infos(data)}
    assert got == expect["statuses"]


@pytest.mark.parametrize(("data", "expect"), _payloads("tariff"))
def test_tariffs(data: dict[str, Any], expect: dict[str, Any]) -> None:
    tariff = mapping.parse_tariff(data)
    assert (tariff.currency, tariff.timezone) == ("CNY", "Asia/Shanghai")
    got = [(p.start, p.energy_per_kwh, p.service_per_kwh) for p in tariff.periods]
    want = [(time.fromisoformat(s), Decimal(e), Decimal(v)) for s, e, v in expect["periods"]]
    assert got == want
    assert all(isinstance(p.energy_per_kwh, Decimal) for p in tariff.periods)


@pytest.mark.parametrize(("data", "expect"), _payloads("progress"))
def test_progress(data: dict[str, Any], expect: dict[str, Any]) -> None:
    progress = sessions.parse_progress(data, "ref-1")
    assert progress.session_ref == "ref-1"
    assert progress.phase.value == expect["phase"]
    assert progress.energy_kwh == Decimal(expect["energy_kwh"])
    assert progress.cost == Decimal(expect["cost"])
    assert progress.power_kw == pytest.approx(expect["power_kw"])
    assert progress.soc == expect["soc"]
    assert progress.started_at == datetime.fromisoformat(expect["started_at"])
    assert progress.updated_at == datetime.fromisoformat(expect["updated_at"])
    assert progress.ended_at is None


@pytest.mark.parametrize(("data", "expect"), _payloads("order"))
def test_orders(data: dict[str, Any], expect: dict[str, Any]) -> None:
    order = sessions.parse_order(data, "ref-1")
    assert (order.session_ref, order.currency) == ("ref-1", "CNY")
    assert order.total == Decimal(expect["total"])
    assert order.energy_kwh == Decimal(expect["energy_kwh"])
    assert order.stop_reason == expect["stop_reason"]
    assert order.started_at == datetime.fromisoformat(expect["started_at"])
    assert order.ended_at == datetime.fromisoformat(expect["ended_at"])
    want = [(k, Decimal(a), None if p is None else Decimal(p)) for k, a, p in expect["lines"]]
    assert [(line.kind, line.amount, line.unit_price) for line in order.lines] == want
    assert sum(line.amount for line in order.lines) == order.total


def test_unknown_status_is_unknown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert mapping.parse_connector_status(7) is ConnectorStatus.UNKNOWN
        assert mapping.parse_connector_status("x") is ConnectorStatus.UNKNOWN
    assert len(caplog.records) == 2


@pytest.mark.parametrize(
    ("equipment_type", "connector_type", "want"),
    [
        (1, ConnectorType.GBT_AC, PowerType.DC),
        (2, ConnectorType.GBT_DC, PowerType.AC),
        (3, ConnectorType.GBT_DC, PowerType.DC),
        (3, ConnectorType.GBT_AC, PowerType.AC),
        ("3", ConnectorType.GBT_DC, PowerType.DC),
        (None, ConnectorType.DOMESTIC, PowerType.AC),
    ],
)
def test_power_type(equipment_type: object, connector_type: ConnectorType, want: PowerType) -> None:
    assert mapping.parse_power_type(equipment_type, connector_type) is want


def test_empty_tariff_is_malformed() -> None:
    with pytest.raises(MappingError, match="PolicyInfos"):
        mapping.parse_tariff({"SuccStat": 0, "PolicyInfos": []})
    with pytest.raises(MappingError, match="StartTime"):
        mapping.parse_tariff({"PolicyInfos": [{"StartTime": "250000", "ElecPrice": 1}]})


@pytest.mark.parametrize(
    ("stat", "phase"),
    [
        (1, SessionPhase.STARTING),
        (2, SessionPhase.CHARGING),
        (4, SessionPhase.FAILED),
        (5, SessionPhase.FAILED),
    ],
)
def test_start_result_phase(stat: int, phase: SessionPhase) -> None:
    data = {
        "StartChargeSeq": SEQ,
        "StartChargeSeqStat": stat,
        "ConnectorID": "c1",
        "StartTime": "2024-05-01 10:00:00",
    }
    progress = sessions.parse_start_result(data, "ref")
    assert progress.phase is phase
    assert (progress.failure is not None) == (phase is SessionPhase.FAILED)


@pytest.mark.parametrize(
    ("data", "phase", "failed"),
    [
        ({"StartChargeSeqStat": 4, "SuccStat": 0, "FailReason": 0}, SessionPhase.COMPLETED, False),
        ({"StartChargeSeqStat": 4, "SuccStat": 1, "FailReason": 3}, SessionPhase.COMPLETED, False),
        ({"StartChargeSeqStat": 2, "SuccStat": 1, "FailReason": 2}, SessionPhase.CHARGING, True),
    ],
)
def test_stop_result_phase(data: dict[str, Any], phase: SessionPhase, failed: bool) -> None:
    progress = sessions.parse_stop_result({"StartChargeSeq": SEQ, "ConnectorID": "c1", **data}, "ref")
    assert progress.phase is phase
    assert (progress.failure is not None) is failed


def test_command_failure() -> None:
    assert sessions.command_failure({"SuccStat": 0}, stop=False) is None
    assert sessions.command_failure({"SuccStat": 1, "FailReason": 2}, stop=False) == "device offline"
    assert sessions.command_failure({"SuccStat": "1", "FailReason": 3}, stop=True) is None
    assert sessions.command_failure({"SuccStat": 1, "FailReason": 3}, stop=False) == "FailReason 3"


def test_an_18_digit_session_ref_is_the_seq_suffix_both_ways() -> None:
    ref = "202611241530000042"
    seq = sessions.start_charge_seq(OPERATOR_ID, ref)
    assert seq == OPERATOR_ID + ref and len(seq) == 27
    fresh = sessions.SessionSeqs(OPERATOR_ID)  # e.g. after a restart: nothing memoised
    assert fresh.ref_for(seq) == ref
    assert fresh.ref_for("OTHERONE1" + ref) is None


def test_start_charge_seq_is_deterministic_and_reversible_through_the_memo() -> None:
    seq = sessions.start_charge_seq(OPERATOR_ID, "session-42")
    assert seq == sessions.start_charge_seq(OPERATOR_ID, "session-42")
    assert len(seq) == 27 and seq.startswith(OPERATOR_ID) and seq[9:].isdigit()
    assert seq != sessions.start_charge_seq(OPERATOR_ID, "session-43")
    memo = sessions.SessionSeqs(OPERATOR_ID, capacity=2)
    assert memo.seq_for("session-42") == seq
    assert memo.ref_for(seq) == "session-42"
    memo.seq_for("a"), memo.seq_for("b")
    # Bounded: the oldest entry went, so only the bare digits are left (they match no session).
    assert memo.ref_for(seq) == seq[9:]


@pytest.mark.parametrize(
    ("value", "want"),
    [(1, Decimal("1")), ("12.30", Decimal("12.30")), (0.1, Decimal("0.1")), (" 3 ", Decimal("3"))],
)
def test_field_decimal_is_exact(value: object, want: Decimal) -> None:
    got = field_decimal({"v": value}, "v")
    assert got == want and str(got) == str(want)


@pytest.mark.parametrize("value", [None, True, "abc", "NaN", [1]])
def test_field_decimal_rejects(value: object) -> None:
    with pytest.raises(MappingError, match="v"):
        field_decimal({"v": value}, "v")


def test_field_int_and_datetime() -> None:
    assert field_int({"n": "7"}, "n") == 7 and field_int({"n": 7.0}, "n") == 7
    assert field_int({}, "n", 3) == 3
    assert parse_datetime("20240501100000") == parse_datetime("2024-05-01 10:00:00")
    assert parse_datetime("2024-05-01 10:00:00").utcoffset().total_seconds() == 8 * 3600
    with pytest.raises(MappingError):
        parse_datetime("yesterday")
