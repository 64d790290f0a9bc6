"""What every rail simulator serves beside its provider's API, and how it starts and stops.

``/_sim/ledger`` (its own books), ``/_sim/faults`` (read and change the faults it injects) and
``/_sim/notifications`` (what it delivered, and how the gateway answered) — the same on every rail, so
a test or a person drives the Alipay and the WeChat Pay simulator alike.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from aiohttp import web

from gateway.rails.sim.faults import RailFaults
from gateway.rails.sim.loopback import LoopbackServer
from gateway.rails.sim.notifier import Notifier


class Books(Protocol):
    def to_json(self) -> Any: ...


class Controlled(Protocol):
    faults: RailFaults  # replaced on each change

    @property
    def ledger(self) -> Books: ...

    @property
    def deliveries(self) -> list[Any]: ...


def control_routes(sim: Controlled) -> list[web.RouteDef]:
    async def get_ledger(request: web.Request) -> web.Response:
        return web.json_response(sim.ledger.to_json())

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(sim.faults.to_json())

    async def post_faults(request: web.Request) -> web.Response:
        try:
            sim.faults = sim.faults.updated(await request.json())
        except ValueError as exc:  # also a body that is not JSON
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(sim.faults.to_json())

    async def get_notifications(request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(d) for d in sim.deliveries])

    return [
        web.get("/_sim/ledger", get_ledger),
        web.get("/_sim/faults", get_faults),
        web.post("/_sim/faults", post_faults),
        web.get("/_sim/notifications", get_notifications),
    ]


async def serve(server: LoopbackServer, notifier: Notifier, app: web.Application) -> None:
    """Start the notification sender, then the server (the sender stops again if the server cannot)."""
    await notifier.start()
    try:
        await server.start(app)
    except BaseException:
        await notifier.stop()
        raise


async def shutdown(server: LoopbackServer, notifier: Notifier) -> None:
    await server.stop()
    await notifier.stop()
