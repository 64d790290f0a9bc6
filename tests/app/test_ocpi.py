"""OCPI operators in the same search, with the same status and price fields; pushes apply at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gateway.settings.load import Settings
from operators.ocpi.sim.server import OcpiSimulator
from resolvers import ids
from tests.app.conftest import CENTERS, OCPI, SH, Stack, poll, running_stack

SEARCH = """query($first: Int!, $lat: Float!, $lon: Float!) {
  stations(near: {lat: $lat, lon: $lon}, radiusKm: 6, first: $first) {
    edges { node { id operator { id protocol } connectors { id status type powerType maxPowerKw
      currentPrice { energyPerKwh { amount } totalPerKwh { amount currency } } } } } } }"""


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings, ocpi_stations=60) as running:
        yield running


async def test_tcec_and_ocpi_stations_in_one_search(stack: Stack):
    lat, lon = CENTERS[SH]
    data = await stack.data(SEARCH, {"first": 60, "lat": lat, "lon": lon})
    by_protocol: dict[str, list] = {}
    for e in data["stations"]["edges"]:
        by_protocol.setdefault(e["node"]["operator"]["protocol"], []).extend(e["node"]["connectors"])
    assert set(by_protocol) == {"tcec", "ocpi"}
    for connectors in by_protocol.values():
        for c in connectors:
            assert c["status"] != "UNKNOWN"
            assert c["currentPrice"]["totalPerKwh"]["currency"] == "CNY"
            assert Decimal(c["currentPrice"]["totalPerKwh"]["amount"]) > 0


async def test_an_evse_patch_changes_the_next_query(stack: Stack):
    assert stack.ocpi is not None
    location_id, location = next(iter(stack.ocpi.locations.items()))
    evse = location["evses"][0]
    query = "query($id: ID!) { node(id: $id) { ... on Station { connectors { id status } } } }"
    gid = ids.station_id(OCPI, location_id)
    first = (await stack.data(query, {"id": gid}))["node"]["connectors"]
    target = "OUTOFORDER" if first[0]["status"] != "FAULTED" else "AVAILABLE"
    expected = "FAULTED" if target == "OUTOFORDER" else "AVAILABLE"
    await stack.ocpi.set_evse_status(location_id, evse["uid"], target)

    async def changed():
        connectors = (await stack.data(query, {"id": gid}))["node"]["connectors"]
        return connectors[0]["status"] == expected

    await poll(changed, timeout_s=1.0)


async def test_a_restart_keeps_the_ocpi_registration(stack_settings: Settings):
    """Without Redis the registration lives in the ledger: a restarted gateway goes on with token C
    (token A is spent) instead of failing a second handshake."""
    async with OcpiSimulator(stations=3, seed=9, center=CENTERS[SH], push=False) as cpo:
        async with running_stack(stack_settings, ocpi_sim=cpo) as first:
            assert first.runtime.catalogue.synced(OCPI)
        async with running_stack(stack_settings, ocpi_sim=cpo) as again:  # same ledger file
            assert again.runtime.catalogue.synced(OCPI)
        assert cpo.calls["credentials"] == 1


async def test_a_cpo_that_forgot_us_is_registered_again(stack_settings: Settings):
    """A sandbox CPO restarted empty (as `make run`'s is) no longer knows the stored token C: the
    gateway notices at start and registers again with token A."""
    cpo = OcpiSimulator(stations=3, seed=9, center=CENTERS[SH], push=False)
    async with cpo, running_stack(stack_settings, ocpi_sim=cpo):
        pass
    async with OcpiSimulator(stations=3, seed=9, center=CENTERS[SH], push=False) as fresh:
        async with running_stack(stack_settings, ocpi_sim=fresh) as again:
            assert again.runtime.catalogue.synced(OCPI)
        assert fresh.calls["credentials"] == 1 and fresh.token_c is not None
