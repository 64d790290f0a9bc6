"""The proxy floor's upstream: a small aiohttp JSON service over a station snapshot (``bench.snapshot``).

It stands for the domain service a team already has: ``GET /stations?lat=&lon=&radius_km=&first=``
answers the stations within the radius, nearest first, each connector with its status and the
price in force now. It runs in its own process on the load generator's core, so the floor it
serves is charged only for calling it and reshaping its answer.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from multiprocessing.connection import Connection
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web

from bench.procs import pin
from bench.snapshot import total_at
from gateway.app.server import default_stack

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class StationService:
    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.stations = snapshot["stations"]
        self.tariffs = snapshot["tariffs"]

    def search(self, lat: float, lon: float, radius_km: float, first: int) -> dict[str, Any]:
        dlat = radius_km / KM_PER_DEG_LAT
        hits = []
        for s in self.stations:
            if abs(s["lat"] - lat) > dlat:
                continue
            d = haversine_km(lat, lon, s["lat"], s["lon"])
            if d <= radius_km:
                hits.append((d, s["operator_id"], s["id"], s))
        hits.sort(key=lambda h: h[:3])
        now = datetime.now(UTC)
        out = []
        for d, _, _, s in hits[:first]:
            local = now.astimezone(_zone(s["timezone"]))
            second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
            connectors = []
            for c in s["connectors"]:
                tariff = None if c["tariff"] is None else self.tariffs[c["tariff"]]
                connectors.append(
                    {
                        "id": c["id"],
                        "type": c["type"],
                        "power_type": c["power_type"],
                        "max_power_kw": c["max_power_kw"],
                        "status": c["status"],
                        "status_at": c["status_at"],
                        "price": None
                        if tariff is None
                        else {"amount": total_at(tariff, second), "currency": tariff["currency"]},
                    }
                )
            out.append(
                {
                    "operator_id": s["operator_id"],
                    "operator_name": s["operator_name"],
                    "id": s["id"],
                    "name": s["name"],
                    "address": s["address"],
                    "lat": s["lat"],
                    "lon": s["lon"],
                    "distance_km": d,
                    "connectors": connectors,
                }
            )
        return {"total": len(hits), "stations": out}


def app(snapshot: dict[str, Any]) -> web.Application:
    service = StationService(snapshot)

    async def stations(request: web.Request) -> web.Response:
        q = request.query
        try:
            lat, lon, radius = float(q["lat"]), float(q["lon"]), float(q["radius_km"])
            first = int(q["first"])
        except (KeyError, ValueError):
            return web.json_response({"error": "lat, lon, radius_km and first are required"}, status=400)
        body = orjson.dumps(service.search(lat, lon, radius, first))
        return web.Response(body=body, content_type="application/json")

    application = web.Application()
    application.router.add_get("/stations", stations)
    return application


def run_upstream(spec: tuple[int | None, dict[str, Any]], conn: Connection) -> None:
    """Child process: serve ``app(snapshot)`` on a free port, send its URL, serve until ``stop``."""
    core, snapshot = spec
    pin(core)
    default_stack().run(_serve(snapshot, conn))


async def _serve(snapshot: dict[str, Any], conn: Connection) -> None:
    from bench.stack import commands

    runner = web.AppRunner(app(snapshot), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    conn.send(f"http://127.0.0.1:{port}")

    async def handle(message: Any) -> Any:
        raise ValueError(f"unknown command {message!r}")

    try:
        await commands(conn, handle)
    finally:
        await runner.cleanup()
