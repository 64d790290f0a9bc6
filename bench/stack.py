"""The servers under test, each in its own process: simulators on one side, the gateway on the other.

``run_sims`` serves T/CEC simulators (fixed artificial latency on demand); ``run_gateway`` serves
the gateway over them on the server stack it is given and, when asked, the two floors over the very
same runtime (catalogue, cached statuses and tariffs), so every target answers the same query from
the same data. Asked for a ``snapshot`` it exports that data (``bench.snapshot``); asked for a
``proxy`` it serves the proxy floor over the upstream service at the URL it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields, replace
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from starlette.types import ASGIApp

from bench.procs import pin
from gateway.app.asgi import create_app
from gateway.app.server import Stack, bind, default_stack, serving
from gateway.settings.load import BreakerSettings, CacheSettings, GatewaySettings, Settings
from operators.tcec.codec import Secrets
from operators.tcec.sim.server import Faults, SimulatorConfig, TcecSimulator

US = "MA1BENCH0"  # the gateway's own T/CEC OperatorID
HANGZHOU = (30.274, 120.155)
SHANGHAI = (31.230, 121.474)
BENCH_SECURITY = {"anonymous_rate_per_s": 0.0, "max_cost": 10_000_000}


@dataclass(frozen=True)
class SimSpec:
    operator_id: str
    stations: int
    seed: int
    center: tuple[float, float]


@dataclass(frozen=True)
class GatewaySpec:
    operators: tuple[tuple[str, str], ...]  # (operator id, base URL)
    core: int | None
    status_ttl_s: float = 3600.0
    floors: bool = False
    stack: Stack = field(default_factory=default_stack)


def secrets_for(op_id: str) -> Secrets:
    return Secrets(f"{op_id}-data-ky"[:16].ljust(16, "k"), f"{op_id}-iv-00000"[:16], f"{op_id}-sig-0000"[:16])


def operator_secret(op_id: str) -> str:
    return f"{op_id}-opsecret"[:16].ljust(16, "s")


def operator_config(op_id: str, base_url: str) -> dict[str, Any]:
    s = secrets_for(op_id)
    return {
        "id": op_id,
        "protocol": "tcec",
        "name": f"Bench {op_id}",
        "base_url": base_url,
        "our_operator_id": US,
        "operator_secret": operator_secret(op_id),
        "data_secret": s.data_secret,
        "data_iv": s.data_iv,
        "sig_secret": s.sig_secret,
        "timeout_s": 2.0,
    }


def sim_config(spec: SimSpec) -> SimulatorConfig:
    return SimulatorConfig(
        operator_id=spec.operator_id,
        operator_secret=operator_secret(spec.operator_id),
        secrets=secrets_for(spec.operator_id),
        stations=spec.stations,
        seed=spec.seed,
        center=spec.center,
        aggregator_operator_id=US,
    )


async def commands(conn: Connection, handle: Any) -> None:
    """Answer the parent's messages until it says ``stop`` (or goes away)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            message = await loop.run_in_executor(None, conn.recv)
        except (EOFError, OSError):
            return
        if message == "stop":
            return
        try:
            conn.send(await handle(message))
        except Exception as exc:  # noqa: BLE001 - the parent shows it
            conn.send(exc)


def run_sims(spec: tuple[int | None, tuple[SimSpec, ...]], conn: Connection) -> None:
    core, sims = spec
    pin(core)
    # The gateway's own event loop (uvloop when installed), as a partner's production server would
    # have a fast one: the simulators share one core, and their CPU per answer delays the fan-out.
    default_stack().run(_serve_sims(sims, conn))


