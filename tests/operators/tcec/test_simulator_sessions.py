"""The simulator's pushes and charging sessions, end to end against a tiny aggregator receiver."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from operators.tcec import codec
from operators.tcec.sim.network import PolicyPeriod, SimConnector
from operators.tcec.sim.sessions import ChargeSession

FAST = {
    "time_acceleration": 600.0,
    "charge_push_interval_s": 0.2,
    "start_delay_s": 0.05,
    "unplug_delay_s": 0.2,
    "order_retry_s": 0.05,
}


def _idle_connector(sim, dc: bool = True):
    return next(c for c in sim.network.by_connector.values() if c.status == 1 and c.is_dc == dc)


def _seq(n: int) -> str:
    return f"MA1AGGR01{n:018d}"  # §4: caller's OperatorID + 18 unique chars


async def test_status_push_reaches_the_aggregator(sim_start, sim_receiver):
    sim = await sim_start(notify_url=sim_receiver.url)
    connector = _idle_connector(sim)
    assert await sim.set_connector_status(connector.id, 255) is True
    pushes = await sim_receiver.wait_for("notification_stationStatus")
    assert pushes[0] == {"ConnectorStatusInfo": {"ConnectorID": connector.id, "Status": 255, "ParkStatus": 10,
                                                 "LockStatus": 0}}  # fmt: skip
    assert await sim.set_connector_status(connector.id, 1) is True
    assert sim_receiver.token_requests == 1  # the aggregator's token is cached
    assert sim.pushes["notification_stationStatus"] == 2


async def test_push_refreshes_a_stale_token_once(sim_start, sim_receiver):
    sim = await sim_start(notify_url=sim_receiver.url)
    connector = _idle_connector(sim)
    assert await sim.set_connector_status(connector.id, 2)
    sim_receiver.token = "rotated-token"  # the cached one now gets Ret 4002
    assert await sim.set_connector_status(connector.id, 1)
    assert sim_receiver.token_requests == 2


async def test_push_failure_does_not_break_the_simulator(sim_start, sim_client_for):
    sim = await sim_start(notify_url="http://127.0.0.1:9/nowhere")  # discard port: connection refused
    connector = _idle_connector(sim)
    assert await sim.set_connector_status(connector.id, 0) is False
    assert connector.status == 0  # the change itself still happened
    data = await sim_client_for(sim).query("query_station_status", {"StationIDs": [connector.station_id]})
    assert data["Total"] == 1


async def test_status_changes_over_time(sim_start, sim_receiver):
    sim = await sim_start(notify_url=sim_receiver.url, status_change_interval_s=0.02)
    pushes = await sim_receiver.wait_for("notification_stationStatus", 3)
    assert all(p["ConnectorStatusInfo"]["ConnectorID"] in sim.network.by_connector for p in pushes)


async def test_full_session_start_progress_stop_order(sim_start, sim_receiver, sim_client_for):
    sim = await sim_start(notify_url=sim_receiver.url, **FAST)
    client = sim_client_for(sim)
    connector = _idle_connector(sim)
    seq = _seq(1)
    auth = await client.query("query_equip_auth", {"EquipAuthSeq": _seq(100), "ConnectorID": connector.id})
    assert auth["SuccStat"] == 0
    sim_receiver.confirm_results = [1]  # dispute the first order push: the simulator must re-push

    started = await client.query("query_start_charge", {"StartChargeSeq": seq, "ConnectorID": connector.id,
                                                        "QRCode": ""})  # fmt: skip
    assert started == {"StartChargeSeq": seq, "ConnectorID": connector.id, "StartChargeSeqStat": 1,
                       "SuccStat": 0, "FailReason": 0}  # fmt: skip
    result = (await sim_receiver.wait_for("notification_start_charge_result"))[0]
    assert result["StartChargeSeq"] == seq and result["StartChargeSeqStat"] == 2
    assert sim_receiver.received["notification_stationStatus"][-1]["ConnectorStatusInfo"]["Status"] == 3

    progress = await sim_receiver.wait_for("notification_equip_charge_status", 2)
    assert progress[0]["StartChargeSeqStat"] == 2 and progress[0]["ConnectorStatus"] == 3
    assert 0 < progress[0]["TotalPower"] < progress[1]["TotalPower"]
    assert progress[0]["Soc"] <= progress[1]["Soc"]

    polled = await client.query("query_equip_charge_status", {"StartChargeSeq": seq})
    assert polled["TotalPower"] >= progress[1]["TotalPower"] and polled["CurrentA"] > 0

    stopped = await client.query("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": connector.id})
    assert stopped["SuccStat"] == 0 and stopped["StartChargeSeqStat"] == 3
    stop_result = (await sim_receiver.wait_for("notification_stop_charge_result"))[0]
    assert stop_result == {"StartChargeSeq": seq, "StartChargeSeqStat": 4, "ConnectorID": connector.id,
                           "SuccStat": 0, "FailReason": 0}  # fmt: skip

    orders = await sim_receiver.wait_for("notification_charge_order_info", 2)  # disputed, then confirmed
    assert orders[0] == orders[1]
    order = orders[1]
    assert order["StartChargeSeq"] == seq and order["StopReason"] == 1
    elec, service = Decimal(str(order["TotalElecMoney"])), Decimal(str(order["TotalSeviceMoney"]))
    assert Decimal(str(order["TotalMoney"])) == elec + service
    details = order["ChargeDetails"]
    assert order["SumPeriod"] == len(details) >= 1
    assert sum(Decimal(str(d["DetailPower"])) for d in details) == Decimal(str(order["TotalPower"]))
    for d in details:
        assert Decimal(str(d["DetailElecMoney"])) == (Decimal(str(d["DetailPower"])) * Decimal(
            str(d["ElecPrice"]))).quantize(Decimal("0.01"))  # fmt: skip
    assert order["TotalPower"] >= polled["TotalPower"]

    # The connector goes 3 → 2 (plugged) → 1 (unplugged), each change pushed.
    statuses = await sim_receiver.wait_for("notification_stationStatus", 3)
    assert [p["ConnectorStatusInfo"]["Status"] for p in statuses] == [3, 2, 1]
    assert sim.sessions.get(seq).order_confirmed

    final = await client.query("query_equip_charge_status", {"StartChargeSeq": seq})
    assert final["StartChargeSeqStat"] == 4 and final["TotalPower"] == order["TotalPower"]

    answer = await sim.send_check_charge_orders(dt.datetime.now(codec.SHANGHAI).date())
    assert answer is not None and answer["TotalDisputeOrder"] == 0
    check = sim_receiver.received["check_charge_orders"][0]
    assert len(check["CheckOrderSeq"]) == 27 and check["OrderCount"] == 1
    assert check["ChargeOrders"] == [{"StartChargeSeq": seq, "TotalPower": order["TotalPower"],
                                      "TotalMoney": order["TotalMoney"]}]  # fmt: skip


async def test_repeated_start_charge_seq_starts_one_session(sim_start, sim_client_for):
    sim = await sim_start(**FAST)
    client = sim_client_for(sim)
    connector = _idle_connector(sim, dc=False)
    payload = {"StartChargeSeq": _seq(2), "ConnectorID": connector.id, "QRCode": ""}
    first = await client.query("query_start_charge", payload)
    again = await client.query("query_start_charge", payload)
    assert first["SuccStat"] == again["SuccStat"] == 0
    assert len(sim.sessions.by_seq) == 1
    other = await client.query("query_start_charge", payload | {"StartChargeSeq": _seq(3)})
    assert other["SuccStat"] == 1 and other["FailReason"] == 3  # busy: a session owns the connector


async def test_start_and_stop_failures(sim_start, sim_client_for):
    sim = await sim_start(**FAST)
    client = sim_client_for(sim)
    unknown = await client.query("query_start_charge", {"StartChargeSeq": _seq(4), "ConnectorID": "9" * 26})
    assert unknown["SuccStat"] == 1 and unknown["FailReason"] == 1
    offline = _idle_connector(sim)
    await sim.set_connector_status(offline.id, 0)
    result = await client.query("query_start_charge", {"StartChargeSeq": _seq(5), "ConnectorID": offline.id})
    assert result["SuccStat"] == 1 and result["FailReason"] == 2
    await sim.set_connector_status(offline.id, 255)
    result = await client.query("query_start_charge", {"StartChargeSeq": _seq(6), "ConnectorID": offline.id})
    assert result["SuccStat"] == 1 and result["FailReason"] == 3
    no_order = await client.query("query_stop_charge", {"StartChargeSeq": _seq(7), "ConnectorID": offline.id})
    assert no_order["SuccStat"] == 1 and no_order["FailReason"] == 4

    idle = _idle_connector(sim, dc=False)
    await client.query("query_start_charge", {"StartChargeSeq": _seq(8), "ConnectorID": idle.id})
    stop = {"StartChargeSeq": _seq(8), "ConnectorID": idle.id}
    assert (await client.query("query_stop_charge", stop))["SuccStat"] == 0
    twice = await client.query("query_stop_charge", stop)
    assert twice["SuccStat"] == 1 and twice["FailReason"] == 3


def test_session_model_splits_details_at_tariff_boundaries():
    tariff = (
        PolicyPeriod("000000", Decimal("0.3000"), Decimal("0.8000")),
        PolicyPeriod("080000", Decimal("1.0000"), Decimal("0.8000")),
        PolicyPeriod("220000", Decimal("0.3000"), Decimal("0.8000")),
    )
    connector = SimConnector("1" * 26, "S", "E", "1号桩", 4, 120.0, 750, 200, 240, "01A")
    start = dt.datetime(2024, 5, 1, 7, 59, 0, tzinfo=codec.SHANGHAI).timestamp()
    session = ChargeSession.new("MA1AGGR01" + "0" * 18, connector, tariff, start, accel=1.0)
    session.soc = 20.0
    session.begin(start)
    session.advance(start + 120)  # one minute in the valley, one at peak
    session.finish(start + 120, 1)
    order = session.order_body()
    assert order["SumPeriod"] == 2
    first, second = order["ChargeDetails"]
    assert first["DetailEndTime"] == second["DetailStartTime"] == "2024-05-01 08:00:00"
    assert (first["ElecPrice"], second["ElecPrice"]) == (Decimal("0.3000"), Decimal("1.0000"))
    assert order["TotalPower"] == first["DetailPower"] + second["DetailPower"] > 0
    assert order["TotalMoney"] == order["TotalElecMoney"] + order["TotalSeviceMoney"]
    assert order["TotalMoney"].as_tuple().exponent == -2


def test_session_model_dc_tapers_and_stops_when_full():
    connector = SimConnector("2" * 26, "S", "E", "1号桩", 4, 160.0, 750, 200, 320, "01A")
    tariff = (PolicyPeriod("000000", Decimal("0.5000"), Decimal("0.5000")),)
    now = time.time()
    session = ChargeSession.new("MA1AGGR01" + "1" * 18, connector, tariff, now, accel=1.0)
    session.begin(now)
    full_power = session.power_kw
    session.soc = 90.0
    session.advance(now + 1)
    assert session.power_kw < full_power / 2  # CC/CV taper above 80 %
    session.advance(now + 4 * 3600)
    assert session.is_full and session.power_kw == 0
