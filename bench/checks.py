"""Response checks: every answer the load generator gets is parsed and checked against its shape."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import orjson

from bench.load import Check

SEP = "\x1f"  # between the parts of a cursor
FLOAT_TOLERANCE = 1e-9
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


def same_answer(got: Any, want: Any, path: str = "") -> str | None:
    """None when ``got`` is ``want``, else where they first differ. Floats, and the distances that
    cursors hold, may differ in their last digits (another language's sine, the gateway's chord
    formula): within a relative 1e-9 (a micrometre at a kilometre) they are the same."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or got.keys() != want.keys():
            return f"{path or 'answer'}: keys {sorted(got) if isinstance(got, dict) else got!r}"
        for key, value in want.items():
            if key in ("cursor", "endCursor") and isinstance(value, str) and isinstance(got[key], str):
                if not _same_cursor(got[key], value):
                    return f"{path}.{key}: {got[key]!r} != {value!r}"
                continue
            reason = same_answer(got[key], value, f"{path}.{key}")
            if reason:
                return reason
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{path}: {len(got) if isinstance(got, list) else got!r} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            reason = same_answer(g, w, f"{path}[{i}]")
            if reason:
                return reason
        return None
    if isinstance(want, float) and isinstance(got, int | float) and not isinstance(got, bool):
        close = math.isclose(got, want, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
        return None if close else f"{path}: {got!r} != {want!r}"
    return None if got == want and type(got) is type(want) else f"{path}: {got!r} != {want!r}"


def _same_cursor(got: str, want: str) -> bool:
    if got == want:
        return True
    try:
        g = base64.urlsafe_b64decode(got + "=" * (-len(got) % 4)).decode().split(SEP)
        w = base64.urlsafe_b64decode(want + "=" * (-len(want) % 4)).decode().split(SEP)
    except (ValueError, UnicodeError):
        return False
    if len(g) != len(w):
        return False
    for a, b in zip(g, w, strict=True):
        if a == b:
            continue
        try:
            if not math.isclose(float(a), float(b), rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE):
                return False
        except ValueError:
            return False
    return True
