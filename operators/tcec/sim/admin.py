"""The simulator's admin endpoints (JSON, never faulted): faults, network summary, sessions, status.

Mounted at the server root and under ``path_prefix``:
``GET|POST /_sim/faults`` (POST merges the given fields), ``GET /_sim/network``,
``GET /_sim/sessions``, ``POST /_sim/connector_status`` with ``{"ConnectorID": …, "Status": …}``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Protocol

from aiohttp import web

from operators.tcec.sim.faults import Faults
from operators.tcec.sim.network import Network
from operators.tcec.sim.sessions import SessionBook
from operators.tcec.sim.wire import dumps


class AdminHost(Protocol):
    """What the admin endpoints read and change on the simulator (``server.TcecSimulator``)."""

    faults: Faults

    @property
    def network(self) -> Network: ...

    @property
    def base_url(self) -> str: ...

    @property
    def sessions(self) -> SessionBook: ...

    @property
    def calls(self) -> Counter[str]: ...

    @property
    def pushes(self) -> Counter[str]: ...

    async def set_connector_status(self, connector_id: str, status: int) -> bool: ...


def add_admin_routes(app: web.Application, sim: AdminHost, roots: tuple[str, ...]) -> None:
    admin = _Admin(sim)
    for root in dict.fromkeys(roots):
        app.router.add_get(f"{root}/_sim/faults", admin.get_faults)
        app.router.add_post(f"{root}/_sim/faults", admin.post_faults)
        app.router.add_get(f"{root}/_sim/network", admin.get_network)
        app.router.add_get(f"{root}/_sim/sessions", admin.get_sessions)
        app.router.add_post(f"{root}/_sim/connector_status", admin.post_connector_status)


class _Admin:
    def __init__(self, sim: AdminHost) -> None:
        self.sim = sim

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.faults.to_json())

    async def post_faults(self, request: web.Request) -> web.Response:
        try:
            self.sim.faults = self.sim.faults.updated(await request.json())
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.sim.faults.to_json())

    async def get_network(self, request: web.Request) -> web.Response:
        sim = self.sim
        summary = sim.network.summary() | {
            "baseUrl": sim.base_url,
            "sessions": len(sim.sessions.by_seq),
            "activeSessions": len(sim.sessions.active()),
            "calls": dict(sim.calls),
            "pushes": dict(sim.pushes),
        }
        return web.json_response(summary, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    async def get_sessions(self, request: web.Request) -> web.Response:
        now = time.time()
        bodies = [s.status_body(now) for s in self.sim.sessions.by_seq.values()]
        return web.Response(
            body=dumps({"Sessions": bodies}), content_type="application/json", charset="utf-8"
        )

    async def post_connector_status(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            pushed = await self.sim.set_connector_status(str(body["ConnectorID"]), int(body["Status"]))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        return web.json_response({"pushed": pushed})
