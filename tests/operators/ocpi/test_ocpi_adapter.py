"""The OCPI adapter against the simulator over loopback HTTP: handshake, paging, statuses, tariffs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import aiohttp
import pytest

from operators import domain
from operators.base import Operator, OperatorAuthError, OperatorUnavailable
from operators.ocpi import auth, mapping
from operators.ocpi.adapter import build
from operators.ocpi.sim.server import OcpiSimulator
from operators.state import MemoryState
from tests.operators.ocpi.helpers import CPO_ID, Gateway, gateway_config, loopback_socket, serving


async def _all_stations(gw: Gateway, since: datetime | None = None) -> list[domain.StationPage]:
    pages = [await gw.op.list_stations(since, None)]
    while pages[-1].next_cursor is not None:
        pages.append(await gw.op.list_stations(since, pages[-1].next_cursor))
    return pages


async def test_satisfies_the_port(ocpi_gateway: Gateway) -> None:
    assert isinstance(ocpi_gateway.op, Operator)
    assert ocpi_gateway.op.info.id == CPO_ID
    assert ocpi_gateway.op.info.protocol == "ocpi"


async def test_handshake_exchanges_tokens(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await gw.op.list_stations(None, None)
    assert gw.sim.token_c is not None and gw.op.client.token == gw.sim.token_c
    assert gw.sim.token_b == gw.op.token_b
    assert gw.sim.emsp is not None and gw.sim.emsp.url(
        "locations",
        "RECEIVER",
    ).endswith(f"/ocpi/{CPO_ID}/2.2.1/locations")
    # Token A is discarded after registration (§7.2.2).
    headers = {"Authorization": auth.header(gw.sim.config.token)}
    async with gw.http.get(gw.sim.versions_url, headers=headers) as resp:
        assert resp.status == 401


async def test_bad_token_a_is_an_auth_error(ocpi_gateway: Gateway) -> None:
    ocpi_gateway.op.client.token = "wrong"
    with pytest.raises(OperatorAuthError):
        await ocpi_gateway.op.list_stations(None, None)


async def test_paging_follows_link_and_reports_total(ocpi_gateway: Gateway) -> None:
    pages = await _all_stations(ocpi_gateway)
    assert [len(p.stations) for p in pages] == [10, 10, 5]
    assert {p.total for p in pages} == {25}
    ids = [s.id for p in pages for s in p.stations]
    assert ids == [f"LOC{i:05d}" for i in range(1, 26)]  # creation order, no gaps or duplicates
    assert ocpi_gateway.sim.calls["locations"] == 3
    station = pages[0].stations[0]
    assert station.operator_id == CPO_ID and station.timezone == "Asia/Shanghai"
    assert all(
        c.type in (domain.ConnectorType.GBT_AC, domain.ConnectorType.GBT_DC) for c in station.connectors
    )


async def test_date_from_returns_only_changed_locations(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await gw.op.list_stations(None, None)
    since = datetime.now(UTC) - timedelta(seconds=1)
    for loc_id in ("LOC00004", "LOC00017"):
        evse = gw.sim.locations[loc_id]["evses"][0]["uid"]
        await gw.sim.set_evse_status(loc_id, evse, "OUTOFORDER")
    pages = await _all_stations(gw, since)
    assert [s.id for p in pages for s in p.stations] == ["LOC00004", "LOC00017"]
    assert pages[0].total == 2


async def test_connector_statuses_fetch_each_location(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    states = await gw.op.connector_statuses(["LOC00001", "LOC00002", "NOPE"])
    sim_loc = gw.sim.locations["LOC00002"]
    expected = {
        mapping.connector_key("LOC00002", e["uid"], c["id"]): mapping.connector_status(e["status"])
        for e in sim_loc["evses"]
        for c in e["connectors"]
    }
    assert {k: v.status for k, v in states.items() if k.startswith("LOC00002*")} == expected
    assert all(s.source is domain.StatusSource.POLL for s in states.values())
    assert not any(k.startswith("NOPE") for k in states)


async def test_tariffs_map_time_of_use(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    page = await gw.op.list_stations(None, None)
    connectors = [c for s in page.stations for c in s.connectors]
    ac = next(c for c in connectors if c.power_type is domain.PowerType.AC)
    dc = next(c for c in connectors if c.power_type is domain.PowerType.DC)
    tariffs = await gw.op.tariffs([ac.id, dc.id, "bad-id"])
    assert set(tariffs) == {ac.id, dc.id}
    tariff = tariffs[ac.id]
    assert tariff.currency == "CNY" and tariff.timezone == "Asia/Shanghai"
    assert [p.start for p in tariff.periods] == [time(h) for h in (0, 7, 8, 11, 18, 21, 23)]
    assert tariff.price_at(time(3)).energy_per_kwh == Decimal("0.55") * Decimal("1.13")
    assert tariff.price_at(time(9)).energy_per_kwh == Decimal("1.45") * Decimal("1.13")
    assert {(x.kind, x.unit) for x in tariffs[dc.id].extras} == {
        ("FLAT", "session"),
        ("TIME", "hour"),
        ("PARKING", "hour"),
    }
    await gw.op.tariffs([ac.id])
    assert gw.sim.calls["tariffs"] == 1  # the pulled table is reused


async def test_evse_status_push_reaches_the_sink(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await gw.op.list_stations(None, None)
    evse = gw.sim.locations["LOC00003"]["evses"][0]
    assert await gw.sim.set_evse_status("LOC00003", evse["uid"], "CHARGING") == 200
    states = gw.of(domain.ConnectorState)
    assert {s.connector_id for s in states} == {
        mapping.connector_key("LOC00003", evse["uid"], c["id"]) for c in evse["connectors"]
    }
    assert all(
        s.status is domain.ConnectorStatus.CHARGING and s.source is domain.StatusSource.PUSH for s in states
    )
    assert not gw.of(domain.Station)  # a status-only PATCH changes no station data
    stored = await gw.op.store.location("LOC00003")
    assert stored is not None
    assert stored["evses"][0]["status"] == "CHARGING"
    assert stored["last_updated"] == stored["evses"][0]["last_updated"]  # parent follows (§8.2.2)


async def test_registration_before_the_gateway_listens_is_retried(
    ocpi_sim: OcpiSimulator, ocpi_http: aiohttp.ClientSession
) -> None:
    sock, public_url = loopback_socket()

    async def sink(operator_id: str, event: object) -> None: ...

    op = build(gateway_config(ocpi_sim), ocpi_http, sink, public_url)
    try:
        with pytest.raises(OperatorUnavailable, match="3001"):  # the CPO could not call us back
            await op.list_stations(None, None)
        assert ocpi_sim.token_c is None  # token A still valid: nothing was registered
        async with serving(op, sock):
            page = await op.list_stations(None, None)
        assert len(page.stations) == 10 and op.client.token == ocpi_sim.token_c
    finally:
        sock.close()


async def test_reregistration_in_sandbox_mode(ocpi_http: aiohttp.ClientSession) -> None:
    async with OcpiSimulator(stations=3, seed=1, allow_reregister=True) as sim:
        for _ in range(2):  # e.g. the gateway restarted and lost token C
            sock, public_url = loopback_socket()

            async def sink(operator_id: str, event: object) -> None: ...

            op = build(gateway_config(sim), ocpi_http, sink, public_url)
            async with serving(op, sock):
                assert len((await op.list_stations(None, None)).stations) == 3
            assert sim.token_b == op.token_b
            sock.close()


async def test_sink_failure_is_an_ocpi_server_error(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await gw.op.list_stations(None, None)

    async def broken(operator_id: str, event: object) -> None:
        raise RuntimeError("inbox down")

    gw.op.sink = broken
    evse = gw.sim.locations["LOC00001"]["evses"][0]["uid"]
    assert await gw.sim.set_evse_status("LOC00001", evse, "CHARGING") == 200  # answered with status_code 3000


async def test_replicas_register_once_under_a_lease(ocpi_http: aiohttp.ClientSession) -> None:
    # Two replicas' adapters over one shared state start at the same moment: one runs the
    # handshake, the other waits for the tokens and endpoints it leaves there.
    shared = MemoryState()
    async with OcpiSimulator(stations=3, seed=1) as sim:
        socks = [loopback_socket() for _ in range(2)]

        async def sink(operator_id: str, event: object) -> None: ...

        ops = [build(gateway_config(sim), ocpi_http, sink, url, shared) for _, url in socks]
        async with serving(ops[0], socks[0][0]), serving(ops[1], socks[1][0]):
            pages = await asyncio.gather(*(op.list_stations(None, None) for op in ops))
        assert [len(page.stations) for page in pages] == [3, 3]
        assert sim.calls["credentials"] == 1  # one POST: token A was spent once
        assert {op.client.token for op in ops} == {sim.token_c}
        assert {op.token_b for op in ops} == {sim.token_b}
        for sock, _ in socks:
            sock.close()
