"""Our OCPI adapter against a CPO built on extrawest-ocpi, an independent OCPI 2.2.1 implementation:
the credentials handshake (token A → B → C), locations and tariffs, START_SESSION and STOP_SESSION
with their asynchronous results. The CPO runs in its own interpreter (scripts/ocpi-interop.sh)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from operators import domain
from operators.ocpi import auth, mapping
from operators.ocpi.adapter import OcpiOperator, build
from tests.operators.ocpi.helpers import eventually, loopback_socket, serving

ROOT = Path(__file__).resolve().parents[2]
TOKEN_A = "interop-token-a"


@pytest.fixture(scope="module")
def interop_python() -> str:
    """The interpreter with extrawest-ocpi, installed on first use."""
    script = ROOT / "scripts" / "ocpi-interop.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        pytest.fail(f"scripts/ocpi-interop.sh could not install extrawest-ocpi:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def extrawest_cpo(interop_python: str, tmp_path: Path) -> Iterator[str]:
    """The CPO's versions URL; the process is stopped at the end (its log is in ``tmp_path``)."""
    sock, base = loopback_socket()
    port = sock.getsockname()[1]
    sock.close()  # the CPO binds the port itself
    with (tmp_path / "cpo.log").open("wb") as log:
        cpo = subprocess.Popen(
            [interop_python, str(Path(__file__).with_name("extrawest_cpo.py")), str(port), TOKEN_A],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"{base}/ocpi/versions"
    finally:
        cpo.terminate()
        try:
            cpo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cpo.kill()
            cpo.wait(timeout=10)


async def _up(http: aiohttp.ClientSession, versions_url: str) -> None:
    async def answers() -> bool:
        try:
            async with http.get(versions_url, headers={"Authorization": auth.header(TOKEN_A)}) as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not await answers():
        assert loop.time() < deadline, "the extrawest-ocpi CPO did not start"
        await asyncio.sleep(0.2)


@pytest.fixture
async def emsp(extrawest_cpo: str) -> AsyncIterator[tuple[OcpiOperator, list[domain.OperatorEvent]]]:
    events: list[domain.OperatorEvent] = []

    async def sink(operator_id: str, event: domain.OperatorEvent) -> None:
        events.append(event)

    sock, public_url = loopback_socket()
    async with aiohttp.ClientSession() as http:
        await _up(http, extrawest_cpo)
        config = {
            "id": "DEEXW",
            "name": "extrawest-ocpi CPO",
            "versions_url": extrawest_cpo,
            "token": TOKEN_A,
        }
        op = build(
            config | {"timeout_s": 10.0, "country_code": "NL", "party_id": "CGW"}, http, sink, public_url
        )
        async with serving(op, sock):
            yield op, events
        await op.aclose()
    sock.close()


def _progress(events: list[domain.OperatorEvent], phase: domain.SessionPhase) -> bool:
    return any(isinstance(e, domain.SessionProgress) and e.phase is phase for e in events)


async def test_handshake_locations_tariffs_and_commands(
    emsp: tuple[OcpiOperator, list[domain.OperatorEvent]],
) -> None:
    op, events = emsp
    page = await op.list_stations(None, None)  # token A → B (the CPO calls us back) → C
    assert op.client.token != TOKEN_A
    [station] = page.stations
    # The library lower-cases every CiString it sends (ids are case-insensitive in OCPI).
    assert (station.id, station.name, station.timezone) == ("loc1", "Interop garage", "Europe/Berlin")
    connector = mapping.connector_key("loc1", "evse1", "1")
    assert [c.id for c in station.connectors] == [connector]
    tariff = (await op.tariffs([connector]))[connector]
    assert tariff.currency == "EUR"
    states = await op.connector_statuses(["loc1"])
    assert states[connector].status is domain.ConnectorStatus.AVAILABLE

    started = await op.start_session("interop-1", connector)
    assert started.phase is domain.SessionPhase.STARTING
    # The CommandResult reaches our response_url; then the CPO lists the session.
    await eventually(lambda: any(isinstance(e, domain.SessionProgress) for e in events), timeout=30)
    charging = await op.session_status("interop-1")
    assert charging.phase is domain.SessionPhase.CHARGING

    stopping = await op.stop_session("interop-1", connector)
    assert stopping.phase is domain.SessionPhase.STOPPING
    await eventually(lambda: _progress(events, domain.SessionPhase.STOPPING), timeout=30)
    assert (await op.session_status("interop-1")).phase is domain.SessionPhase.COMPLETED
