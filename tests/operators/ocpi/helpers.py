"""Shared helpers of the OCPI tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from operators.domain import OperatorEvent
from operators.ocpi.adapter import OcpiOperator
from operators.ocpi.sim.server import OcpiSimulator

CPO_ID = "CNSHA"


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it is truthy or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


@dataclass
class Gateway:
    op: OcpiOperator
    sim: OcpiSimulator
    http: aiohttp.ClientSession
    events: list[OperatorEvent] = field(default_factory=list)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def loopback_socket() -> tuple[socket.socket, str]:
    """A bound (not yet listening) loopback socket and the base URL it will serve."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def serving(op: OcpiOperator, sock: socket.socket) -> AsyncIterator[None]:
    """Serve the adapter's inbound routes with uvicorn on ``sock`` (the gateway's role)."""
    push = op.push_app()
    app = Starlette(routes=[Mount(push.prefix, push.app)])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        yield
    finally:
        server.should_exit = True
        await task


def gateway_config(sim: OcpiSimulator) -> dict[str, object]:
    return {
        "id": CPO_ID,
        "name": "Sim Shanghai",
        "versions_url": sim.versions_url,
        "token": sim.config.token,
        "timeout_s": 1.0,
        "page_size": 10,
    }
