"""The T/CEC simulator's envelope pipeline, tokens and public-information interfaces, over real HTTP."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from operators.tcec import codec
from operators.tcec.profile import PRESETS, resolve_profile

AGGREGATOR_ID = "MA1AGGR01"
GOOD_SECRET = "op-secret-16byte"


async def test_query_token_issues_a_token_with_ttl(sim_client):
    response = await sim_client.call(
        "query_token", {"OperatorID": AGGREGATOR_ID, "OperatorSecret": GOOD_SECRET}
    )
    assert response.ret == 0
    data = response.data
    assert data["SuccStat"] == 0 and data["FailReason"] == 0 and data["OperatorID"] == AGGREGATOR_ID
    assert len(data["AccessToken"]) == 64 and data["TokenAvailableTime"] == 7200
    # token_reissue="same": asking again while it is valid returns the same token.
    assert await sim_client.token() == data["AccessToken"]


async def test_token_reissue_new_replaces_the_old_token(sim_start, sim_client_for):
    client = sim_client_for(await sim_start(token_reissue="new"))
    first = await client.token()
    second = await client.token()
    assert first != second
    assert (await client.call("query_station_status", {"StationIDs": []}, first)).ret == 4002
    assert (await client.call("query_station_status", {"StationIDs": []}, second)).ret == 0


async def test_query_token_fail_reasons(sim_client):
    wrong_secret = await sim_client.call(
        "query_token", {"OperatorID": AGGREGATOR_ID, "OperatorSecret": "x" * 16}
    )
    assert wrong_secret.ret == 0
    assert wrong_secret.data["SuccStat"] == 1 and wrong_secret.data["FailReason"] == 2
    sim_client.operator_id = "MA1OTHER9"  # not the configured aggregator
    unknown = await sim_client.call("query_token", {"OperatorID": "MA1OTHER9", "OperatorSecret": GOOD_SECRET})
    assert unknown.data["SuccStat"] == 1 and unknown.data["FailReason"] == 1


async def test_token_expires(sim_start, sim_client_for):
    client = sim_client_for(await sim_start(token_ttl_s=1))
    token = await client.token()
    assert (await client.call("query_station_status", {"StationIDs": []}, token)).ret == 0
    deadline = time.monotonic() + 5
    while (ret := (await client.call("query_station_status", {"StationIDs": []}, token)).ret) == 0:
        assert time.monotonic() < deadline, "token never expired"
        await asyncio.sleep(0.05)
    assert ret == 4002


async def test_missing_or_unknown_token_is_4002(sim_client):
    assert (await sim_client.call("query_station_status", {"StationIDs": []})).ret == 4002
    assert (await sim_client.call("query_station_status", {"StationIDs": []}, "not-a-token")).ret == 4002


async def test_bad_signature_is_4001_before_the_token_check(sim_client, sim_secrets):
    envelope = codec.build_request(
        AGGREGATOR_ID, {"StationIDs": []}, codec.Secrets("a" * 16, "b" * 16, "c" * 16)
    )
    status, body = await sim_client.raw("query_station_status", envelope)
    assert status == 200
    response = codec.parse_response(body, sim_secrets)
    assert response.ret == 4001 and response.msg == "签名错误" and response.data is None


async def test_malformed_envelopes_are_4003(sim_client, sim_secrets):
    token = await sim_client.token()
    secrets = sim_secrets
    # Not JSON at all.
    _, body = await sim_client.raw("query_station_status", b"{not json", token)
    assert codec.parse_response(body, secrets).ret == 4003
    # A required envelope field missing.
    envelope = codec.build_request(AGGREGATOR_ID, {"StationIDs": []}, secrets)
    del envelope["Seq"]
    _, body = await sim_client.raw("query_station_status", envelope, token)
    assert codec.parse_response(body, secrets).ret == 4003
    # Correctly signed Data that is not Base64 / not AES / not JSON.
    for data in ("%%%", "c2hvcnQ=", codec.encrypt(b"[1, 2]", secrets), codec.encrypt(b"nope", secrets)):
        ts, seq = codec.timestamp(), "0001"
        envelope = {"OperatorID": AGGREGATOR_ID, "Data": data, "TimeStamp": ts, "Seq": seq,
                    "Sig": codec.request_sig(AGGREGATOR_ID, data, ts, seq, secrets)}  # fmt: skip
        _, body = await sim_client.raw("query_station_status", envelope, token)
        assert codec.parse_response(body, secrets).ret == 4003, data


async def test_bad_business_params_are_4004(sim_client):
    token = await sim_client.token()
    cases = [
        ("query_station_status", {"StationIDs": [f"S{i}" for i in range(51)]}),
        ("query_station_status", {}),
        ("query_stations_info", {"PageSize": 51}),
        ("query_stations_info", {"PageNo": 0}),
        ("query_stations_info", {"LastQueryTime": "yesterday"}),
        ("query_equip_business_policy", {"EquipBizSeq": "MA1AGGR01000000000000000001"}),
        ("query_equip_charge_status", {"StartChargeSeq": "unknown"}),
        ("query_station_stats", {"StationID": "nope", "StartTime": "2024-01-01", "EndTime": "2024-01-02"}),
    ]
    for interface, payload in cases:
        response = await sim_client.call(interface, payload, token)
        assert response.ret == 4004, (interface, payload)
        assert response.msg.startswith("请求的业务参数不合法")


async def test_unknown_interface_is_404(sim_client):
    status, _ = await sim_client.raw("query_everything", {})
    assert status == 404


async def test_stations_info_paging(sim_server, sim_client):
    first = await sim_client.query("query_stations_info", {"PageNo": 1, "PageSize": 15})
    assert first["PageNo"] == 1 and first["ItemSize"] == 40 and first["PageCount"] == 3
    assert len(first["StationInfos"]) == 15
    last = await sim_client.query("query_stations_info", {"PageNo": 3, "PageSize": 15})
    assert len(last["StationInfos"]) == 10
    beyond = await sim_client.query("query_stations_info", {"PageNo": 4, "PageSize": 15})
    assert beyond["StationInfos"] == [] and beyond["ItemSize"] == 40
    default = await sim_client.query("query_stations_info", {})
    assert len(default["StationInfos"]) == 10  # §5.1 default PageSize
    middle = await sim_client.query("query_stations_info", {"PageNo": 2, "PageSize": 15})
    ids = [s["StationID"] for p in (first, middle, last) for s in p["StationInfos"]]
    assert len(set(ids)) == 40

    station = first["StationInfos"][0]
    for name in ("StationID", "OperatorID", "EquipmentOwnerID", "StationName", "CountryCode", "AreaCode",
                 "Address", "ServiceTel", "StationType", "StationStatus", "ParkNums", "StationLng",
                 "StationLat", "Construction", "BusineHours", "EquipmentInfos"):  # fmt: skip
        assert name in station, name
    assert station["OperatorID"] == "MA1SIMTC1" and len(station["StationID"]) <= 20
    equipment = station["EquipmentInfos"][0]
    assert len(equipment["EquipmentID"]) <= 23 and equipment["EquipmentType"] in (1, 2)
    connector = equipment["ConnectorInfos"][0]
    assert len(connector["ConnectorID"]) == 26 and connector["ConnectorID"].isdigit()
    for name in (
        "ConnectorType",
        "VoltageUpperLimits",
        "VoltageLowerLimits",
        "Current",
        "Power",
        "NationalStandard",
    ):
        assert name in connector, name


async def test_stations_info_last_query_time_is_incremental(sim_server, sim_client):
    since = datetime.now(codec.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    nothing = await sim_client.query("query_stations_info", {"LastQueryTime": since})
    assert nothing["ItemSize"] == 0 and nothing["PageCount"] == 0 and nothing["StationInfos"] == []
    station = sim_server.network.stations[5]
    connector = station.equipments[0].connectors[0]
    assert await sim_server.set_connector_status(connector.id, 255) is False  # no notify_url: no push
    changed = await sim_client.query("query_stations_info", {"LastQueryTime": since})
    assert changed["ItemSize"] == 1
    assert changed["StationInfos"][0]["StationID"] == station.id
    everything = await sim_client.query("query_stations_info", {"LastQueryTime": ""})
    assert everything["ItemSize"] == 40


async def test_station_status(sim_server, sim_client):
    station = sim_server.network.stations[0]
    connector = station.equipments[0].connectors[0]
    await sim_server.set_connector_status(connector.id, 2)
    data = await sim_client.query("query_station_status", {"StationIDs": [station.id, "UNKNOWN", station.id]})
    assert data["Total"] == 1
    info = data["StationStatusInfos"][0]
    assert info["StationID"] == station.id
    statuses = {c["ConnectorID"]: c for c in info["ConnectorStatusInfos"]}
    assert statuses[connector.id] == {
        "ConnectorID": connector.id,
        "Status": 2,
        "ParkStatus": 50,
        "LockStatus": 0,
    }
    assert len(statuses) == sum(len(e.connectors) for e in station.equipments)
    fifty = [s.id for s in sim_server.network.stations[:40]] + ["X"] * 10
    assert (await sim_client.query("query_station_status", {"StationIDs": fifty}))["Total"] == 40


async def test_business_policy(sim_server, sim_client):
    connector_id = next(iter(sim_server.network.by_connector))
    seq = "MA1AGGR01000000000000000001"
    data = await sim_client.query(
        "query_equip_business_policy", {"EquipBizSeq": seq, "ConnectorID": connector_id}
    )
    assert data["SuccStat"] == 0 and data["EquipBizSeq"] == seq and data["ConnectorID"] == connector_id
    periods = data["PolicyInfos"]
    assert 3 <= data["SumPeriod"] == len(periods) <= 4
    assert periods[0]["StartTime"] == "000000"
    assert [p["StartTime"] for p in periods] == sorted(p["StartTime"] for p in periods)
    assert all(isinstance(p["ElecPrice"], float) and 0.2 < p["ElecPrice"] < 1.5 for p in periods)
    unknown = await sim_client.query(
        "query_equip_business_policy", {"EquipBizSeq": seq, "ConnectorID": "0" * 26}
    )
    assert unknown["SuccStat"] == 1 and unknown["FailReason"] == 1


async def test_station_stats(sim_server, sim_client):
    station = sim_server.network.stations[0]
    payload = {"StationID": station.id, "StartTime": "2024-05-01", "EndTime": "2024-05-07"}
    data = (await sim_client.query("query_station_stats", payload))["StationStats"]
    assert data["StationID"] == station.id and data["StartTime"] == "2024-05-01"
    total = sum(e["EquipmentElectricity"] for e in data["EquipmentStatsInfos"])
    assert abs(data["StationElectricity"] - total) < 0.01 and data["StationElectricity"] > 0
    misspelt = {"StationID": station.id, "StarTime": "2024-05-01", "EndTime": "2024-05-07"}  # §5.4 variant
    assert (await sim_client.query("query_station_stats", misspelt))["StationStats"] == data


async def test_calls_are_counted(sim_server, sim_client):
    await sim_client.query("query_station_status", {"StationIDs": []})
    await sim_client.query("query_station_status", {"StationIDs": []})
    assert sim_server.calls["query_token"] == 1 and sim_server.calls["query_station_status"] == 2


async def test_tokens_are_unpredictable_and_unique_per_partner(sim_start, sim_client_for):
    # Same seed, different partner secrets: a seeded RNG would hand both the same first token.
    first = await sim_client_for(await sim_start(seed=7)).token()
    other_secret = "another-secret16"
    other = await sim_client_for(await sim_start(seed=7, operator_secret=other_secret)).token(other_secret)
    again = await sim_client_for(await sim_start(seed=7)).token()
    assert len({first, other, again}) == 3


async def test_the_simulator_speaks_a_partner_profile(sim_start, sim_client_for):
    # Didi (§8): its own paths (token apart), Service* spelling, ElectMoney in the status answer,
    # Total as a string; plus a profile overriding every number as a string and the key case.
    didi = await sim_start(profile=PRESETS["didi"], path_prefix="")
    root = didi.base_url
    client = sim_client_for(didi)
    client.base_url = f"{root}/evcs/v1"
    with pytest.raises(AssertionError):
        await client.token()  # query_token is not under /evcs/v1 for Didi
    client.base_url = f"{root}/evcs/sdk"
    token = await client.token()
    client.base_url, client._token = f"{root}/evcs/v1", token
    station = didi.network.stations[0]
    status = await client.query("query_station_status", {"StationIDs": [station.id]})
    assert status["Total"] == "1"
    policy = await client.query(
        "query_equip_business_policy", {"EquipBizSeq": "MA1AGGR01000000000000000001",
                                        "ConnectorID": station.equipments[0].connectors[0].id},
    )  # fmt: skip
    assert "ServicePrice" in policy["PolicyInfos"][0] and "SevicePrice" not in policy["PolicyInfos"][0]
    connector = next(c.id for c in didi.network.by_connector.values() if c.status == 1)
    seq = "MA1AGGR01000000000000000002"
    await client.query("query_start_charge", {"StartChargeSeq": seq, "ConnectorID": connector, "QRCode": ""})
    charging = await client.query("query_equip_charge_status", {"StartChargeSeq": seq})
    assert "ElectMoney" in charging and "ElecMoney" not in charging and "ServiceMoney" in charging

    loose = resolve_profile({"string_fields": ["*"], "lower_first_keys": True})
    sim = await sim_start(profile=loose)
    client = sim_client_for(sim)
    answer = await client.call("query_token", {"OperatorID": AGGREGATOR_ID, "OperatorSecret": GOOD_SECRET})
    assert answer.data["succStat"] == "0" and answer.data["tokenAvailableTime"] == "7200"
    station_id = sim.network.stations[0].id
    status = await client.call(
        "query_station_status", {"StationIDs": [station_id]}, answer.data["accessToken"]
    )
    [info] = status.data["stationStatusInfos"]
    assert status.data["total"] == "1" and info["stationID"] == station_id
    assert isinstance(info["connectorStatusInfos"][0]["status"], str)
