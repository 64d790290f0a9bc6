"""The stations the gateway holds, as plain JSON, for the baselines that do not run on its runtime.

The proxy floor's upstream service and the Yoga peer answer the search from this snapshot, taken
from the gateway's own catalogue and cached statuses and tariffs once they are warm, so all of them
answer the same query from the same data. Tariffs are shared (a pool per operator): each appears
once, as its period starts (seconds of the local day) and total per-kWh prices.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from typing import Any

from resolvers.scalars import serialize_datetime

SNAPSHOT_RADIUS_KM = 60.0  # around each centre: the simulators place stations within 15 km


async def export(runtime: Any, centres: list[tuple[float, float]]) -> dict[str, Any]:
    """``{"stations": [...], "tariffs": [...]}`` for every station within reach of ``centres``."""
    seen: dict[tuple[str, str], Any] = {}
    for lat, lon in centres:
        for _, station in runtime.catalogue.near(lat, lon, SNAPSHOT_RADIUS_KM):
            seen[(station.operator_id, station.id)] = station
    by_op: dict[str, list[Any]] = {}
    for station in seen.values():
        by_op.setdefault(station.operator_id, []).append(station)
    ops = runtime.operators
    order = list(by_op)
    found = await asyncio.gather(
        *(ops[op].connector_statuses([s.id for s in by_op[op]]) for op in order),
        *(ops[op].tariffs([c.id for s in by_op[op] for c in s.connectors]) for op in order),
    )
    statuses = dict(zip(order, found[: len(order)], strict=True))
    prices = dict(zip(order, found[len(order) :], strict=True))
    tariffs: list[dict[str, Any]] = []
    tariff_index: dict[int, int] = {}

    def tariff_ref(tariff: Any) -> int | None:
        if tariff is None:
            return None
        if id(tariff) not in tariff_index:
            tariff_index[id(tariff)] = len(tariffs)
            tariffs.append(
                {
                    "currency": tariff.currency,
                    "starts": [_seconds(p.start) for p in tariff.periods],
                    "totals": [str(p.energy_per_kwh + p.service_per_kwh) for p in tariff.periods],
                }
            )
        return tariff_index[id(tariff)]

    stations = []
    for (op, _), s in sorted(seen.items()):
        states = statuses[op]
        connectors = []
        for c in s.connectors:
            state = states.get(c.id)
            connectors.append(
                {
                    "id": c.id,
                    "type": c.type.name,
                    "power_type": c.power_type.name,
                    "max_power_kw": c.max_power_kw,
                    "status": state.status.name if state else "UNKNOWN",
                    "status_at": serialize_datetime(state.observed_at) if state else None,
                    "tariff": tariff_ref(prices[op].get(c.id)),
                }
            )
        stations.append(
            {
                "operator_id": op,
                "operator_name": ops[op].info.name,
                "id": s.id,
                "name": s.name,
                "address": s.address,
                "lat": s.location.lat,
                "lon": s.location.lon,
                "timezone": s.timezone,
                "connectors": connectors,
            }
        )
    return {"stations": stations, "tariffs": tariffs}


def _seconds(t: Any) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def total_at(tariff: dict[str, Any], second: float) -> str:
    """The total per-kWh price in force at ``second`` of the local day (before the first start: the
    last period's, wrapping past midnight), as the gateway's pricing picks it."""
    starts = tariff["starts"]
    return tariff["totals"][(bisect_right(starts, second) or len(starts)) - 1]
