"""A closed-loop HTTP/1.1 load generator on raw asyncio transports, cheap enough to share a core.

Each of ``concurrency`` workers owns one keep-alive connection and sends the next request as soon
as the previous answer arrived. Every answer is checked; failures are counted, never dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

# (status, body) -> None when the answer is right, else a short reason.
Check = Callable[[int, bytes], str | None]


class ProtocolError(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers must carry Content-Length (Starlette's always do)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._head: tuple[int, int, int] | None = None  # status, body start, body length
        self._lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ProtocolError("connection closed")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self._buf[:end]).split(b"\r\n")
            try:
                status = int(lines[0].split(b" ", 2)[1])
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in lines[1:]
                    if line[:15].lower() == b"content-length:"
                )
            except (IndexError, ValueError, StopIteration):
                waiter.set_exception(ProtocolError(f"bad response head: {lines[0]!r}"))
                return
            self._head = (status, end + 4, length)
        status, start, length = self._head
        if len(self._buf) >= start + length:
            body = bytes(self._buf[start : start + length])
            del self._buf[: start + length]
            self._head = None
            waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self._lost is not None:
            raise self._lost
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self._waiter


def post_bytes(url: str, body: object) -> bytes:
    """A complete HTTP/1.1 POST of ``body`` as JSON."""
    parts = urlsplit(url)
    payload = orjson.dumps(body)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("ascii") + payload


@dataclass
class Window:
    """What one measured window saw."""

    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    reasons: dict[str, int] = field(default_factory=dict)
    cpu_s: float | None = None  # server process CPU over the window, when measured

    def fail(self, reason: str) -> None:
        self.failures += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_s is None or not self.requests:
            return None
        return self.cpu_s / self.requests * 1e6


async def run_window(
    url: str,
    body: object,
    check: Check,
    *,
    concurrency: int,
    seconds: float,
    warmup_s: float = 0.2,
    cpu: Callable[[], float] | None = None,
    max_requests: int | None = None,
) -> Window:
    """Drive ``url`` closed-loop for ``warmup_s`` (not counted) then ``seconds`` (counted).

    ``cpu()`` (the server's CPU seconds so far) is read at both ends of the counted part.
    """
    raw = post_bytes(url, body)
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    window = Window()
    phase = {"counting": False, "stop": False}

    async def worker() -> None:
        _, conn = await loop.create_connection(_Connection, parts.hostname, parts.port)
        try:
            while not phase["stop"]:
                t0 = time.perf_counter()
                try:
                    status, payload = await conn.request(raw)
                except (OSError, ProtocolError) as exc:
                    if phase["counting"]:
                        window.requests += 1
                        window.fail(f"transport: {type(exc).__name__}")
                    _, conn = await loop.create_connection(_Connection, parts.hostname, parts.port)
                    continue
                elapsed = time.perf_counter() - t0
                if not phase["counting"]:
                    continue
                window.requests += 1
                reason = check(status, payload)
                if reason is None:
                    window.latencies.append(elapsed)
                else:
                    window.fail(reason)
                if max_requests is not None and window.requests >= max_requests:
                    phase["stop"] = True
        finally:
            if conn.transport is not None:
                conn.transport.close()

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        await asyncio.sleep(warmup_s)
        cpu0 = cpu() if cpu else None
        t0 = time.perf_counter()
        phase["counting"] = True
        deadline = t0 + seconds
        while not phase["stop"] and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        phase["counting"] = False
        window.seconds = time.perf_counter() - t0
        if cpu is not None and cpu0 is not None:
            window.cpu_s = cpu() - cpu0
        phase["stop"] = True
        await asyncio.wait(tasks, timeout=10)  # in-flight answers; a hung server must not hang us
    finally:
        for task in tasks:
            task.cancel()
    return window


async def run_calls(
    call: Callable[[], object],
    *,
    seconds: float,
    warmup_s: float = 0.2,
    cpu: Callable[[], float] | None = None,
) -> Window:
    """Closed loop (concurrency 1) over an arbitrary coroutine factory, e.g. a direct upstream call.
    ``cpu()`` (the CPU seconds of the process making the calls) is read at both ends."""
    window = Window()
    end_warmup = time.perf_counter() + warmup_s
    while time.perf_counter() < end_warmup:
        await call()  # type: ignore[misc]
    cpu0 = cpu() if cpu else None
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        s = time.perf_counter()
        window.requests += 1
        try:
            await call()  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - counted, shown in the report
            window.fail(type(exc).__name__)
            continue
        window.latencies.append(time.perf_counter() - s)
    window.seconds = time.perf_counter() - t0
    if cpu is not None and cpu0 is not None:
        window.cpu_s = cpu() - cpu0
    return window
