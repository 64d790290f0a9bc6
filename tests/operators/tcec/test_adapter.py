"""TcecOperator against the simulator: config validation, catalogue paging, status, tariffs, sessions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import aiohttp
import pytest

from operators.base import Operator, OperatorConfigError, OperatorRejected
from operators.domain import ConnectorStatus, OperatorEvent, SessionPhase, StatusSource
from operators.tcec.adapter import TcecOperator, build
from operators.tcec.mapping import CONNECTOR_STATUSES
from operators.tcec.sim.server import TcecSimulator

SimFactory = Callable[..., Awaitable[TcecSimulator]]


def tcec_config(sim: TcecSimulator, **overrides: object) -> dict[str, object]:
    config = sim.config
    return {
        "id": config.operator_id,
        "name": "Simulated operator",
        "base_url": sim.base_url,
        "our_operator_id": config.aggregator_operator_id,
        "operator_secret": config.operator_secret,
        "data_secret": config.secrets.data_secret,
        "data_iv": config.secrets.data_iv,
        "sig_secret": config.secrets.sig_secret,
    } | overrides


async def tcec_sink(operator_id: str, event: OperatorEvent) -> None:
    """These tests receive no pushes."""


async def tcec_operator(
    sim_start: SimFactory, http: aiohttp.ClientSession, **overrides: Any
) -> tuple[TcecOperator, TcecSimulator]:
    """A simulator (``sim=`` its config overrides) and an adapter built for it by the factory."""
    sim = await sim_start(**overrides.pop("sim", {}))
    return build(tcec_config(sim, **overrides), http, tcec_sink, "http://127.0.0.1:8000"), sim


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", None),
        ("id", "SHORT"),
        ("name", ""),
        ("base_url", "ftp://x"),
        ("our_operator_id", "MA1AGGR01XXXXXXXXX"),  # StartChargeSeq needs a 9-char prefix
        ("operator_secret", "short"),
        ("data_secret", "x" * 17),
        ("data_iv", 42),
        ("sig_secret", None),
        ("timeout_s", 0),
        ("timeout_s", "2"),
        ("page_size", 1.5),
        ("status_batch", 51),
        ("max_concurrency", 0),
        ("profile", "nonesuch"),
        ("profile.query_path", {"query_path": "/no-placeholder"}),
        ("profile.bogus", {"bogus": 1}),
    ],
)
async def test_build_names_the_bad_key(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession, key: str, value: object
) -> None:
    sim = await sim_start()
    config_key = key.split(".")[0]
    config = tcec_config(sim, **{config_key: value})
    with pytest.raises(OperatorConfigError) as info:
        build(config, sim_http, tcec_sink, "")
    assert info.value.key == key
    assert sim.config.operator_secret not in str(info.value)


async def test_build_with_defaults_satisfies_the_port(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    operator, sim = await tcec_operator(
        sim_start, sim_http, profile={"preset": "2016", "token_reissue": "new"}
    )
    assert isinstance(operator, Operator)
    assert (operator.info.id, operator.info.protocol) == (sim.config.operator_id, "tcec")
    push = operator.push_app()
    assert push.prefix == f"/push/tcec/{operator.info.id}"
    paths = {route.path for route in push.app.routes}
    assert "/notification_stationStatus" in paths
    assert len(paths) == 7
    await operator.aclose()


async def test_list_stations_pages_through_the_catalogue(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http, page_size=15)
    cursor, pages, stations = None, 0, []
    while True:
        page = await operator.list_stations(None, cursor)
        pages += 1
        assert page.total == len(sim.network.stations)
        stations.extend(page.stations)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and sim.calls["query_stations_info"] == 3
    assert [s.id for s in stations] == [s.id for s in sim.network.stations]
    connectors = [c for s in stations for c in s.connectors]
    assert {c.id for c in connectors} == set(sim.network.by_connector)
    assert all(c.qr_code == f"hlht://{c.id}.{operator.info.id}/" for c in connectors)


async def test_list_stations_since_asks_for_changes_only(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http)
    before = datetime.now(UTC) - timedelta(seconds=2)  # LastQueryTime has one-second resolution
    station = sim.network.stations[3]
    await sim.set_connector_status(station.equipments[0].connectors[0].id, 255)
    page = await operator.list_stations(before, None)
    assert [s.id for s in page.stations] == [station.id]
    assert (page.next_cursor, page.total) == (None, 1)


async def test_bad_cursor_is_a_caller_bug(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http)
    with pytest.raises(ValueError, match="cursor"):
        await operator.list_stations(None, "abc")


async def test_connector_statuses_in_batches_of_at_most_the_limit(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http, status_batch=15, max_concurrency=2)
    first = next(iter(sim.network.by_connector))
    await sim.set_connector_status(first, 3)
    station_ids = [s.id for s in sim.network.stations] + ["no-such-station"]
    states = await operator.connector_statuses(station_ids)
    assert sim.calls["query_station_status"] == 3  # 41 ids in parts of 15
    assert set(states) == set(sim.network.by_connector)
    for cid, connector in sim.network.by_connector.items():
        assert states[cid].status is CONNECTOR_STATUSES[connector.status]
        assert states[cid].source is StatusSource.POLL
    assert states[first].status is ConnectorStatus.CHARGING


async def test_tariffs_per_connector(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http)
    ids = list(sim.network.by_connector)[:5]
    tariffs = await operator.tariffs([*ids, "no-such-connector"])
    assert set(tariffs) == set(ids)  # an unknown connector (SuccStat 1) is left out
    assert sim.calls["query_equip_business_policy"] == 6
    for cid in ids:
        want = sim.network.station_of(sim.network.by_connector[cid]).tariff
        got = tariffs[cid].periods
        assert [p.start for p in got] == [time(int(w.start[:2]), int(w.start[2:4])) for w in want]
        assert [(p.energy_per_kwh, p.service_per_kwh) for p in got] == [
            (w.elec_price, w.service_price) for w in want
        ]


async def test_session_lifecycle_by_polling(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http, sim={"start_delay_s": 30.0})
    connector = next(c for c in sim.network.by_connector.values() if c.status == 1)

    started = await operator.start_session("session-1", connector.id)
    again = await operator.start_session("session-1", connector.id)  # same ref → same seq
    assert started.phase is again.phase is SessionPhase.STARTING
    assert (started.session_ref, started.connector_id) == ("session-1", connector.id)
    assert len(sim.sessions.by_seq) == 1

    status = await operator.session_status("session-1")
    assert (status.session_ref, status.connector_id) == ("session-1", connector.id)

    stopped = await operator.stop_session("session-1", connector.id)
    assert stopped.phase is SessionPhase.STOPPING
    again = await operator.stop_session("session-1", connector.id)  # FailReason 3: already stopped
    assert again.phase in (SessionPhase.STOPPING, SessionPhase.COMPLETED)


async def test_start_on_unknown_connector_is_rejected(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    operator, sim = await tcec_operator(sim_start, sim_http)
    with pytest.raises(OperatorRejected, match="device does not exist"):
        await operator.start_session("session-2", "no-such-connector")
    assert sim.calls["query_start_charge"] == 1
