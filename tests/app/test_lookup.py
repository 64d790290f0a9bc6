"""node(id), connectorByQrCode and operators."""

from __future__ import annotations

from resolvers import ids
from tests.app.conftest import HZ, SH, Stack

NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on Station { name connectors { id status }
                   tariff { currency periods { startTime totalPerKwh { amount } } } }
  ... on Connector { status maxPowerKw station { id name } currentPrice { totalPerKwh { amount currency } } }
  ... on Operator { name protocol } } }"""


async def test_operators(stack: Stack):
    data = await stack.data("{ operators { id name protocol } }")
    assert sorted(o["name"] for o in data["operators"]) == [f"Test {HZ}", f"Test {SH}"]
    for op in data["operators"]:
        node = (await stack.data(NODE, {"id": op["id"]}))["node"]
        assert node == {"id": op["id"], "__typename": "Operator", "name": op["name"], "protocol": "tcec"}


async def test_station_and_connector_nodes(stack: Stack):
    sim_station = stack.sims[SH].network.stations[3]
    gid = ids.station_id(SH, sim_station.id)
    station = (await stack.data(NODE, {"id": gid}))["node"]
    assert station["__typename"] == "Station" and station["name"] == sim_station.name
    periods = station["tariff"]["periods"]
    assert 3 <= len(periods) <= 4 and periods[0]["startTime"] == "00:00:00"
    connector_gid = station["connectors"][0]["id"]
    connector = (await stack.data(NODE, {"id": connector_gid}))["node"]
    assert connector["__typename"] == "Connector"
    assert connector["station"] == {"id": gid, "name": sim_station.name}
    assert connector["currentPrice"]["totalPerKwh"]["currency"] == "CNY"


async def test_connector_by_qr_code(stack: Stack):
    connector_id = next(iter(stack.sims[HZ].network.by_connector))
    query = "query($c: String!) { connectorByQrCode(code: $c) { id status station { operator { name } } } }"
    for code in (f"hlht://{connector_id}.{HZ}/", f"hlht://{connector_id}.{HZ}/partner-tail?x=1"):
        found = (await stack.data(query, {"c": code}))["connectorByQrCode"]
        assert found["id"] == ids.connector_id(HZ, connector_id)
        assert found["station"]["operator"]["name"] == f"Test {HZ}"
    for code in (f"hlht://{connector_id}.{SH}/", "hlht://nothing/", "", "x" * 2000):
        assert (await stack.data(query, {"c": code}))["connectorByQrCode"] is None


async def test_a_partners_own_sticker_url_resolves_to_its_connector(stack: Stack):
    connector_id = next(iter(stack.sims[HZ].network.by_connector))
    query = "query($c: String!) { connectorByQrCode(code: $c) { id } }"
    for code in (
        f"https://scan.{HZ.lower()}.example/pile/{connector_id}",
        f"HTTPS://SCAN.{HZ}.EXAMPLE/pile/{connector_id}",
    ):
        found = (await stack.data(query, {"c": code}))["connectorByQrCode"]
        assert found == {"id": ids.connector_id(HZ, connector_id)}
    # Another partner's sticker format does not reach this partner's connectors, nor does a tail.
    for code in (
        f"https://scan.{SH.lower()}.example/pile/{connector_id}",
        f"https://scan.{HZ.lower()}.example/pile/{connector_id}/x",
    ):
        assert (await stack.data(query, {"c": code}))["connectorByQrCode"] is None
