"""The simulator's Sender interfaces: paged GET lists (§4.1.8) and single Location/EVSE/Connector GETs.

Lists keep creation order (so new objects only appear on the last page), filter ``date_from``
inclusive and ``date_to`` exclusive on ``last_updated``, cap ``limit`` at the server maximum
(``X-Limit``), report ``X-Total-Count`` and link the next page with the filters kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from operators.ocpi import codec
from operators.ocpi.sim.config import OcpiSimulatorConfig
from operators.ocpi.sim.replies import ocpi_response
from operators.ocpi.sim.sessions import SimSessions


class SenderHost(Protocol):
    """What the Sender interfaces serve from the simulator (``server.OcpiSimulator``)."""

    config: OcpiSimulatorConfig
    locations: dict[str, dict[str, Any]]
    tariffs: dict[str, dict[str, Any]]
    sessions: SimSessions


class SenderApi:
    def __init__(self, sim: SenderHost) -> None:
        self.sim = sim

    def add_routes(self, router: web.UrlDispatcher, prefix: str) -> None:
        router.add_get(prefix + "/locations", self.locations)
        router.add_get(prefix + "/locations/{location_id}", self.location)
        router.add_get(prefix + "/locations/{location_id}/{evse_uid}", self.location)
        router.add_get(prefix + "/locations/{location_id}/{evse_uid}/{connector_id}", self.location)
        router.add_get(prefix + "/tariffs", self.tariffs)
        router.add_get(prefix + "/sessions", self.sessions)
        router.add_get(prefix + "/cdrs", self.cdrs)

    async def locations(self, request: web.Request) -> web.Response:
        return page(request, list(self.sim.locations.values()), self.sim.config.page_limit)

    async def tariffs(self, request: web.Request) -> web.Response:
        return page(request, list(self.sim.tariffs.values()), self.sim.config.page_limit)

    async def sessions(self, request: web.Request) -> web.Response:
        if "date_from" not in request.query:  # §9.1.1.1: date_from is required [our choice: 2001]
            return ocpi_response(None, 2001, "date_from is required", http_status=400)
        return page(request, self.sim.sessions.sessions, self.sim.config.page_limit)

    async def cdrs(self, request: web.Request) -> web.Response:
        return page(request, self.sim.sessions.cdrs, self.sim.config.page_limit)

    async def location(self, request: web.Request) -> web.Response:
        info = request.match_info
        obj: dict[str, Any] | None = self.sim.locations.get(info["location_id"])
        if obj is not None and "evse_uid" in info:
            obj = next((e for e in obj["evses"] if e["uid"] == info["evse_uid"]), None)
        if obj is not None and "connector_id" in info:
            obj = next((c for c in obj["connectors"] if c["id"] == info["connector_id"]), None)
        if obj is None:
            return ocpi_response(None, 2003, "unknown location", http_status=404)
        return ocpi_response(obj)


def _when(text: str | None) -> datetime | None:
    return codec.parse_datetime(text) if text else None


def page(request: web.Request, items: Sequence[dict[str, Any]], server_limit: int) -> web.Response:
    query = request.query
    try:
        date_from, date_to = _when(query.get("date_from")), _when(query.get("date_to"))
        offset = int(query.get("offset", "0"))
        limit = min(int(query.get("limit", str(server_limit))), server_limit)
        if offset < 0 or limit < 1:
            raise ValueError("offset and limit must be positive")
    except ValueError as exc:
        return ocpi_response(None, 2001, f"bad paging parameters: {exc}", http_status=400)
    selected = []
    for item in items:
        updated = codec.parse_datetime(item["last_updated"])
        if (date_from is None or updated >= date_from) and (date_to is None or updated < date_to):
            selected.append(item)
    headers = {"X-Total-Count": str(len(selected)), "X-Limit": str(server_limit)}
    if offset + limit < len(selected):
        params = {k: v for k, v in query.items() if k in ("date_from", "date_to")}
        params |= {"offset": str(offset + limit), "limit": str(limit)}
        headers["Link"] = f'<{request.url.with_query(params)}>; rel="next"'
    return ocpi_response(selected[offset : offset + limit], headers=headers)
