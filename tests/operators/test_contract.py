"""The adapter contract: every protocol's adapter, built through the registry, against its simulator.

One more operator protocol is one more harness in ``HARNESSES``; it is not done until it passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.app.server import bind, serving
from operators import registry
from operators.base import Operator, OperatorTimeout, OperatorUnavailable
from operators.domain import (
    Capability,
    ConnectorState,
    ConnectorStatus,
    ConnectorType,
    OperatorEvent,
    PowerType,
    SessionPhase,
    SessionProgress,
    Station,
    Tariff,
)
from operators.ocpi import mapping as ocpi_mapping
from operators.ocpi.sim.server import OcpiSimulator
from operators.tcec.codec import Secrets
from operators.tcec.profile import PRESETS, resolve_profile
from operators.tcec.sim.cli import default_path_prefix
from operators.tcec.sim.server import Faults, SimulatorConfig, TcecSimulator
from operators.testing import FakeOperator
from operators.testing import Faults as FakeFaults

CENTER = (31.230, 121.474)
# Per call: a silent operator fails well within the test's bound below; a healthy simulator on a
# loaded 2-core machine answers well within it (0.5 s timed out a catalogue page under load).
TIMEOUT_S = 1.0
STATIONS = 120


def mounted(adapter: Operator) -> Starlette:
    """An app serving the adapter's push app at its prefix, as the gateway does."""
    push = adapter.push_app()
    return Starlette(routes=[Mount(push.prefix, push.app)] if push is not None else [])


class TcecHarness:
    """A T/CEC simulator speaking one partner profile, and the adapter configured with the same one."""

    protocol = "tcec"

    def __init__(self, profile: str | dict[str, Any]) -> None:
        self.profile = profile
        self.secrets = Secrets("contract-data-16", "contract-iv-0016", "contract-sig-016")
        resolved = resolve_profile(profile)
        self.sim = TcecSimulator(
            SimulatorConfig(
                operator_id="MA1CONTRC",
                operator_secret="contract-op-0016",
                secrets=self.secrets,
                stations=STATIONS,
                seed=5,
                center=CENTER,
                profile=resolved,
                path_prefix=default_path_prefix(resolved.name),
                token_reissue=resolved.token_reissue,
                start_delay_s=0.05,
                time_acceleration=600.0,
            )
        )

    async def start(self, http: aiohttp.ClientSession, sink) -> Operator:
        await self.sim.start()
        config = {
            "id": "MA1CONTRC",
            "protocol": "tcec",
            "name": "Contract",
            "base_url": self.sim.base_url,
            "our_operator_id": "MA1GATEWY",
            "operator_secret": "contract-op-0016",
            "data_secret": self.secrets.data_secret,
            "data_iv": self.secrets.data_iv,
            "sig_secret": self.secrets.sig_secret,
            "timeout_s": TIMEOUT_S,
            "profile": self.profile,
        }
        return registry.factory("tcec")(config, http, sink, "http://127.0.0.1:1")

    async def stop(self) -> None:
        await self.sim.stop()

    def station_ids(self) -> list[str]:
        return [s.id for s in self.sim.network.stations]

    def connector_ids(self, station_id: str) -> list[str]:
        station = self.sim.network.by_station[station_id]
        return [c.id for e in station.equipments for c in e.connectors]

    def fault(self, kind: str) -> None:
        self.sim.faults = Faults(down=True) if kind == "down" else Faults(timeout_rate=1.0)

    async def change(self, station_id: str) -> None:
        connector = self.connector_ids(station_id)[0]
        await self.sim.set_connector_status(connector, 255)

    def idle_connector(self) -> str:
        return next(c.id for c in self.sim.network.by_connector.values() if c.status == 1)


