"""Fixtures for the OCPI tests: the CPO simulator and a real gateway serving our receiver routes.

Everything runs over loopback HTTP: the adapter calls the simulator through a real
``aiohttp.ClientSession``; the simulator pushes to the adapter's Starlette routes served by uvicorn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from operators.domain import OperatorEvent
from operators.ocpi.adapter import build
from operators.ocpi.sim.server import OcpiSimulator
from tests.operators.ocpi.helpers import CPO_ID, Gateway, gateway_config, loopback_socket, serving


@pytest.fixture
async def ocpi_http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def ocpi_sim() -> AsyncIterator[OcpiSimulator]:
    sim = OcpiSimulator(
        stations=25, seed=7, page_limit=10, push_interval_s=0.05, time_acceleration=120, command_delay_s=0.01
    )
    async with sim:
        yield sim


@pytest.fixture
async def ocpi_gateway(ocpi_sim: OcpiSimulator, ocpi_http: aiohttp.ClientSession) -> AsyncIterator[Gateway]:
    sock, public_url = loopback_socket()
    events: list[OperatorEvent] = []

    async def sink(operator_id: str, event: OperatorEvent) -> None:
        assert operator_id == CPO_ID
        events.append(event)

    op = build(gateway_config(ocpi_sim), ocpi_http, sink, public_url)
    try:
        async with serving(op, sock):
            yield Gateway(op, ocpi_sim, ocpi_http, events)
    finally:
        await op.aclose()
        sock.close()
