"""The demo network: built-in simulators started in-process, and the operator configs to reach them.

Two T/CEC 102 operators (Hangzhou, Shanghai; 300 stations each) and one OCPI 2.2.1 CPO (Shanghai).

Like the registry, this module may name adapter packages. Everything here is fixed demo data:
the secrets are public example values, not credentials.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from operators.ocpi.sim.server import OcpiSimulator
from operators.tcec.codec import Secrets
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator

GATEWAY_OPERATOR_ID = "MA1CHGATE"  # our own T/CEC OperatorID in the demo
OCPI_DEMO_STATIONS = 220


@dataclass(frozen=True)
class TcecDemo:
    operator_id: str
    name: str
    operator_secret: str
    data_secret: str
    data_iv: str
    sig_secret: str
    center: tuple[float, float]
    seed: int
    stations: int = 300


TCEC_DEMO = (
    TcecDemo(
        "MA1HZPOWR",
        "杭州电力充电 (demo)",
        "hzOpSecret000001",
        "hzDataSecret0001",
        "hzDataIv00000001",
        "hzSigSecret00001",
        (30.274, 120.155),
        seed=11,
    ),
    TcecDemo(
        "MA1SHEVCS",
        "上海星充 (demo)",
        "shOpSecret000001",
        "shDataSecret0001",
        "shDataIv00000001",
        "shSigSecret00001",
        (31.230, 121.474),
        seed=22,
    ),
)


@contextlib.asynccontextmanager
async def running(public_url: str, *, status_interval_s: float = 5.0) -> AsyncIterator[list[dict[str, Any]]]:
    """Start the demo simulators; yield the ``[[operators]]`` configs that point at them."""
    async with contextlib.AsyncExitStack() as stack:
        configs: list[dict[str, Any]] = []
        for demo in TCEC_DEMO:
            secrets = Secrets(demo.data_secret, demo.data_iv, demo.sig_secret)
            sim = TcecSimulator(
                SimulatorConfig(
                    operator_id=demo.operator_id,
                    operator_secret=demo.operator_secret,
                    secrets=secrets,
                    stations=demo.stations,
                    seed=demo.seed,
                    center=demo.center,
                    notify_url=f"{public_url}/push/tcec/{demo.operator_id}",
                    aggregator_operator_id=GATEWAY_OPERATOR_ID,
                    status_change_interval_s=status_interval_s,
                    # A demo walkthrough should take minutes: three hours of charging pass in a
                    # minute, progress arrives every 2 s, and electric buses and trucks come to
                    # charge, so a prepaid session runs into the driver's balance (¥200 for carol)
                    # before the battery is full.
                    charge_push_interval_s=2.0,
                    time_acceleration=180.0,
                    start_delay_s=0.5,
                    order_retry_s=2.0,
                    batteries_kwh=(400.0, 500.0, 600.0),
                )
            )
            await stack.enter_async_context(sim)
            configs.append(
                {
                    "id": demo.operator_id,
                    "protocol": "tcec",
                    "name": demo.name,
                    "base_url": sim.base_url,
                    "our_operator_id": GATEWAY_OPERATOR_ID,
                    "operator_secret": demo.operator_secret,
                    "data_secret": demo.data_secret,
                    "data_iv": demo.data_iv,
                    "sig_secret": demo.sig_secret,
                }
            )
        ocpi = OcpiSimulator(
            stations=OCPI_DEMO_STATIONS,
            seed=33,
            center=(31.230, 121.474),
            country_code="CN",
            party_id="SHA",
            push_interval_s=2.0,
            time_acceleration=180.0,
        )
        await stack.enter_async_context(ocpi)
        configs.append(
            {
                "id": "CNSHA",
                "protocol": "ocpi",
                "name": "Shanghai Roaming CPO (demo, OCPI)",
                "versions_url": ocpi.versions_url,
                "token": ocpi.config.token,
            }
        )
        yield configs
