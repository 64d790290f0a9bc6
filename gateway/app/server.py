"""The server stack (event loop and HTTP parser), and an ASGI app under uvicorn inside the current
event loop (tests, benchmarks, embedding).

``chargegate serve`` runs on :func:`default_stack`: uvloop and httptools when installed (they are
dependencies; ``make bench`` measures the stacks side by side), else asyncio and h11.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")

# Longer than clients' pool idle time (aiohttp: 15 s), so a pooled connection is rarely closed
# under an operator that is just starting a push on it.
KEEP_ALIVE_S = 75


@dataclass(frozen=True)
class Stack:
    """An event loop (``asyncio`` or ``uvloop``) and uvicorn's HTTP/1.1 parser (``h11`` or ``httptools``)."""

    loop: str
    http: str

    @property
    def name(self) -> str:
        return f"{self.loop}+{self.http}"

    def available(self) -> bool:
        needed = [m for m in (self.loop, self.http) if m not in ("asyncio", "h11")]
        return all(importlib.util.find_spec(m) is not None for m in needed)

    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        if self.loop == "uvloop":
            import uvloop

            return uvloop.new_event_loop
        return None

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """``asyncio.run(main)`` on this stack's event loop."""
        with asyncio.Runner(loop_factory=self.loop_factory()) as runner:
            return runner.run(main)


FAST = Stack("uvloop", "httptools")
PLAIN = Stack("asyncio", "h11")


def default_stack() -> Stack:
    """The fastest stack installed (``make bench``: uvloop + httptools), else the pure-Python one."""
    return FAST if FAST.available() else PLAIN


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
async def serving(
    app: ASGIApp, sock: socket.socket, *, startup_timeout_s: float = 30, http: str | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on ``sock`` until the block exits; yields the base URL. ``http`` is uvicorn's
    parser (default: the default stack's); the event loop is whichever runs the caller."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        http=http or default_stack().http,
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
