"""The floors the gateway is measured against, in the gateway's process and on its server stack.

- The web floor: a plain Starlette JSON endpoint that does the search's work by hand (radius search,
  cached statuses and tariffs, price now, IDs) and returns exactly the gateway's JSON.
- The GraphQL floor: plain graphql-core (parse, validate, execute on every request, default
  resolvers over dicts) running the same document against the same SDL, with the same data.
- The proxy floor: what a team writes with no gateway. A plain Starlette endpoint asks an upstream
  JSON service (``bench.upstream_service``, another process) for the stations and reshapes its
  answer into the gateway's JSON (global IDs, cursors, nested objects).

The first two read through the same catalogue and cached operators as the gateway, so their ratios
isolate what the GraphQL layer adds; the proxy floor's upstream serves a snapshot of that data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import graphql
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.catalogue.ranking import StationOrder, encode_cursor
from gateway.runtime import Runtime
from resolvers import ids
from resolvers.scalars import serialize_datetime

SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


async def search_payload(runtime: Runtime, lat: float, lon: float, radius_km: float, first: int) -> dict:
    """``stations`` as the benchmark's search query selects it, built by hand."""
    hits = runtime.catalogue.near(lat, lon, radius_km)
    page = hits[:first]
    stations: dict[str, list[str]] = {}
    connectors: dict[str, list[str]] = {}
    for _, s in page:
        stations.setdefault(s.operator_id, []).append(s.id)
        connectors.setdefault(s.operator_id, []).extend(c.id for c in s.connectors)
    ops = runtime.operators
    order = list(stations)
    found = await asyncio.gather(
        *(ops[op].connector_statuses(stations[op]) for op in order),
        *(ops[op].tariffs(connectors[op]) for op in order),
    )
    statuses = dict(zip(order, found[: len(order)], strict=True))
    tariffs = dict(zip(order, found[len(order) :], strict=True))
    now = datetime.now(UTC)
    edges = []
    for distance, s in page:
        local = now.astimezone(_zone(s.timezone)).time()
        states, prices = statuses[s.operator_id], tariffs[s.operator_id]
        out = []
        for c in s.connectors:
            state = states.get(c.id)
            tariff = prices.get(c.id)
            p = tariff.price_at(local) if tariff else None
            out.append(
                {
                    "id": ids.connector_id(s.operator_id, c.id),
                    "type": c.type.name,
                    "powerType": c.power_type.name,
                    "maxPowerKw": c.max_power_kw,
                    "status": state.status.name if state else "UNKNOWN",
                    "statusUpdatedAt": serialize_datetime(state.observed_at) if state else None,
                    "currentPrice": {"totalPerKwh": {"amount": str(p.total_per_kwh), "currency": p.currency}}
                    if p
                    else None,
                }
            )
        edges.append(
            {
                "cursor": encode_cursor(StationOrder.DISTANCE, (0, 0, distance, s.operator_id, s.id)),
                "distanceKm": round(distance, 3),
                "node": {
                    "id": ids.station_id(s.operator_id, s.id),
                    "name": s.name,
                    "address": s.address,
                    "operator": {"id": ids.operator_id(s.operator_id), "name": ops[s.operator_id].info.name},
                    "location": {"lat": s.location.lat, "lon": s.location.lon},
                    "connectors": out,
                },
            }
        )
    return {
        "totalCount": len(hits),
        "pageInfo": {
            "hasNextPage": len(page) < len(hits),
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "edges": edges,
    }


def web_app(runtime: Runtime) -> Starlette:
    async def search(request: Request) -> Response:
        v = orjson.loads(await request.body())["variables"]
        near = v["near"]
        payload = await search_payload(runtime, near["lat"], near["lon"], v["radiusKm"], v["first"])
        return Response(orjson.dumps({"data": {"stations": payload}}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", search, methods=["POST"])])


def graphql_app(runtime: Runtime) -> Starlette:
    schema = graphql.build_schema(SDL.read_text(encoding="utf-8"))

    async def stations(info: Any, near: dict, radiusKm: float, first: int, **_: Any) -> dict:  # noqa: N803
        return await search_payload(runtime, near["lat"], near["lon"], radiusKm, first)

    root = {"stations": stations}

    async def execute(request: Request) -> Response:
        doc = orjson.loads(await request.body())
        result = await graphql.graphql(
            schema, doc["query"], root_value=root, variable_values=doc.get("variables")
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return Response(orjson.dumps(out), media_type="application/json")

    return Starlette(routes=[Route("/graphql", execute, methods=["POST"])])


def reshape(upstream: dict[str, Any], first: int) -> dict[str, Any]:
    """The upstream service's answer as the gateway's ``stations`` connection."""
    edges = []
    for s in upstream["stations"][:first]:
        op = s["operator_id"]
        distance = s["distance_km"]
        edges.append(
            {
                "cursor": encode_cursor(StationOrder.DISTANCE, (0, 0, distance, op, s["id"])),
                "distanceKm": round(distance, 3),
                "node": {
                    "id": ids.station_id(op, s["id"]),
                    "name": s["name"],
                    "address": s["address"],
                    "operator": {"id": ids.operator_id(op), "name": s["operator_name"]},
                    "location": {"lat": s["lat"], "lon": s["lon"]},
                    "connectors": [
                        {
                            "id": ids.connector_id(op, c["id"]),
                            "type": c["type"],
                            "powerType": c["power_type"],
                            "maxPowerKw": c["max_power_kw"],
                            "status": c["status"],
                            "statusUpdatedAt": c["status_at"],
                            "currentPrice": {"totalPerKwh": c["price"]} if c["price"] else None,
                        }
                        for c in s["connectors"]
                    ],
                },
            }
        )
    total = upstream["total"]
    return {
        "totalCount": total,
        "pageInfo": {"hasNextPage": len(edges) < total, "endCursor": edges[-1]["cursor"] if edges else None},
        "edges": edges,
    }


def proxy_app(upstream_url: str) -> Starlette:
    """``POST /graphql`` (the search's variables) → ``GET {upstream_url}/stations`` → reshaped."""
    http: dict[str, aiohttp.ClientSession] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        http["session"] = aiohttp.ClientSession(f"{upstream_url}/")
        try:
            yield
        finally:
            await http["session"].close()

    async def search(request: Request) -> Response:
        v = orjson.loads(await request.body())["variables"]
        near, first = v["near"], v["first"]
        params = {"lat": near["lat"], "lon": near["lon"], "radius_km": v["radiusKm"], "first": first}
        async with http["session"].get("stations", params=params) as r:
            if r.status != 200:
                return Response(orjson.dumps({"errors": [{"message": f"upstream {r.status}"}]}), status=502)
            upstream = orjson.loads(await r.read())
        return Response(
            orjson.dumps({"data": {"stations": reshape(upstream, first)}}), media_type="application/json"
        )

    return Starlette(routes=[Route("/graphql", search, methods=["POST"])], lifespan=lifespan)
