"""Domain stations → GraphQL objects, with live status and price fetched in one batch each.

What is fetched depends on what the query selects: a search that asks for names only costs no
upstream call at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from strawberry import ID
from strawberry.types import Info

from operators import domain
from operators.base import OperatorInfo
from resolvers import ids
from resolvers.context import RequestContext
from resolvers.stations import types as t

STATUS_FIELDS = frozenset({"status", "statusUpdatedAt"})
PRICE_FIELDS = frozenset({"currentPrice"})
TARIFF_FIELDS = frozenset({"tariff"})
PARENT_FIELDS = frozenset({"station"})
SUMMARY_FIELDS = frozenset({"connectorSummary"})


@dataclass(frozen=True, slots=True)
class Wants:
    status: bool
    price: bool
    tariff: bool
    # ``Connector.station`` selected somewhere below: only then do connectors point back at their
    # station (a reference cycle, which only the garbage collector could free).
    station: bool = True
    summary: bool = False  # ``Station.connectorSummary``: needs statuses and prices

    @classmethod
    def of(cls, info: Info) -> Wants:
        raw = getattr(info, "_raw_info", None)
        if raw is None:
            return cls.of_names(selected_names(info.selected_fields))
        # Read the document's AST (cached with the parsed document) once per field, not
        # strawberry's per-request ``selected_fields`` conversion of the whole subtree.
        nodes = raw.field_nodes
        key = tuple(map(id, nodes))
        hit = _WANTS.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], nodes, strict=True)):
            return hit[1]
        wants = cls.of_names(ast_names(nodes, raw.fragments))
        if len(_WANTS) >= MAX_WANTS:
            _WANTS.clear()
        _WANTS[key] = (list(nodes), wants)
        return wants

    @classmethod
    def of_names(cls, names: set[str]) -> Wants:
        summary = bool(names & SUMMARY_FIELDS)
        return cls(
            summary or bool(names & STATUS_FIELDS),
            summary or bool(names & PRICE_FIELDS),
            bool(names & TARIFF_FIELDS),
            bool(names & PARENT_FIELDS),
            summary,
        )


MAX_WANTS = 1024
# What each selection wants, keyed by the ids of its field nodes (identity-checked): documents are
# cached after parsing, so the same query text reuses the same nodes.
_WANTS: dict[tuple[int, ...], tuple[list[Any], Wants]] = {}


def ast_names(nodes: Iterable[Any], fragments: Mapping[str, Any]) -> set[str]:
    """Every field name below ``nodes`` in the document, fragments included."""
    names: set[str] = set()
    seen: set[str] = set()
    stack = [n.selection_set for n in nodes if n.selection_set is not None]
    while stack:
        for sel in stack.pop().selections:
            name = sel.name.value if getattr(sel, "name", None) is not None else None
            if sel.kind == "fragment_spread":
                if name is not None and name not in seen and (fragment := fragments.get(name)) is not None:
                    seen.add(name)
                    stack.append(fragment.selection_set)
                continue
            if name is not None:
                names.add(name)
            if sel.selection_set is not None:
                stack.append(sel.selection_set)
    return names


def selected_names(selections: Iterable[object]) -> set[str]:
    """Every field name in a selection tree, fragments included."""
    names: set[str] = set()
    stack = list(selections)
    while stack:
        node = stack.pop()
        name = getattr(node, "name", None)
        if isinstance(name, str):
            names.add(name)
        stack.extend(getattr(node, "selections", ()) or ())
    return names


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def money(amount: Decimal, currency: str) -> t.Money:
    return t.Money(amount=amount, currency=currency)


def tariff(tf: domain.Tariff) -> t.Tariff:
    c = tf.currency
    return t.Tariff(
        currency=c,
        timezone=tf.timezone,
        periods=[
            t.TariffPeriod(
                start_time=p.start.strftime("%H:%M:%S"),
                energy_per_kwh=money(p.energy_per_kwh, c),
                service_per_kwh=money(p.service_per_kwh, c),
                total_per_kwh=money(p.energy_per_kwh + p.service_per_kwh, c),
            )
            for p in tf.periods
        ],
        extras=[t.TariffExtra(kind=e.kind, amount=money(e.amount, c), unit=e.unit) for e in tf.extras],
    )


def operator(info: OperatorInfo) -> t.Operator:
    return t.Operator(id=ids.operator_id(info.id), name=info.name, protocol=info.protocol, key=info.id)


# What hydration builds that no request changes, once per catalogue entry, operator and tariff
# period instead of once per request: each table is keyed by the id of the object its value is
# built from and holds that object, so an id is never reused while its entry lives, and a re-synced
# station (a new object) gets new entries. The values are plain data that nothing mutates, shared by
# every request that reads them. Bounded: a table is cleared when full.
MAX_MEMO = 20_000
# station → (its global id, its connectors' global ids in order, its location)
_STATIONS: dict[int, tuple[domain.Station, tuple[ID, tuple[ID, ...], t.GeoPoint]]] = {}
_OPERATORS: dict[int, tuple[OperatorInfo, t.Operator]] = {}
# tariff period → its per-kWh price now, in the currency of the tariff that holds it
_PRICES: dict[int, tuple[domain.TariffPeriod, str, t.Price]] = {}


def _remember(table: dict[int, tuple[Any, ...]], key: object, entry: tuple[Any, ...]) -> None:
    if len(table) >= MAX_MEMO:
        table.clear()
    table[id(key)] = entry


def _station_static(s: domain.Station) -> tuple[ID, tuple[ID, ...], t.GeoPoint]:
    hit = _STATIONS.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    op_id, location = s.operator_id, s.location
    static = (
        ids.station_id(op_id, s.id),
        tuple(ids.connector_id(op_id, c.id) for c in s.connectors),
        t.GeoPoint(lat=location.lat, lon=location.lon),
    )
    _remember(_STATIONS, s, (s, static))
    return static


def _operator(info: OperatorInfo) -> t.Operator:
    hit = _OPERATORS.get(id(info))
    if hit is not None and hit[0] is info:
        return hit[1]
    node = operator(info)
    _remember(_OPERATORS, info, (info, node))
    return node


def _period_price(period: domain.TariffPeriod, currency: str) -> t.Price:
    # domain.Tariff.price_at, without the intermediate domain.Price
    energy, service = period.energy_per_kwh, period.service_per_kwh
    node = t.Price(
        energy_per_kwh=money(energy, currency),
        service_per_kwh=money(service, currency),
        total_per_kwh=money(energy + service, currency),
    )
    _remember(_PRICES, period, (period, currency, node))
    return node


async def hydrate(
    ctx: RequestContext,
    stations: Sequence[domain.Station],
    wants: Wants,
    matches: Callable[[domain.Connector], bool] | None = None,
) -> list[t.Station]:
    """GraphQL stations for ``stations``, in the same order; ``matches`` is the search's connector
    filter, which the station's summary and estimate consider."""
    statuses: list[Mapping[str, domain.ConnectorState]] | None = None
    tariffs: list[domain.Tariff | None] | None = None
    if stations:
        # Both batches join their loaders before either is awaited, so they run concurrently.
        status_wait = (
            ctx.statuses.load_many([(s.operator_id, s.id) for s in stations]) if wants.status else None
        )
        tariff_wait = (
            ctx.tariffs.load_many([(s.operator_id, c.id) for s in stations for c in s.connectors])
            if wants.price or wants.tariff
            else None
        )
        if status_wait is not None:
            statuses = await status_wait
        if tariff_wait is not None:
            tariffs = await tariff_wait
    operators = {op.info.id: _operator(op.info) for op in ctx.runtime.operators.values()}
    # Hoisted: this loop runs for every station and connector of the page.
    Station, Connector = t.Station, t.Connector  # noqa: N806
    unknown, station_memo, price_memo = domain.ConnectorStatus.UNKNOWN, _STATIONS, _PRICES
    want_price, want_tariff, want_parent, want_summary = (
        wants.price,
        wants.tariff,
        wants.station,
        wants.summary,
    )
    local_times: dict[str, time] = {}  # station time zone → local time now
    # station time zone → {id of a tariff (alive in ``tariffs``) → its price now}: cached tariffs
    # are interned, so a page's connectors share a handful of them
    prices_now: dict[str, dict[int, t.Price]] = {}
    no_states: dict[str, domain.ConnectorState] = {}
    tariff_index = 0
    out = []
    for index, s in enumerate(stations):
        op_id = s.operator_id
        hit = station_memo.get(id(s))
        station_id, connector_ids, location = (
            hit[1] if hit is not None and hit[0] is s else _station_static(s)
        )
        local_now = None
        if tariffs and want_price:
            local_now = local_times.get(s.timezone)
            if local_now is None:
                local_now = local_times[s.timezone] = ctx.now.astimezone(_zone(s.timezone)).time()
                prices_now[s.timezone] = {}
            prices_here = prices_now[s.timezone]
        states = statuses[index] if statuses else no_states
        connectors = []
        first_tariff = None
        for c, connector_id in zip(s.connectors, connector_ids, strict=True):
            tf = None
            if tariffs:
                tf = tariffs[tariff_index]
                tariff_index += 1
                if first_tariff is None:
                    first_tariff = tf
            state = states.get(c.id)
            current_price = None
            if tf is not None and local_now is not None:
                current_price = prices_here.get(id(tf))
                if current_price is None:
                    period, currency = tf.period_at(local_now), tf.currency
                    priced = price_memo.get(id(period))
                    if priced is not None and priced[0] is period and priced[1] == currency:
                        current_price = priced[2]
                    else:
                        current_price = _period_price(period, currency)
                    prices_here[id(tf)] = current_price
            connectors.append(
                Connector(
                    id=connector_id,
                    type=c.type,
                    power_type=c.power_type,
                    max_power_kw=c.max_power_kw,
                    status=state.status if state else unknown,
                    status_updated_at=state.observed_at if state else None,
                    current_price=current_price,
                    qr_code=c.qr_code,
                    source=c,
                    operator_key=op_id,
                )
            )
        node = Station(
            id=station_id,
            name=s.name,
            operator=operators[op_id],
            location=location,
            address=s.address,
            connectors=connectors,
            tariff=tariff(first_tariff) if (want_tariff and first_tariff) else None,
            connector_summary=summary(s, connectors, matches) if want_summary else None,
            source=s,
            matches=matches,
        )
        if want_parent:
            for connector in connectors:
                connector.parent = node
        out.append(node)
    return out


