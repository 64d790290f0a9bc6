"""Red team against the T/CEC push receiver: replayed, stale, misdirected and malformed envelopes
are refused with the spec's Ret and change nothing; fresh ones are taken, on every replica."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from operators.domain import ConnectorState, FinalOrder, SessionProgress
from operators.state import MemoryState
from operators.tcec import codec, push_schema
from operators.tcec.fields import MappingError
from operators.tcec.sessions import SessionSeqs
from tests.operators.tcec.helpers import (
    CONNECTOR,
    OPERATOR_ID,
    SECRETS,
    Pusher,
    Sink,
    TcecServer,
    tcec_receiver,
)

STATUS = {
    "StartChargeSeqStat": 2, "ConnectorID": CONNECTOR, "ConnectorStatus": 3, "CurrentA": 10, "VoltageA": 380,
    "Soc": 50, "StartTime": "2026-12-02 10:00:00", "EndTime": "2026-12-02 10:10:00", "TotalPower": 31.2,
    "ElecMoney": 15.1, "SeviceMoney": 7.24, "TotalMoney": 22.34,
}  # fmt: skip
ORDER = {
    "ConnectorID": CONNECTOR, "StartTime": "2026-12-02 10:00:00", "EndTime": "2026-12-02 10:20:00",
    "TotalPower": 3, "TotalElecMoney": 2, "TotalSeviceMoney": 1, "TotalMoney": 3, "StopReason": 0,
}  # fmt: skip


async def _token(pusher: Pusher) -> str:
    answer = await pusher.get_token()
    assert answer.data is not None
    return str(answer.data["AccessToken"])


async def _post(pusher: Pusher, interface: str, envelope: Any, token: str) -> int:
    status, body = await pusher.post(interface, envelope, token)
    assert status == 200
    return codec.parse_response(body, SECRETS).ret


async def test_status_envelope_replayed_as_a_final_bill_is_refused(
    tcec_pusher: Pusher, tcec_sink: Sink, tcec_seqs: SessionSeqs, caplog: pytest.LogCaptureFixture
) -> None:
    token = await _token(tcec_pusher)
    seq = tcec_seqs.seq_for("live-session")
    captured = codec.build_request(OPERATOR_ID, {"StartChargeSeq": seq, **STATUS}, SECRETS)
    assert await _post(tcec_pusher, "notification_equip_charge_status", captured, token) == 0
    [(_, progress)] = tcec_sink.events
    assert isinstance(progress, SessionProgress)
    with caplog.at_level(logging.WARNING, logger="operators.tcec.receiver"):
        # The attack: the same envelope, unchanged, to the final-bill interface, then to itself again.
        assert await _post(tcec_pusher, "notification_charge_order_info", captured, token) == 4004
        assert await _post(tcec_pusher, "notification_equip_charge_status", captured, token) == 4001
        assert await _post(tcec_pusher, "notification_start_charge_result", captured, token) == 4004
    assert [e for _, e in tcec_sink.events] == [progress]  # nothing completed, nothing billed
    assert not any(isinstance(e, FinalOrder) for _, e in tcec_sink.events)
    refusals = [r.getMessage() for r in caplog.records]
    assert len(refusals) == 3 and all(OPERATOR_ID in message for message in refusals)
    assert "replayed" in refusals[1]


async def test_bill_envelope_replayed_to_a_status_or_stop_interface_is_refused(
    tcec_pusher: Pusher, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> None:
    token = await _token(tcec_pusher)
    seq = tcec_seqs.seq_for("billed-session")
    bill = codec.build_request(OPERATOR_ID, {"StartChargeSeq": seq, **ORDER}, SECRETS)
    for interface in ("notification_equip_charge_status", "notification_stop_charge_result"):
        assert await _post(tcec_pusher, interface, bill, token) == 4004
    assert tcec_sink.events == []
    assert await _post(tcec_pusher, "notification_charge_order_info", bill, token) == 0  # the real one
    assert await _post(tcec_pusher, "notification_charge_order_info", bill, token) == 4001
    assert [type(e) for _, e in tcec_sink.events] == [FinalOrder]


@pytest.mark.parametrize(
    ("age", "ret"),
    [
        pytest.param(None, 4001, id="stamped-2020"),
        pytest.param(timedelta(minutes=11), 4001, id="eleven-minutes-old"),
        pytest.param(-timedelta(minutes=11), 4001, id="eleven-minutes-ahead"),
        pytest.param(timedelta(minutes=9), 0, id="nine-minutes-old"),
        pytest.param(-timedelta(minutes=9), 0, id="nine-minutes-ahead"),
    ],
)
async def test_stale_envelopes_are_refused(
    tcec_pusher: Pusher, tcec_sink: Sink, age: timedelta | None, ret: int
) -> None:
    token = await _token(tcec_pusher)
    now = datetime.now(codec.SHANGHAI)
    ts = "20200101120000" if age is None else codec.timestamp(now - age)
    # A CHARGING connector flipped to AVAILABLE by an old capture.
    push = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 1}}
    envelope = codec.build_request(OPERATOR_ID, push, SECRETS, ts=ts)
    assert await _post(tcec_pusher, "notification_stationStatus", envelope, token) == ret
    assert len(tcec_sink.events) == (1 if ret == 0 else 0)


@pytest.mark.parametrize("ts", ["2026120212", "1764660000000", "20261302120000"])
async def test_unreadable_timestamp_is_4003(tcec_pusher: Pusher, tcec_sink: Sink, ts: str) -> None:
    token = await _token(tcec_pusher)
    push = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 1}}
    envelope = codec.build_request(OPERATOR_ID, push, SECRETS, ts=ts)
    assert await _post(tcec_pusher, "notification_stationStatus", envelope, token) == 4003
    assert tcec_sink.events == []


async def test_window_is_configurable(
    tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> None:
    pusher = Pusher(tcec_http, tcec_receiver(tcec_server, tcec_sink, tcec_seqs, push_window_s=60))
    token = await _token(pusher)
    push = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 1}}
    ts = codec.timestamp(datetime.now(codec.SHANGHAI) - timedelta(minutes=2))
    envelope = codec.build_request(OPERATOR_ID, push, SECRETS, ts=ts)
    assert await _post(pusher, "notification_stationStatus", envelope, token) == 4001


async def test_replay_cache_is_shared_by_replicas(
    tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink
) -> None:
    # Two receivers (two replicas' routes for the same partner) over one shared state.
    shared = MemoryState()
    first = TcecServer()
    await first.start()
    try:
        one = Pusher(tcec_http, tcec_receiver(first, tcec_sink, SessionSeqs("MA1AGGR01"), state=shared))
        two = Pusher(tcec_http, tcec_receiver(tcec_server, tcec_sink, SessionSeqs("MA1AGGR01"), state=shared))
        two.seq = one.seq  # one operator: its Seq counter runs across both replicas
        push = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 3}}
        envelope = codec.build_request(OPERATOR_ID, push, SECRETS)
        assert await _post(one, "notification_stationStatus", envelope, await _token(one)) == 0
        assert await _post(two, "notification_stationStatus", envelope, await _token(two)) == 4001
        assert len(tcec_sink.events) == 1
    finally:
        await first.stop()


async def test_a_push_that_failed_inside_may_be_sent_again(tcec_pusher: Pusher, tcec_sink: Sink) -> None:
    token = await _token(tcec_pusher)
    envelope = codec.build_request(
        OPERATOR_ID, {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 3}}, SECRETS
    )
    tcec_sink.fail = True
    assert await _post(tcec_pusher, "notification_stationStatus", envelope, token) == 500
    tcec_sink.fail = False
    assert await _post(tcec_pusher, "notification_stationStatus", envelope, token) == 0
    assert [type(e) for _, e in tcec_sink.events] == [ConnectorState]


@pytest.mark.parametrize("interface", sorted(push_schema.INTERFACES))
def test_each_interface_takes_only_its_own_payload(interface: str) -> None:
    payloads = {
        "query_token": {"OperatorID": OPERATOR_ID, "OperatorSecret": "op-secret-16byte"},
        "notification_stationStatus": {"ConnectorStatusInfo": [{"ConnectorID": CONNECTOR, "Status": "3"}]},
        "notification_start_charge_result": {
            "StartChargeSeq": "s", "StartChargeSeqStat": 2, "ConnectorID": CONNECTOR,
            "StartTime": "2026-12-02 10:00:00",
        },
        "notification_equip_charge_status": {"StartChargeSeq": "s", **STATUS, "TotalPower": "31.2"},
        "notification_stop_charge_result": {
            "StartChargeSeq": "s", "StartChargeSeqStat": 4, "ConnectorID": CONNECTOR, "SuccStat": 0,
        },
        "notification_charge_order_info": {"StartChargeSeq": "s", **ORDER},
        "check_charge_orders": {
            "CheckOrderSeq": "c", "StartTime": "2026-12-01 00:00:00", "EndTime": "2026-12-01 23:59:59",
            "OrderCount": 0, "TotalOrderPower": 0, "TotalOrderMoney": 0, "ChargeOrders": [],
        },
    }  # fmt: skip
    for other, payload in payloads.items():
        if other == interface:
            push_schema.validate(interface, payload)  # string numbers are fine (§4)
        else:
            with pytest.raises(MappingError):
                push_schema.validate(interface, payload)


@pytest.mark.parametrize(
    ("interface", "payload", "wrong"),
    [
        ("notification_equip_charge_status", {"StartChargeSeq": "s", **STATUS}, {"TotalPower": "lots"}),
        ("notification_equip_charge_status", {"StartChargeSeq": "s", **STATUS}, {"StartTime": "noon"}),
        ("notification_charge_order_info", {"StartChargeSeq": "s", **ORDER}, {"StopReason": "user"}),
        ("notification_charge_order_info", {"StartChargeSeq": "s", **ORDER}, {"ChargeDetails": "none"}),
    ],
)
def test_field_types_are_checked(interface: str, payload: dict[str, Any], wrong: dict[str, Any]) -> None:
    push_schema.validate(interface, payload)
    with pytest.raises(MappingError, match=next(iter(wrong))):
        push_schema.validate(interface, payload | wrong)
