"""A simulator's HTTP server on loopback: start, stop, its address, and a hang that stop() ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

log = logging.getLogger(__name__)

HANG_S = 3600.0  # the timeout fault: far beyond any client timeout, cut short by stop()


class LoopbackServer:
    """Serves one ``web.Application``; ``port`` 0 picks an ephemeral port, read back after start."""

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, app: web.Application) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{self.name} already started")
        self._closing.clear()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("%s listening on %s", self.name, self.base_url)

    async def stop(self) -> None:
        self._closing.set()  # releases requests hung by the timeout fault
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def closed_within(self, seconds: float) -> bool:
        """Wait ``seconds``, cut short by :meth:`stop`; whether the server is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return self._closing.is_set()

    async def hang(self) -> web.Response:
        """Never answer (the timeout fault) until the server stops."""
        await self.closed_within(HANG_S)
        return web.json_response({"error": "shutting down"}, status=503)