class OcpiHarness:
    protocol = "ocpi"

    def __init__(self) -> None:
        self.sim = OcpiSimulator(
            stations=STATIONS,
            seed=5,
            center=CENTER,
            page_limit=50,
            push_interval_s=0.05,
            time_acceleration=120,
            command_delay_s=0.01,
        )
        self.sock = bind()
        self.stack = contextlib.AsyncExitStack()

    async def start(self, http: aiohttp.ClientSession, sink) -> Operator:
        await self.stack.enter_async_context(self.sim)
        config = {
            "id": "CNSHA",
            "protocol": "ocpi",
            "name": "Contract",
            "versions_url": self.sim.versions_url,
            "token": self.sim.config.token,
            "timeout_s": TIMEOUT_S,
        }
        public_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        adapter = registry.factory("ocpi")(config, http, sink, public_url)
        # The CPO calls our versions endpoint back during the credentials handshake.
        await self.stack.enter_async_context(serving(mounted(adapter), self.sock))
        return adapter

    async def stop(self) -> None:
        await self.stack.aclose()

    def station_ids(self) -> list[str]:
        return list(self.sim.locations)

    def connector_ids(self, station_id: str) -> list[str]:
        location = self.sim.locations[station_id]
        return [
            ocpi_mapping.connector_key(station_id, evse["uid"], connector["id"])
            for evse in location["evses"]
            for connector in evse["connectors"]
        ]

    def fault(self, kind: str) -> None:
        if kind == "down":
            self.sim.faults.down = True
        else:
            self.sim.faults.timeout_rate = 1.0

    async def change(self, station_id: str) -> None:
        evse = self.sim.locations[station_id]["evses"][0]["uid"]
        await self.sim.set_evse_status(station_id, evse, "OUTOFORDER")

    def idle_connector(self) -> str:
        return next(
            ocpi_mapping.connector_key(loc_id, evse["uid"], evse["connectors"][0]["id"])
            for loc_id, loc in self.sim.locations.items()
            for evse in loc["evses"]
            if evse["status"] == "AVAILABLE"
        )


class FakeHarness:
    """The in-memory operator (operators.testing), built through the registry like the adapters,
    moving its sessions on by itself as an operator does."""

    protocol = "fake"

    def __init__(self) -> None:
        self.fake: FakeOperator | None = None

    async def start(self, http: aiohttp.ClientSession, sink) -> Operator:
        config = {"id": "FKCONTRACT", "protocol": "fake", "stations": STATIONS, "seed": 5}
        config |= {"center": list(CENTER), "autopilot_s": 0.02}
        adapter = registry.factory("fake")(config, http, sink, "http://127.0.0.1:1")
        assert isinstance(adapter, FakeOperator)
        self.fake = adapter
        return adapter

    async def stop(self) -> None:
        pass

    @property
    def _fake(self) -> FakeOperator:
        assert self.fake is not None
        return self.fake

    def station_ids(self) -> list[str]:
        return list(self._fake.stations)

    def connector_ids(self, station_id: str) -> list[str]:
        return [c.id for c in self._fake.stations[station_id].connectors]

    def fault(self, kind: str) -> None:
        self._fake.faults = FakeFaults(down=True) if kind == "down" else FakeFaults(slow_s=30.0)

    async def change(self, station_id: str) -> None:
        await self._fake.set_status(self.connector_ids(station_id)[0], ConnectorStatus.FAULTED)

    def idle_connector(self) -> str:
        return next(cid for cid, status in self._fake.statuses.items() if status is ConnectorStatus.AVAILABLE)


