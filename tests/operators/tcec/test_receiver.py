"""The aggregator-side push endpoints, served by uvicorn on loopback and called over real HTTP.

Valid pushes reach the sink exactly once; every bad one gets a signed protocol error with HTTP 200.
The last tests run the whole loop: the simulator pushes to the adapter's own routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from starlette.routing import Mount

from operators.domain import (
    ConnectorState,
    ConnectorStatus,
    FinalOrder,
    SessionPhase,
    SessionProgress,
    StatusSource,
)
from operators.tcec import codec
from operators.tcec.adapter import build
from operators.tcec.profile import Profile
from operators.tcec.sessions import SessionSeqs
from operators.tcec.sim.server import TcecSimulator
from tests.operators.tcec.helpers import (
    CONNECTOR,
    OPERATOR_ID,
    OPERATOR_SECRET,
    OUR_ID,
    SECRETS,
    Pusher,
    Sink,
    TcecServer,
    tcec_eventually,
    tcec_receiver,
)

SimFactory = Callable[..., Awaitable[TcecSimulator]]

# --- query_token ---------------------------------------------------------------------------------------


async def test_query_token_issues_a_token(tcec_pusher: Pusher) -> None:
    answer = await tcec_pusher.get_token()
    assert answer.ret == 0 and answer.data is not None
    assert answer.data["SuccStat"] == 0 and answer.data["FailReason"] == 0
    assert answer.data["TokenAvailableTime"] == 7200
    assert len(answer.data["AccessToken"]) >= 32
    again = await tcec_pusher.get_token()  # 2016 profile: re-issue returns the valid token
    assert again.data is not None and again.data["AccessToken"] == answer.data["AccessToken"]
    assert 7190 <= again.data["TokenAvailableTime"] <= 7200  # what is left of it


async def test_query_token_reissue_new_revokes_the_old_token(
    tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> None:
    profile = Profile(token_reissue="new")
    pusher = Pusher(tcec_http, tcec_receiver(tcec_server, tcec_sink, tcec_seqs, profile))
    first = (await pusher.get_token()).data
    second = (await pusher.get_token()).data
    assert first is not None and second is not None and first["AccessToken"] != second["AccessToken"]
    push = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 1}}
    assert (await pusher.call("notification_stationStatus", push, token=first["AccessToken"])).ret == 4002
    assert (await pusher.call("notification_stationStatus", push, token=second["AccessToken"])).ret == 0


@pytest.mark.parametrize(
    ("payload", "fail_reason"),
    [
        ({"OperatorID": OPERATOR_ID, "OperatorSecret": "wrong-secret-16b"}, 2),
        ({"OperatorID": "OTHER0001", "OperatorSecret": OPERATOR_SECRET}, 1),
    ],
)
async def test_query_token_refusals(tcec_pusher: Pusher, payload: dict[str, str], fail_reason: int) -> None:
    answer = await tcec_pusher.call("query_token", payload)
    assert answer.ret == 0 and answer.data is not None
    assert (answer.data["SuccStat"], answer.data["FailReason"], answer.data["AccessToken"]) == (
        1,
        fail_reason,
        "",
    )


async def test_query_token_with_bad_signature(tcec_pusher: Pusher) -> None:
    wrong = codec.Secrets(SECRETS.data_secret, SECRETS.data_iv, "another-sig-key!")
    answer = await tcec_pusher.call(
        "query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": OPERATOR_SECRET}, secrets=wrong
    )
    assert (answer.ret, answer.data) == (4001, None)


# --- notification_stationStatus --------------------------------------------------------------------------


async def test_station_status_push_reaches_the_sink(tcec_pusher: Pusher, tcec_sink: Sink) -> None:
    answer = await tcec_pusher.push(
        "notification_stationStatus",
        {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 3, "ParkStatus": 50, "LockStatus": 0}},
    )
    assert (answer.ret, answer.data) == (0, {"Status": 0})
    [(operator_id, event)] = tcec_sink.events
    assert operator_id == OPERATOR_ID
    assert isinstance(event, ConnectorState)
    assert (event.connector_id, event.status, event.source) == (
        CONNECTOR,
        ConnectorStatus.CHARGING,
        StatusSource.PUSH,
    )
    assert event.observed_at.tzinfo is not None


async def test_vector_c2_push_is_accepted(
    tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> None:
    # Spec §9 vector C2's exact plaintext and TimeStamp, from real 2018 test-environment traffic,
    # to a receiver whose clock reads that moment (the freshness window would refuse it today).
    then = datetime(2018, 8, 23, 8, 35, 37, tzinfo=codec.SHANGHAI)
    pusher = Pusher(
        tcec_http, tcec_receiver(tcec_server, tcec_sink, tcec_seqs, now=lambda: then), lambda: then
    )
    plaintext = (
        b'{"ConnectorStatusInfo":{"ConnectorID":"11000000000000090000341000",'
        b'"Status":3,"ParkStatus":50,"LockStatus":0}}'
    )
    token = (await pusher.get_token()).data["AccessToken"]  # type: ignore[index]
    data = codec.encrypt(plaintext, SECRETS)
    body = {"OperatorID": OPERATOR_ID, "Data": data, "TimeStamp": "20180823083537", "Seq": "0001"}
    body["Sig"] = codec.request_sig(OPERATOR_ID, data, body["TimeStamp"], body["Seq"], SECRETS)
    status, envelope = await pusher.post("notification_stationStatus", body, token)
    assert status == 200
    assert codec.parse_response(envelope, SECRETS).data == {"Status": 0}
    assert [e.status for _, e in tcec_sink.events] == [ConnectorStatus.CHARGING]


def _signed(payload: dict[str, Any] | None = None, *, data: str | None = None) -> dict[str, str]:
    """An envelope signed correctly around ``payload`` or around raw ``data``."""
    if data is None:
        return codec.build_request(OPERATOR_ID, payload or {}, SECRETS)
    body = {"OperatorID": OPERATOR_ID, "Data": data, "TimeStamp": codec.timestamp(), "Seq": "0001"}
    return body | {"Sig": codec.request_sig(OPERATOR_ID, data, body["TimeStamp"], body["Seq"], SECRETS)}


GOOD = {"ConnectorStatusInfo": {"ConnectorID": CONNECTOR, "Status": 1}}


@pytest.mark.parametrize(
    ("make_body", "use_token", "ret"),
    [
        pytest.param(lambda: _signed(GOOD) | {"Sig": "0" * 32}, True, 4001, id="bad-signature"),
        pytest.param(
            lambda: _signed(GOOD) | {"Sig": _signed(GOOD)["Sig"].lower()},
            True,
            4001,
            id="lowercase-signature",
        ),
        pytest.param(lambda: _signed(GOOD) | {"OperatorID": "OTHER0001"}, True, 4001, id="other-operator-id"),
        pytest.param(lambda: _signed(GOOD), False, 4002, id="no-token"),
        pytest.param(lambda: _signed(GOOD), "not-a-token", 4002, id="unknown-token"),
        pytest.param(lambda: b"{not json", True, 4003, id="not-json"),
        pytest.param(
            lambda: {"OperatorID": OPERATOR_ID, "Data": "x"}, True, 4003, id="missing-envelope-fields"
        ),
        pytest.param(lambda: _signed(data="%%not-base64%%"), True, 4003, id="not-base64"),
        pytest.param(
            lambda: _signed(data=codec.encrypt(b"<html>", SECRETS)), True, 4003, id="not-json-inside"
        ),
        pytest.param(lambda: _signed({"Unrelated": 1}), True, 4004, id="no-status-info"),
        pytest.param(
            lambda: _signed({"ConnectorStatusInfo": {"Status": 1}}), True, 4004, id="no-connector-id"
        ),
        pytest.param(lambda: _signed({"ConnectorStatusInfo": "x"}), True, 4004, id="not-an-object"),
    ],
)
async def test_bad_pushes_get_signed_errors_and_never_reach_the_sink(
    tcec_pusher: Pusher, tcec_sink: Sink, make_body: Callable[[], Any], use_token: bool | str, ret: int
) -> None:
    token = (await tcec_pusher.get_token()).data["AccessToken"]  # type: ignore[index]
    status, envelope = await tcec_pusher.post(
        "notification_stationStatus",
        make_body(),  # built now: a TimeStamp from collection time could leave the freshness window
        use_token if isinstance(use_token, str) else token if use_token else None,
    )
    assert status == 200
    answer = codec.parse_response(envelope, SECRETS)  # signed, even when refusing
    assert (answer.ret, answer.data) == (ret, None)
    assert tcec_sink.events == []
    # ...and a good push right after still works.
    assert (await tcec_pusher.call("notification_stationStatus", GOOD, token=token)).ret == 0
    assert len(tcec_sink.events) == 1


async def test_failing_sink_is_ret_500_not_http_500(tcec_pusher: Pusher, tcec_sink: Sink) -> None:
    tcec_sink.fail = True
    answer = await tcec_pusher.push("notification_stationStatus", GOOD)
    assert (answer.ret, answer.data) == (500, None)


async def test_get_is_not_a_server_error(tcec_pusher: Pusher, tcec_http: aiohttp.ClientSession) -> None:
    async with tcec_http.get(f"{tcec_pusher.base}/notification_stationStatus") as resp:
        assert resp.status == 405


# --- session pushes ---------------------------------------------------------------------------------------


async def test_session_pushes_map_back_to_the_session_ref(
    tcec_pusher: Pusher, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> None:
    seq = tcec_seqs.seq_for("session-7")
    base = {"StartChargeSeq": seq, "ConnectorID": CONNECTOR}
    answer = await tcec_pusher.push(
        "notification_start_charge_result",
        base | {"StartChargeSeqStat": 2, "StartTime": "2024-05-01 10:00:00", "IdentCode": ""},
    )
    assert answer.data == {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}
    answer = await tcec_pusher.push(
        "notification_equip_charge_status",
        base | {"StartChargeSeqStat": 2, "ConnectorStatus": 3, "CurrentA": 10, "VoltageA": 380, "Soc": 50,
                "StartTime": "2024-05-01 10:00:00", "EndTime": "2024-05-01 10:10:00", "TotalPower": "1.5",
                "ElecMoney": 0.9, "ServiceMoney": 0.6, "TotalMoney": 1.5},
    )  # fmt: skip
    assert answer.data == {"StartChargeSeq": seq, "SuccStat": 0}
    answer = await tcec_pusher.push(
        "notification_stop_charge_result", base | {"StartChargeSeqStat": 4, "SuccStat": 0, "FailReason": 0}
    )
    assert answer.data == {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}
    answer = await tcec_pusher.push(
        "notification_charge_order_info",
        base | {"StartTime": "2024-05-01 10:00:00", "EndTime": "2024-05-01 10:20:00", "TotalPower": 3.0,
                "TotalElecMoney": 1.8, "TotalSeviceMoney": 1.2, "TotalMoney": 3.0, "StopReason": 1},
    )  # fmt: skip
    assert answer.data == {"StartChargeSeq": seq, "ConnectorID": CONNECTOR, "ConfirmResult": 0}

    events = [event for _, event in tcec_sink.events]
    assert [type(e) for e in events] == [SessionProgress] * 3 + [FinalOrder]
    assert {e.session_ref for e in events} == {"session-7"}
    assert [e.phase for e in events[:3]] == [
        SessionPhase.CHARGING,
        SessionPhase.CHARGING,
        SessionPhase.COMPLETED,
    ]
    assert events[1].cost == Decimal("1.5") and events[1].energy_kwh == Decimal("1.5")
    assert events[3].total == Decimal("3.0") and events[3].stop_reason == "AGGREGATOR"


async def test_pushes_for_an_unknown_session(tcec_pusher: Pusher, tcec_sink: Sink) -> None:
    seq = f"ZZZZZZZZZ{'9' * 18}"  # not one of ours: we never issued a seq with another prefix
    base = {"StartChargeSeq": seq, "ConnectorID": CONNECTOR}
    progress = await tcec_pusher.push(
        "notification_stop_charge_result", base | {"StartChargeSeqStat": 4, "SuccStat": 0}
    )
    assert progress.data is not None and progress.data["SuccStat"] == 0
    order = await tcec_pusher.push(
        "notification_charge_order_info",
        base | {"StartTime": "2024-05-01 10:00:00", "EndTime": "2024-05-01 10:20:00", "TotalPower": 3,
                "TotalElecMoney": 2, "TotalSeviceMoney": 1, "TotalMoney": 3, "StopReason": 0},
    )  # fmt: skip
    assert order.data is not None and order.data["ConfirmResult"] == 1  # §5.11: re-push later
    malformed = await tcec_pusher.push("notification_charge_order_info", base)
    assert malformed.ret == 4004
    assert tcec_sink.events == []


async def test_check_charge_orders_answers_no_disputes(tcec_pusher: Pusher) -> None:
    # Spec §9 vector C3's reconciliation payload (shortened to two orders).
    payload = {
        "CheckOrderSeq": "740415113000000000020180822",
        "StartTime": "2018-08-22 00:00:00",
        "EndTime": "2018-08-22 23:59:59",
        "OrderCount": 2,
        "TotalOrderMoney": 1.89,
        "TotalOrderPower": 1.2,
        "ChargeOrders": [
            {"TotalPower": 0.90, "StartChargeSeq": "313744932180822000000000007", "TotalMoney": 1.42},
            {"TotalPower": 0.30, "StartChargeSeq": "313744932180822000000000014", "TotalMoney": 0.47},
        ],
    }
    answer = await tcec_pusher.push("check_charge_orders", payload)
    assert answer.data == {
        "CheckOrderSeq": "740415113000000000020180822",
        "StartTime": "2018-08-22 00:00:00",
        "EndTime": "2018-08-22 23:59:59",
        "TotalDisputeOrder": 0,
        "TotalDisputePower": 0,
        "TotalDisputeMoney": 0,
        "DisputeOrders": [],
    }


# --- the whole loop: simulator → adapter routes → sink -----------------------------------------------------


async def tcec_loop(
    sim_start: SimFactory, server: TcecServer, http: aiohttp.ClientSession, sink: Sink
) -> tuple[Any, TcecSimulator]:
    """A simulator pushing to an adapter whose routes the server mounts, as the gateway would."""
    sim = await sim_start(
        operator_id=OPERATOR_ID,
        operator_secret=OPERATOR_SECRET,
        secrets=SECRETS,
        aggregator_operator_id=OUR_ID,
        notify_url=f"{server.url}/push/tcec/{OPERATOR_ID}",
        start_delay_s=0.01,
        charge_push_interval_s=0.05,
        time_acceleration=60.0,
        unplug_delay_s=0.01,
    )
    config = {
        "id": OPERATOR_ID,
        "name": "Simulated operator",
        "base_url": sim.base_url,
        "our_operator_id": OUR_ID,
        "operator_secret": OPERATOR_SECRET,
        "data_secret": SECRETS.data_secret,
        "data_iv": SECRETS.data_iv,
        "sig_secret": SECRETS.sig_secret,
    }
    operator = build(config, http, sink, server.url)
    push = operator.push_app()
    server.app.router.routes.append(Mount(push.prefix, push.app))
    return operator, sim


async def test_simulator_status_push_reaches_the_sink(
    sim_start: SimFactory, tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink
) -> None:
    _, sim = await tcec_loop(sim_start, tcec_server, tcec_http, tcec_sink)
    connector = next(iter(sim.network.by_connector))
    assert await sim.set_connector_status(connector, 255)  # acknowledged with Status 0
    [(operator_id, event)] = tcec_sink.events
    assert operator_id == OPERATOR_ID
    assert isinstance(event, ConnectorState) and event.source is StatusSource.PUSH
    assert (event.connector_id, event.status) == (connector, ConnectorStatus.FAULTED)


async def test_simulated_session_ends_in_a_final_order(
    sim_start: SimFactory, tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink
) -> None:
    operator, sim = await tcec_loop(sim_start, tcec_server, tcec_http, tcec_sink)
    connector = next(c for c in sim.network.by_connector.values() if c.status == 1)

    def pushed(kind: type) -> list[Any]:
        return [event for _, event in tcec_sink.events if isinstance(event, kind)]

    started = await operator.start_session("ride-1", connector.id)
    assert started.phase is SessionPhase.STARTING
    await tcec_eventually(lambda: any(p.energy_kwh > 0 for p in pushed(SessionProgress)))
    stopping = await operator.stop_session("ride-1", connector.id)
    assert stopping.phase is SessionPhase.STOPPING
    await tcec_eventually(lambda: bool(pushed(FinalOrder)))

    progress = pushed(SessionProgress)
    assert {p.session_ref for p in progress} == {"ride-1"}
    assert progress[0].phase is SessionPhase.CHARGING  # the start result
    assert progress[-1].phase is SessionPhase.COMPLETED  # the stop result
    [order] = pushed(FinalOrder)
    assert (order.session_ref, order.connector_id, order.currency) == ("ride-1", connector.id, "CNY")
    assert order.total == sum(line.amount for line in order.lines) > 0
    assert {line.kind for line in order.lines} == {"ENERGY", "SERVICE"}
    await tcec_eventually(lambda: sim.pushes["notification_charge_order_info"] == 1)  # ConfirmResult 0
    statuses = [e.status for e in pushed(ConnectorState) if e.connector_id == connector.id]
    assert statuses[0] is ConnectorStatus.CHARGING
