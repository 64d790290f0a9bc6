"""A whole gateway over real HTTP on loopback, with two T/CEC simulators behind it.

Hangzhou (``HZ``) and Shanghai (``SH``) operators, small networks, statuses pushed to the gateway.
Nothing is mocked: the gateway talks T/CEC to the simulators and they push back to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.runtime import Runtime
from gateway.settings.load import BreakerSettings, CacheSettings, GatewaySettings, Settings
from operators.ocpi.sim.server import OcpiSimulator
from operators.tcec.codec import Secrets
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator

HZ, SH, OCPI = "MA1HZTEST", "MA1SHTEST", "CNSHA"
CENTERS = {HZ: (30.274, 120.155), SH: (31.230, 121.474)}
US = "MA1GWTEST"
DEADLINE_S = 3.0  # generous: a loaded CI machine must not turn a healthy operator into a timeout
# per upstream call: a silent operator times out well inside the deadline, a healthy one on a loaded
# machine (2 cores shared with simulators and the test process) still answers in time
UPSTREAM_TIMEOUT_S = 1.5


@dataclass
class Stack:
    url: str
    http: aiohttp.ClientSession
    sims: dict[str, TcecSimulator]
    runtime: Runtime
    ocpi: OcpiSimulator | None = None
    app: Any = None  # the Starlette app

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/graphql", json={"query": query, "variables": variables}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.graphql(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]


def secrets_for(op_id: str) -> Secrets:
    return Secrets(f"{op_id}-data-ky"[:16].ljust(16, "k"), f"{op_id}-iv-00000"[:16], f"{op_id}-sig-0000"[:16])


def operator_secret(op_id: str) -> str:
    return f"{op_id}-opsecret"[:16].ljust(16, "s")


async def poll(check, *, timeout_s: float = 5.0, interval_s: float = 0.02):
    """Call ``check`` until it returns a truthy value or the deadline passes (then fail)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s (last value {value!r})")
        await asyncio.sleep(interval_s)


@dataclass(frozen=True)
class SimClock:
    """How fast the simulators' sessions move: real seconds between progress reports, and how many
    seconds of charging pass in one real second."""

    push_interval_s: float = 1.0
    acceleration: float = 120.0
    batteries_kwh: tuple[float, ...] = (50.0, 60.0, 75.0, 80.0)


DEMO_CLOCK = SimClock(2.0, 180.0, (400.0, 500.0, 600.0))  # what `chargegate serve --demo` runs


@pytest.fixture
def stack_settings() -> Settings:
    return Settings(
        gateway=GatewaySettings(mode="dev", request_deadline_s=DEADLINE_S),
        cache=CacheSettings(status_ttl_s=30, status_push_ttl_s=300, tariff_ttl_s=3600),
        breaker=BreakerSettings(failure_threshold=3, reset_after_s=60),
    )


@contextlib.asynccontextmanager
async def running_stack(
    settings: Settings,
    *,
    ocpi_stations: int = 0,
    ocpi_sim: OcpiSimulator | None = None,
    clock: SimClock | None = None,
) -> AsyncIterator[Stack]:
    """The two T/CEC simulators (and, with ``ocpi_stations``, an OCPI CPO near Shanghai, or the
    given ``ocpi_sim``, which several stacks may share) behind a gateway served on loopback; ready
    (first catalogue sync done) when yielded.

    Sessions move fast: by default two minutes of charging per second, progress every second."""
    clock = clock or SimClock()
    sock = bind()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sims = {
        op_id: TcecSimulator(
            SimulatorConfig(
                operator_id=op_id,
                operator_secret=operator_secret(op_id),
                secrets=secrets_for(op_id),
                stations=80,
                seed=7 if op_id == HZ else 8,
                center=CENTERS[op_id],
                notify_url=f"{public_url}/push/tcec/{op_id}",
                aggregator_operator_id=US,
                charge_push_interval_s=clock.push_interval_s,
                time_acceleration=clock.acceleration,
                batteries_kwh=clock.batteries_kwh,
                start_delay_s=0.1,
                order_retry_s=0.5,
            )
        )
        for op_id in (HZ, SH)
    }
    async with contextlib.AsyncExitStack() as resources:
        for sim in sims.values():
            await resources.enter_async_context(sim)
        configs = [
            {
                "id": op_id,
                "protocol": "tcec",
                "name": f"Test {op_id}",
                "base_url": sim.base_url,
                "our_operator_id": US,
                "operator_secret": operator_secret(op_id),
                "data_secret": secrets_for(op_id).data_secret,
                "data_iv": secrets_for(op_id).data_iv,
                "sig_secret": secrets_for(op_id).sig_secret,
                "timeout_s": UPSTREAM_TIMEOUT_S,
                "qr_patterns": [
                    f"https://scan.{op_id.lower()}.example/pile/{{ConnectorID}}"
                ],  # their stickers
            }
            for op_id, sim in sims.items()
        ]
        ocpi = ocpi_sim
        if ocpi_stations and ocpi is None:
            ocpi = await resources.enter_async_context(
                OcpiSimulator(
                    stations=ocpi_stations,
                    seed=9,
                    center=CENTERS[SH],
                    push_interval_s=clock.push_interval_s,
                    time_acceleration=clock.acceleration,
                    command_delay_s=0.1,
                )
            )
        if ocpi is not None:
            configs.append(
                {
                    "id": OCPI,
                    "protocol": "ocpi",
                    "name": f"Test {OCPI}",
                    "versions_url": ocpi.versions_url,
                    "token": ocpi.config.token,
                    "timeout_s": UPSTREAM_TIMEOUT_S,
                }
            )
        settings = replace(settings, gateway=replace(settings.gateway, public_url=public_url))
        app = create_app(settings.with_operators(tuple(configs)))
        url = await resources.enter_async_context(serving(app, sock))
        http = await resources.enter_async_context(aiohttp.ClientSession())
        runtime = app.state.runtime

        async def synced() -> bool:
            return all(runtime.catalogue.synced(op_id) for op_id in runtime.operators)

        await poll(synced, timeout_s=10)
        yield Stack(url, http, sims, runtime, ocpi, app)


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings) as running:
        yield running
