"""``Query.stations``: radius search over the catalogue, filtered, ordered, paginated by keyset cursors."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from strawberry.types import Info

from gateway.catalogue import ranking
from gateway.catalogue.ranking import StationOrder
from gateway.upstream.fanout import fan_out
from operators import domain
from operators.base import OperatorUnavailable
from resolvers import ids
from resolvers.context import RequestContext
from resolvers.errors import bad_input
from resolvers.stations import types as t
from resolvers.stations.hydrate import Wants, hydrate

ConnectorTest = Callable[[domain.Connector], bool]


def _validate(ctx: RequestContext, near: t.GeoPointInput, radius_km: float, first: int) -> None:
    g = ctx.runtime.settings.gateway
    if not (math.isfinite(near.lat) and -90 <= near.lat <= 90):
        raise bad_input("near.lat must be between -90 and 90", "near.lat")
    if not (math.isfinite(near.lon) and -180 <= near.lon <= 180):
        raise bad_input("near.lon must be between -180 and 180", "near.lon")
    if not (math.isfinite(radius_km) and 0 < radius_km <= g.max_radius_km):
        raise bad_input(f"radiusKm must be greater than 0 and at most {g.max_radius_km:g}", "radiusKm")
    if not 1 <= first <= g.max_page_size:
        raise bad_input(f"first must be between 1 and {g.max_page_size}", "first")


def _operator_ids(ctx: RequestContext, given: Sequence[str] | None) -> set[str] | None:
    if given is None:
        return None
    out = set()
    for value in given:
        decoded = ids.decode(value)
        op_id = decoded[1][0] if decoded and decoded[0] == "Operator" else value
        out.add(op_id)
    return out


def _connector_test(f: t.StationFilter | None) -> ConnectorTest | None:
    if f is None:
        return None
    tests: list[ConnectorTest] = []
    if f.min_power_kw is not None:
        if not math.isfinite(f.min_power_kw):
            raise bad_input("filter.minPowerKw must be a finite number", "filter.minPowerKw")
        min_power_kw = f.min_power_kw
        tests.append(lambda c: c.max_power_kw >= min_power_kw)
    if f.connector_types:
        connector_types = frozenset(f.connector_types)
        tests.append(lambda c: c.type in connector_types)
    if f.power_types:
        power_types = frozenset(f.power_types)
        tests.append(lambda c: c.power_type in power_types)
    if not tests:
        return None
    return lambda c: all(test(c) for test in tests)


async def search(
    info: Info,
    near: t.GeoPointInput,
    radius_km: float,
    filter: t.StationFilter | None,
    first: int,
    after: str | None,
    order_by: StationOrder = StationOrder.DISTANCE,
    charge: ranking.Charge | None = None,
) -> t.StationConnection:
    ctx: RequestContext = info.context
    _validate(ctx, near, radius_km, first)
    if order_by is StationOrder.ESTIMATED_COST and charge is None:
        raise bad_input("orderBy ESTIMATED_COST needs energyKwh", "energyKwh")
    try:
        last = ranking.decode_cursor(order_by, after) if after is not None else None
    except ranking.CursorError as exc:
        raise bad_input(str(exc), "after") from None
    catalogue = ctx.runtime.catalogue
    wanted_ops = _operator_ids(ctx, filter.operator_ids if filter else None)
    for op_id in ctx.runtime.operators:
        if (wanted_ops is None or op_id in wanted_ops) and not catalogue.synced(op_id):
            state = catalogue.sync_state.get(op_id)
            reason = state.last_error if state and state.last_error else "catalogue not synced yet"
            ctx.report({op_id: OperatorUnavailable(op_id, f"stations unknown: {reason}")})

    test = _connector_test(filter)
    ranked, test = await ordered(
        ctx, near, radius_km, order_by, charge, test, wanted_ops, bool(filter and filter.available_only)
    )
    start = bisect_right(ranked, last, key=lambda item: item[0]) if last is not None else 0
    page = ranked[start : start + first]
    nodes = await hydrate(ctx, [s for _, _, s in page], Wants.of(info), test)
    encode = ranking.encode_cursor
    edges = [
        new_edge(encode(order_by, key), round(d, 3), node)
        for (key, d, _), node in zip(page, nodes, strict=True)
    ]
    return t.StationConnection(
        edges=edges,
        total_count=len(ranked),
        page_info=t.PageInfo(
            has_next_page=start + len(page) < len(ranked),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


_new = object.__new__


def new_edge(cursor: str, distance_km: float, node: t.Station) -> t.StationEdge:
    """``t.StationEdge(cursor=…, distance_km=…, node=…)`` for a third of its cost (see
    :func:`resolvers.stations.hydrate.new_connector`)."""
    edge: t.StationEdge = _new(t.StationEdge)
    edge.cursor = cursor
    edge.distance_km = distance_km
    edge.node = node
    return edge


async def ordered(
    ctx: RequestContext,
    near: t.GeoPointInput,
    radius_km: float,
    order_by: StationOrder,
    charge: ranking.Charge | None,
    test: ConnectorTest | None = None,
    wanted_ops: set[str] | None = None,
    available_only: bool = False,
) -> tuple[Sequence[tuple[ranking.Key, float, domain.Station]], ConnectorTest | None]:
    """Every station of the search, filtered and ranked (what ``make bench`` times), and the test
    of the connectors that match: with ``available_only``, only AVAILABLE ones do, so the ordering,
    the summaries and ``Station.estimate`` consider the connectors a driver can use now."""
    catalogue = ctx.runtime.catalogue
    if order_by is StationOrder.DISTANCE and wanted_ops is None and test is None and not available_only:
        # Nothing to weigh per station: the page is built from the sorted hits, the rest never is.
        return ranking.ByDistance(catalogue.nearest(near.lat, near.lon, radius_km)), test
    # Ranked orderings sort on their own key, which includes the distance.
    hits = catalogue.near(near.lat, near.lon, radius_km, ordered=order_by is StationOrder.DISTANCE)
    if wanted_ops is not None:
        hits = [h for h in hits if h[1].operator_id in wanted_ops]
    if test is not None:
        hits = [h for h in hits if any(test(c) for c in h[1].connectors)]
    if available_only:
        hits, test = await _available(ctx, hits, test)
    if order_by not in ranking.NEEDS_TARIFFS:
        return ranking.rank(hits, order_by, test), test
    known = _known_tariffs(ctx, {s.operator_id for _, s in hits})
    if known is None:
        tariffs = await _tariffs(ctx, ranking.connector_ids(hits, test))
        return ranking.rank(hits, order_by, test, tariffs, ctx.now, charge), test
    missing: dict[str, list[str]] = {}
    ranked = ranking.rank(hits, order_by, test, known, ctx.now, charge, missing)
    if not missing:
        return ranked, test
    fetched = await _tariffs(ctx, missing)  # the cold fetch: rank again with what came
    tariffs = {op_id: {**known[op_id], **fetched.get(op_id, {})} for op_id in known}
    return ranking.rank(hits, order_by, test, tariffs, ctx.now, charge), test


def _known_tariffs(ctx: RequestContext, op_ids: set[str]) -> dict[str, Mapping[str, domain.Tariff]] | None:
    """What the in-process tariff cache holds for each operator with tariffs among ``op_ids``
    (read without a cache call per connector); ``None`` when one of them uses a shared cache."""
    ops = ctx.runtime.operators
    out: dict[str, Mapping[str, domain.Tariff]] = {}
    for op_id in op_ids:
        op = ops.get(op_id)
        if op is None or domain.Capability.TARIFFS not in op.info.capabilities:
            continue
        known = op.known_tariffs()
        if known is None:
            return None
        out[op_id] = known
    return out


async def _tariffs(
    ctx: RequestContext, wanted: dict[str, list[str]]
) -> dict[str, Mapping[str, domain.Tariff]]:
    """The tariffs of every connector an ordering weighs, from the same cache the fields read;
    connectors the cache lacks are asked of their operator, one call per operator, within the
    request deadline (a failing operator is reported and its stations rank last). Not through the
    request's loader: hundreds of keys would cost more in bookkeeping than the cache reads
    themselves, and the page's fields need only a few of them."""
    ops = ctx.runtime.operators
    values: dict[str, Mapping[str, domain.Tariff]] = {}
    calls = {}
    for op_id, cids in wanted.items():
        op = ops.get(op_id)
        if op is None or domain.Capability.TARIFFS not in op.info.capabilities:
            continue
        cached = values[op_id] = await op.cached_tariffs(cids)  # no task, no timer: a warm search
        if len(cached) < len(cids):
            calls[op_id] = partial(op.tariffs, [i for i in cids if i not in cached])
    if calls:
        fetched, errors = await fan_out(calls, ctx.deadline)
        ctx.report(errors)
        for op_id, more in fetched.items():
            values[op_id] = {**values[op_id], **more}
    return values


async def _available(
    ctx: RequestContext, hits: list[tuple[float, domain.Station]], test: ConnectorTest | None
) -> tuple[list[tuple[float, domain.Station]], ConnectorTest]:
    """Keep stations with an AVAILABLE connector that also passes the other filters, and the test
    of those connectors (the catalogue's connector objects, by identity, for this request)."""
    states = await ctx.statuses.load_many([(s.operator_id, s.id) for _, s in hits])
    kept, free = [], set()
    for (d, s), by_connector in zip(hits, states, strict=True):
        usable = [
            id(c)
            for c in s.connectors
            if (state := by_connector.get(c.id)) is not None
            and state.status is domain.ConnectorStatus.AVAILABLE
            and (test is None or test(c))
        ]
        if usable:
            kept.append((d, s))
            free.update(usable)
    return kept, lambda c: id(c) in free
