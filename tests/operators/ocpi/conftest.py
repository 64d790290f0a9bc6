"""Fixtures for the OCPI tests: the CPO simulator and a real gateway serving our receiver routes.

Everything runs over loopback HTTP: the adapter calls the simulator through a real
``aiohttp.ClientSession``; the simulator pushes to the adapter's Starlette routes served by uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import uvicorn
from ocpi_helpers import CPO_ID, Gateway, eventually
from starlette.applications import Starlette

from operators.domain import OperatorEvent
from operators.ocpi.adapter import build
from operators.ocpi.simulator import OcpiSimulator


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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    events: list[OperatorEvent] = []

    async def sink(operator_id: str, event: OperatorEvent) -> None:
        assert operator_id == CPO_ID
        events.append(event)

    config = {
        "id": CPO_ID,
        "name": "Sim Shanghai",
        "versions_url": ocpi_sim.versions_url,
        "token": ocpi_sim.config.token,
        "timeout_s": 1.0,
        "page_size": 10,
    }
    op = build(config, ocpi_http, sink, public_url)
    app = Starlette(routes=list(op.inbound_routes()))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started)
        yield Gateway(op, ocpi_sim, ocpi_http, events)
    finally:
        server.should_exit = True
        await task
        await op.aclose()
        sock.close()
