"""Granian (a Rust HTTP server) embedded in the current event loop, as a third server stack to measure.

Granian's embedded mode is experimental and binds its own port (so the port is found free first);
the bench measures it beside uvicorn's stacks when it is installed (``pip install granian``), it is
not a dependency of the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int, *, startup_timeout_s: float = 30) -> AsyncIterator[str]:
    """Serve ``app`` with Granian on 127.0.0.1:``port`` until the block exits; yields the base URL."""
    from granian.constants import Interfaces
    from granian.server.embed import Server

    logging.getLogger("_granian").setLevel(logging.ERROR)
    server = Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout_s
    while True:
        if task.done():
            task.result()
            raise RuntimeError("granian stopped during start-up")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError("granian did not start in time") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        break
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.signal_handler_interrupt()
        await asyncio.wait_for(task, 30)