async def _serve_sims(specs: tuple[SimSpec, ...], conn: Connection) -> None:
    sims = [TcecSimulator(sim_config(s)) for s in specs]
    try:
        for sim in sims:
            await sim.start()
    except Exception as exc:  # noqa: BLE001
        conn.send(exc)
        return
    conn.send({sim.config.operator_id: sim.base_url for sim in sims})

    async def handle(message: Any) -> Any:
        kind, value = message
        if kind == "latency_ms":
            for sim in sims:
                sim.faults = Faults(latency_ms=value)
            return value
        raise ValueError(f"unknown command {kind!r}")

    try:
        await commands(conn, handle)
    finally:
        for sim in sims:
            await sim.stop()


def gateway_settings(spec: GatewaySpec, public_url: str) -> Settings:
    settings = Settings(
        gateway=GatewaySettings(mode="production", request_deadline_s=3.0, public_url=public_url),
        cache=CacheSettings(status_ttl_s=spec.status_ttl_s, status_push_ttl_s=300, tariff_ttl_s=3600),
        breaker=BreakerSettings(failure_threshold=1_000_000, reset_after_s=1),
    )
    # The load generator is one anonymous client far above any per-client rate, and the every-field
    # 100-station query costs more than the default limit: lift both, keep every other check on.
    security = getattr(settings, "security", None)
    if security is not None:
        known = {f.name for f in fields(security)}
        lifted = {k: v for k, v in BENCH_SECURITY.items() if k in known}
        settings = replace(settings, security=replace(security, **lifted))
    return settings.with_operators(tuple(operator_config(op, url) for op, url in spec.operators))


def run_gateway(spec: GatewaySpec, conn: Connection) -> None:
    pin(spec.core)
    logging.basicConfig(level=logging.WARNING)
    spec.stack.run(_serve_gateway(spec, conn))


def _listener(http: str) -> tuple[int, Callable[[ASGIApp], AbstractAsyncContextManager[str]]]:
    """A port, and how to serve an app on it: uvicorn with ``http`` as its parser, or Granian."""
    if http == "granian":
        from bench import granian_serving

        port = granian_serving.free_port()
        return port, lambda app: granian_serving.serving(app, port)
    sock = bind()
    return sock.getsockname()[1], lambda app: serving(app, sock, http=http)


def _serve(app: ASGIApp, http: str) -> AbstractAsyncContextManager[str]:
    return _listener(http)[1](app)


async def _serve_gateway(spec: GatewaySpec, conn: Connection) -> None:
    from bench import floors, snapshot

    http = spec.stack.http
    port, serve = _listener(http)
    app = create_app(gateway_settings(spec, f"http://127.0.0.1:{port}"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            url = await stack.enter_async_context(serve(app))
            runtime = app.state.runtime
            await asyncio.wait_for(runtime.catalogue.first_sync_done.wait(), 120)
            urls = {"gateway": url}
            if spec.floors:
                urls["web"] = await stack.enter_async_context(_serve(floors.web_app(runtime), http))
                urls["graphql"] = await stack.enter_async_context(_serve(floors.graphql_app(runtime), http))
            conn.send(urls)

            async def handle(message: Any) -> Any:
                kind, value = message
                if kind == "profile":
                    return await _profile(value)
                if kind == "snapshot":
                    return await snapshot.export(runtime, value)
                if kind == "proxy":
                    return await stack.enter_async_context(_serve(floors.proxy_app(value), http))
                raise ValueError(f"unknown command {kind!r}")

            await commands(conn, handle)
    except Exception as exc:  # noqa: BLE001
        with contextlib.suppress(OSError):
            conn.send(exc)
        raise


async def _profile(seconds: float) -> dict[str, Any]:
    """Profile this process's event loop for ``seconds`` (while the parent drives load): the text
    report and its top entries (``bench.profiling``)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"text": "pyinstrument is not installed", "top": None}
    from bench.profiling import top_entries

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    await asyncio.sleep(seconds)
    profiler.stop()
    root = profiler.last_session.root_frame()
    return {
        "text": profiler.output_text(unicode=False, color=False, show_all=False),
        "top": top_entries(root) if root is not None else None,
    }


async def http_ok(url: str) -> bool:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status == 200