def summary(
    station: domain.Station,
    connectors: Sequence[t.Connector],
    matches: Callable[[domain.Connector], bool] | None,
) -> t.ConnectorSummary:
    """Counts by power and plug type, the lowest price now and the highest power of the matching
    connectors (``connectors`` are the station's, hydrated, in the same order)."""
    chosen = [n for c, n in zip(station.connectors, connectors, strict=True) if matches is None or matches(c)]
    available = domain.ConnectorStatus.AVAILABLE
    powers: dict[domain.PowerType, list[int]] = {}
    kinds: dict[domain.ConnectorType, list[int]] = {}
    for n in chosen:
        free = int(n.status is available)
        for counts in (powers.setdefault(n.power_type, [0, 0]), kinds.setdefault(n.type, [0, 0])):
            counts[0] += 1
            counts[1] += free
    priced = [n.current_price for n in chosen if n.current_price is not None]
    return t.ConnectorSummary(
        total=len(chosen),
        available=sum(int(n.status is available) for n in chosen),
        by_power_type=[t.PowerTypeCount(power_type=k, total=a, available=b) for k, (a, b) in powers.items()],
        by_connector_type=[
            t.ConnectorTypeCount(connector_type=k, total=a, available=b) for k, (a, b) in kinds.items()
        ],
        lowest_price=min(priced, key=lambda p: p.total_per_kwh.amount) if priced else None,
        highest_power_kw=max((n.max_power_kw for n in chosen), default=None),
    )
