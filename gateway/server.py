"""Run an ASGI app under uvicorn inside the current event loop (tests, benchmarks, embedding)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

# Longer than clients' pool idle time (aiohttp: 15 s), so a pooled connection is rarely closed
# under an operator that is just starting a push on it.
KEEP_ALIVE_S = 75


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket, so the port is known before the app starts (for push URLs)."""
    # IPPROTO_TCP, not 0: accepted sockets inherit it, and asyncio sets TCP_NODELAY only on sockets
    # whose proto says TCP. Without it Nagle holds the body behind the headers for a delayed ACK
    # (about 40 ms per request on a keep-alive connection).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket, *, startup_timeout_s: float = 30) -> AsyncIterator[str]:
    """Serve ``app`` on ``sock`` until the block exits; yields the base URL."""
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, timeout_keep_alive=KEEP_ALIVE_S
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout_s
    while not server.started:
        if task.done():
            task.result()  # re-raise the start-up failure
            raise RuntimeError("server stopped during start-up")
        if loop.time() > deadline:
            raise TimeoutError("server did not start in time")
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
