"""Response checks: every answer the load generator gets is parsed and checked against its shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from bench.load import Check

STATUSES = frozenset({"AVAILABLE", "OCCUPIED", "CHARGING", "RESERVED", "FAULTED", "OFFLINE"})


def graphql(shape: Callable[[dict[str, Any]], str | None]) -> Check:
    """HTTP 200, JSON, no ``errors``, then ``shape(data)`` must return None."""

    def check(status: int, body: bytes) -> str | None:
        if status != 200:
            return f"HTTP {status}"
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "not JSON"
        if not isinstance(doc, dict):
            return "not a JSON object"
        if doc.get("errors"):
            code = (doc["errors"][0].get("extensions") or {}).get("code", "?")
            return f"errors: {code}"
        data = doc.get("data")
        if not isinstance(data, dict):
            return "no data"
        try:
            return shape(data)
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            return f"shape: {type(exc).__name__} {exc}"

    return check


def search(edges: int, *, price: bool = True) -> Check:
    """A station page of ``edges`` stations, every connector with a known status (and a price)."""

    def shape(data: dict[str, Any]) -> str | None:
        conn = data["stations"]
        if len(conn["edges"]) != edges:
            return f"{len(conn['edges'])} edges, expected {edges}"
        if conn["totalCount"] < edges:
            return "totalCount below the page size"
        for edge in conn["edges"]:
            node = edge["node"]
            if not node["id"] or not node["connectors"]:
                return "station without id or connectors"
            for c in node["connectors"]:
                if c["status"] not in STATUSES:
                    return f"connector status {c['status']}"
                if price and not c["currentPrice"]["totalPerKwh"]["amount"]:
                    return "connector without price"
        return None

    return graphql(shape)


def operators(edges: int, distinct: int) -> Check:
    """``edges`` stations from exactly ``distinct`` operators, every connector's status known."""

    def shape(data: dict[str, Any]) -> str | None:
        nodes = [e["node"] for e in data["stations"]["edges"]]
        if len(nodes) != edges:
            return f"{len(nodes)} edges, expected {edges}"
        seen = {n["operator"]["id"] for n in nodes}
        if len(seen) != distinct:
            return f"{len(seen)} operators, expected {distinct}"
        for n in nodes:
            for c in n["connectors"]:
                if c["status"] not in STATUSES:
                    return f"connector status {c['status']}"
        return None

    return graphql(shape)


def count(at_least: int) -> Check:
    def shape(data: dict[str, Any]) -> str | None:
        n = data["stations"]["totalCount"]
        return None if isinstance(n, int) and n >= at_least else f"totalCount {n!r}"

    return graphql(shape)


def count_fields(value: Any) -> int:
    """Fields resolved to produce ``value``: one per key at every level, list items included."""
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0