# Every T/CEC partner preset, plus a profile that stresses the liberal reader (every number a string,
# lower-case first letters), each against a simulator that speaks it.
TCEC_PROFILES: dict[str, str | dict[str, Any]] = {name: name for name in PRESETS} | {
    "strings-and-camelcase": {"preset": "2016", "string_fields": ["*"], "lower_first_keys": True}
}
HARNESSES: dict[str, Callable[[], Any]] = {
    **{f"tcec-{name}": functools.partial(TcecHarness, profile) for name, profile in TCEC_PROFILES.items()},
    "ocpi": OcpiHarness,
    "fake": FakeHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
async def contract(request) -> AsyncIterator[tuple[Any, Operator, list[tuple[str, OperatorEvent]]]]:
    harness = HARNESSES[request.param]()
    events: list[tuple[str, OperatorEvent]] = []

    async def sink(operator_id: str, event: OperatorEvent) -> None:
        events.append((operator_id, event))

    async with aiohttp.ClientSession() as http:
        adapter = await harness.start(http, sink)
        try:
            yield harness, adapter, events
        finally:
            await adapter.aclose()
            await harness.stop()


async def all_stations(adapter: Operator, since: datetime | None = None) -> list[Station]:
    stations, cursor = [], None
    for _ in range(1000):
        page = await adapter.list_stations(since, cursor)
        stations.extend(page.stations)
        cursor = page.next_cursor
        if cursor is None:
            return stations
    raise AssertionError("paging never ended")


async def test_info(contract):
    harness, adapter, _ = contract
    assert isinstance(adapter, Operator)
    assert adapter.info.protocol == harness.protocol
    assert {Capability.STATIONS, Capability.LIVE_STATUS, Capability.TARIFFS} <= adapter.info.capabilities


async def test_catalogue_pages_through_every_station_once(contract):
    harness, adapter, _ = contract
    first = await adapter.list_stations(None, None)
    assert first.total in (None, STATIONS)
    stations = await all_stations(adapter)
    assert sorted(s.id for s in stations) == sorted(harness.station_ids())
    for s in stations:
        assert s.operator_id == adapter.info.id
        assert abs(s.location.lat - CENTER[0]) < 1 and abs(s.location.lon - CENTER[1]) < 1
        assert s.connectors and s.name
        assert sorted(c.id for c in s.connectors) == sorted(harness.connector_ids(s.id))
        for c in s.connectors:
            assert isinstance(c.type, ConnectorType) and isinstance(c.power_type, PowerType)
            assert c.max_power_kw > 0 and c.station_id == s.id


async def test_incremental_sync_returns_only_changes(contract):
    harness, adapter, _ = contract
    assert await all_stations(adapter, datetime.now(UTC) + timedelta(hours=1)) == []
    before = datetime.now(UTC) - timedelta(seconds=2)
    changed = harness.station_ids()[7]
    await harness.change(changed)
    assert changed in {s.id for s in await all_stations(adapter, before)}


async def test_statuses_for_many_stations(contract):
    harness, adapter, _ = contract
    wanted = harness.station_ids()[:70] + ["NO-SUCH-STATION"]
    states = await adapter.connector_statuses(wanted)
    expected = {c for sid in wanted[:70] for c in harness.connector_ids(sid)}
    assert set(states) == expected
    for cid, state in states.items():
        assert isinstance(state, ConnectorState) and state.connector_id == cid
        assert state.status is not ConnectorStatus.UNKNOWN
        assert state.observed_at.tzinfo is not None


async def test_tariffs(contract):
    harness, adapter, _ = contract
    connectors = [c for sid in harness.station_ids()[:3] for c in harness.connector_ids(sid)]
    tariffs = await adapter.tariffs(connectors)
    assert set(tariffs) == set(connectors)
    for tariff in tariffs.values():
        assert isinstance(tariff, Tariff) and tariff.periods
        assert [p.start for p in tariff.periods] == sorted(p.start for p in tariff.periods)
        for p in tariff.periods:
            assert isinstance(p.energy_per_kwh, Decimal) and p.energy_per_kwh >= 0
        price = tariff.price_at(datetime.now(UTC).time())
        assert price.total_per_kwh > 0 and len(price.currency) == 3


@pytest.mark.parametrize(("kind", "error"), [("down", OperatorUnavailable), ("timeout", OperatorTimeout)])
async def test_failures_map_to_the_error_tree(contract, kind, error):
    harness, adapter, _ = contract
    harness.fault(kind)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(error) as caught:
        await adapter.connector_statuses(harness.station_ids()[:5])
    assert caught.value.operator_id == adapter.info.id
    assert loop.time() - start < 3.0


async def test_a_session_starts_charges_and_stops(contract):
    harness, adapter, _ = contract
    connector = harness.idle_connector()
    started = await adapter.start_session("contract-session-1", connector)
    assert started.connector_id == connector and started.phase in (
        SessionPhase.STARTING,
        SessionPhase.CHARGING,
    )
    progress = await until(adapter, lambda p: p.phase is SessionPhase.CHARGING and p.energy_kwh > 0)
    assert progress.session_ref == "contract-session-1" and isinstance(progress.energy_kwh, Decimal)
    stopping = await adapter.stop_session("contract-session-1", connector)
    assert stopping.phase in (SessionPhase.STOPPING, SessionPhase.COMPLETED)
    done = await until(adapter, lambda p: p.phase is SessionPhase.COMPLETED)
    assert done.energy_kwh >= progress.energy_kwh


async def until(adapter: Operator, wanted: Callable[[SessionProgress], bool]) -> SessionProgress:
    """Poll ``session_status`` until ``wanted`` holds (deadline 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not wanted(progress := await adapter.session_status("contract-session-1")):
        assert loop.time() < deadline, f"session stuck at {progress}"
        await asyncio.sleep(0.05)
    return progress


def test_every_builtin_protocol_and_partner_preset_has_a_harness():
    assert set(registry.BUILTIN) == {getattr(h, "func", h).protocol for h in HARNESSES.values()}
    assert set(PRESETS) <= set(TCEC_PROFILES)
