"""Domain stations → GraphQL objects, with live status and price fetched in one batch each.

What is fetched depends on what the query selects: a search that asks for names only costs no
upstream call at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from itertools import chain, repeat
from operator import is_ as operator_is
from typing import Any
from zoneinfo import ZoneInfo

from strawberry import ID
from strawberry.types import Info

from gateway.upstream.caching import TARIFF
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
        wants = cls(
            summary or bool(names & STATUS_FIELDS),
            summary or bool(names & PRICE_FIELDS),
            bool(names & TARIFF_FIELDS),
            bool(names & PARENT_FIELDS),
            summary,
        )
        # One object per combination (32 at most): hydrate compares the wants of what it built by
        # identity first.
        return _INTERNED.setdefault(wants, wants)


MAX_WANTS = 1024
# What each selection wants, keyed by the ids of its field nodes (identity-checked): documents are
# cached after parsing, so the same query text reuses the same nodes.
_WANTS: dict[tuple[int, ...], tuple[list[Any], Wants]] = {}
_INTERNED: dict[Wants, Wants] = {}


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


# What hydration builds that no request changes, once per catalogue entry, operator, tariff and
# tariff period instead of once per request: each table is keyed by the id of the object its value
# is built from and holds that object, so an id is never reused while its entry lives, and a
# re-synced station (a new object) gets new entries. The values are plain data that nothing
# mutates, shared by every request that reads them. Bounded: a table is cleared when full.
MAX_MEMO = 20_000


@dataclass(frozen=True, slots=True)
class _Static:
    """What hydration reads of a catalogue entry on every request, computed once."""

    id: ID
    connector_ids: tuple[ID, ...]  # global, in order
    location: t.GeoPoint
    native_ids: tuple[str, ...]  # the connectors' own ids, in order
    status_key: tuple[str, str]  # the station's key in the status loader
    tariff_keys: tuple[tuple[str, str], ...]  # its connectors' keys in the tariff loader


_STATIONS: dict[int, tuple[domain.Station, _Static]] = {}
_OPERATORS: dict[int, tuple[OperatorInfo, t.Operator]] = {}
# tariff period → its per-kWh price now, in the currency of the tariff that holds it
_PRICES: dict[int, tuple[domain.TariffPeriod, str, t.Price]] = {}
# tariff → its GraphQL form
_TARIFFS: dict[int, tuple[domain.Tariff, t.Tariff]] = {}
# station → the GraphQL station last built from it, with what it was built from: the wants, the
# operator's object, its tariff's object, each connector's state and tariff, and the table its
# prices now came from (all held). A request whose inputs are the same objects gets that station
# back instead of building its own: cached statuses and tariffs hand out the same objects while
# fresh and a price table lasts while no tariff in it changes period, so a warm search builds
# nothing; a new status, tariff, price period or catalogue entry is a new object, hence a new
# station. Only outside a filtered search (a filter is the request's
# own: summaries and estimates read it). Smaller than the other tables: its values are larger.
MAX_BUILT = 8_192
_BUILT: dict[
    int,
    tuple[
        domain.Station,
        Wants,
        t.Operator,
        t.Tariff | None,
        list[domain.ConnectorState | None],
        Sequence[domain.Tariff | None],
        _PricesNow | None,
        t.Station,
    ],
] = {}


def _remember(
    table: dict[int, tuple[Any, ...]], key: object, entry: tuple[Any, ...], size: int = MAX_MEMO
) -> None:
    if len(table) >= size:
        table.clear()
    table[id(key)] = entry


def _static(s: domain.Station) -> _Static:
    hit = _STATIONS.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    op_id, location = s.operator_id, s.location
    static = _Static(
        id=ids.station_id(op_id, s.id),
        connector_ids=tuple(ids.connector_id(op_id, c.id) for c in s.connectors),
        location=t.GeoPoint(lat=location.lat, lon=location.lon),
        native_ids=tuple(c.id for c in s.connectors),
        status_key=(op_id, s.id),
        tariff_keys=tuple((op_id, c.id) for c in s.connectors),
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


def _tariff(tf: domain.Tariff) -> t.Tariff:
    hit = _TARIFFS.get(id(tf))
    if hit is not None and hit[0] is tf:
        return hit[1]
    node = tariff(tf)
    _remember(_TARIFFS, tf, (tf, node))
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


class _PricesNow:
    """The price now of each tariff seen in one time zone, by the tariff's id (the tariffs held),
    valid while the local time of day stays in ``[start, end)`` microseconds: the part of the day
    in which none of them changes period. Shared by requests, so a warm search prices nothing."""

    __slots__ = ("end", "held", "prices", "start")

    def __init__(self) -> None:
        self.start, self.end = 0, DAY_US
        self.prices: dict[int, t.Price | None] = {id(None): None}
        self.held: list[domain.Tariff] = []

    def price(self, tariff: domain.Tariff, local: time, local_us: int) -> t.Price:
        """Price ``tariff`` at ``local`` (``local_us`` in microseconds), remembered; the window
        narrows to the tariff's current period."""
        period, start, end = _period_window(tariff, local, local_us)
        self.start, self.end = max(self.start, start), min(self.end, end)
        currency = tariff.currency
        priced = _PRICES.get(id(period))
        price = (
            priced[2]
            if priced is not None and priced[0] is period and priced[1] == currency
            else _period_price(period, currency)
        )
        self.prices[id(tariff)] = price
        self.held.append(tariff)
        return price


DAY_US = 86_400_000_000
MAX_PRICED = 4096  # tariffs per time zone's table before it starts again
# station time zone → the prices now of the tariffs seen there
_NOW: dict[str, _PricesNow] = {}


def _micros(of: time) -> int:
    return ((of.hour * 60 + of.minute) * 60 + of.second) * 1_000_000 + of.microsecond


def _period_window(tariff: domain.Tariff, local: time, local_us: int) -> tuple[domain.TariffPeriod, int, int]:
    """``tariff.period_at(local)`` and the part of the day it holds, in microseconds, around
    ``local``: before the first start, the last period holds from midnight."""
    periods = tariff.periods
    period = tariff.period_at(local)
    if local < periods[0].start:
        return period, 0, _micros(periods[0].start)
    later = [p.start for p in periods if p.start > local]
    return period, _micros(period.start), _micros(later[0]) if later else DAY_US


def _prices_table(now: datetime, timezone: str) -> tuple[_PricesNow, time, int]:
    """The time zone's price table valid now, its local time and that time in microseconds."""
    local = now.astimezone(_zone(timezone)).time()
    local_us = _micros(local)
    table = _NOW.get(timezone)
    if table is None or not table.start <= local_us < table.end or len(table.held) >= MAX_PRICED:
        table = _NOW[timezone] = _PricesNow()
    return table, local, local_us


def _prices_now(
    tariffs: Sequence[domain.Tariff | None], table: _PricesNow, local: time, local_us: int
) -> list[t.Price | None]:
    """The price now of each tariff (None for None), from ``table`` or added to it."""
    out = []
    for tf in tariffs:
        price = table.prices.get(id(tf), _UNPRICED)
        if price is _UNPRICED:
            assert tf is not None  # every table holds None's
            price = table.price(tf, local, local_us)
        out.append(price)
    return out


_UNPRICED: Any = object()


async def hydrate(
    ctx: RequestContext,
    stations: Sequence[domain.Station],
    wants: Wants,
    matches: Callable[[domain.Connector], bool] | None = None,
) -> list[t.Station]:
    """GraphQL stations for ``stations``, in the same order; ``matches`` is the search's connector
    filter, which the station's summary and estimate consider."""
    memo = _STATIONS
    statics = [
        hit[1] if (hit := memo.get(id(s))) is not None and hit[0] is s else _static(s) for s in stations
    ]
    statuses: list[Mapping[str, domain.ConnectorState]] | None = None
    tariffs: list[list[domain.Tariff | None]] | None = None  # by station, its connectors' in order
    if stations:
        if wants.price or wants.tariff:
            tariffs = _known_tariffs(ctx, stations, statics)
        # Both batches join their loaders before either is awaited, so they run concurrently.
        status_wait = ctx.statuses.load_many([st.status_key for st in statics]) if wants.status else None
        tariff_wait = (
            ctx.tariffs.load_many(list(chain.from_iterable([st.tariff_keys for st in statics])))
            if (wants.price or wants.tariff) and tariffs is None
            else None
        )
        if status_wait is not None:
            statuses = await status_wait
        if tariff_wait is not None:
            flat, start, tariffs = await tariff_wait, 0, []
            for st in statics:
                tariffs.append(flat[start : start + len(st.native_ids)])
                start += len(st.native_ids)
    operators = {op.info.id: _operator(op.info) for op in ctx.runtime.operators.values()}
    # Hoisted: this loop runs for every station of the page.
    built, same, unpriced = _BUILT, operator_is, repeat(_UNPRICED)
    want_price = bool(tariffs) and wants.price
    want_tariff = bool(tariffs) and wants.tariff
    # station time zone → its price table now, the local time and that in microseconds: cached
    # tariffs are interned, so every page's connectors share a handful of them
    tables: dict[str, tuple[_PricesNow, time, int]] = {}
    no_states: dict[str, domain.ConnectorState] = {}
    here: tuple[_PricesNow, time, int] | None = None
    table = None
    out = []
    for index, (s, static) in enumerate(zip(stations, statics, strict=True)):
        states = list(map((statuses[index] if statuses else no_states).get, static.native_ids))
        station_tariffs: Sequence[domain.Tariff | None] = tariffs[index] if tariffs else ()
        if want_price:
            here = tables.get(s.timezone)
            if here is None:
                here = tables[s.timezone] = _prices_table(ctx.now, s.timezone)
            table = here[0]
        tariff_node = None
        if want_tariff:
            first = next((tf for tf in station_tariffs if tf is not None), None)
            tariff_node = _tariff(first) if first else None
        operator_node = operators[s.operator_id]
        if matches is None:
            prior = built.get(id(s))
            if (
                prior is not None
                and prior[0] is s
                and (prior[1] is wants or prior[1] == wants)
                and prior[2] is operator_node
                and prior[3] is tariff_node
                and prior[6] is table
                and all(map(same, prior[4], states))
                and all(map(same, prior[5], station_tariffs))
            ):
                out.append(prior[7])
                continue
        if here is not None:
            prices = list(map(here[0].prices.get, map(id, station_tariffs), unpriced))
            if any(map(same, prices, unpriced)):  # a tariff not priced in this part of the day yet
                prices = _prices_now(station_tariffs, *here)
        else:
            prices = [None] * len(static.native_ids)
        node = _station(s, static, wants, operator_node, tariff_node, states, prices, matches)
        if matches is None:
            entry = (s, wants, operator_node, tariff_node, states, station_tariffs, table, node)
            _remember(built, s, entry, MAX_BUILT)
        out.append(node)
    return out


def _known_tariffs(
    ctx: RequestContext, stations: Sequence[domain.Station], statics: Sequence[_Static]
) -> list[list[domain.Tariff | None]] | None:
    """The tariffs of each station's connectors, in order, read from the in-process cache's
    view by connector id (``known_tariffs``, as ordered search reads it) without the loader's
    bookkeeping per connector; ``None`` when a connector's tariff is not cached (the loader
    fetches it) or an operator uses a shared cache. Counted as the cache's hits."""
    ops = ctx.runtime.operators
    views: dict[str, Mapping[str, domain.Tariff] | None] = {}
    out: list[list[domain.Tariff | None]] = []
    hits = 0
    for s, static in zip(stations, statics, strict=True):
        op_id = s.operator_id
        view = views.get(op_id, _UNSEEN)
        if view is _UNSEEN:
            op = ops.get(op_id)
            if op is None or domain.Capability.TARIFFS not in op.info.capabilities:
                view = None  # no tariffs to show: what the loader answers for its connectors
            else:
                view = op.known_tariffs()
                if view is None:
                    return None
            views[op_id] = view
        if view is None:
            out.append([None] * len(static.native_ids))
            continue
        found = list(map(view.get, static.native_ids))
        if any(map(operator_is, found, repeat(None))):
            return None
        out.append(found)
        hits += len(found)
    if hits:
        ctx.runtime.metrics.cache_hits.labels(TARIFF).inc(hits)
    return out


_UNSEEN: Any = object()


def _station(
    s: domain.Station,
    static: _Static,
    wants: Wants,
    operator_node: t.Operator,
    tariff_node: t.Tariff | None,
    states: Sequence[domain.ConnectorState | None],
    prices: Sequence[t.Price | None],
    matches: Callable[[domain.Connector], bool] | None,
) -> t.Station:
    """A GraphQL station from its parts (its connectors' states and prices in order)."""
    op_id, unknown, connector = s.operator_id, domain.ConnectorStatus.UNKNOWN, new_connector
    connectors = [
        connector(
            connector_id,
            c.type,
            c.power_type,
            c.max_power_kw,
            state.status if state else unknown,
            state.observed_at if state else None,
            price,
            c.qr_code,
            c,
            op_id,
        )
        for c, connector_id, state, price in zip(
            s.connectors, static.connector_ids, states, prices, strict=True
        )
    ]
    node = new_station(
        static.id,
        s.name,
        operator_node,
        static.location,
        s.address,
        connectors,
        tariff_node,
        summary(s, connectors, matches) if wants.summary else None,
        s,
        matches,
    )
    if wants.station:
        for c in connectors:
            c.parent = node
    return node


# The types' own constructors (dataclass ``__init__`` with keywords) cost about three times as
# much as setting the attributes: these set every field, in the same order, as they would (a test
# holds them to it), for the objects a search builds per connector and station.
_new = object.__new__


def new_connector(
    id: ID,  # noqa: A002 - the field's name
    type: domain.ConnectorType,  # noqa: A002
    power_type: domain.PowerType,
    max_power_kw: float,
    status: domain.ConnectorStatus,
    status_updated_at: datetime | None,
    current_price: t.Price | None,
    qr_code: str | None,
    source: domain.Connector | None,
    operator_key: str,
) -> t.Connector:
    node: t.Connector = _new(t.Connector)
    node.id = id
    node.type = type
    node.power_type = power_type
    node.max_power_kw = max_power_kw
    node.status = status
    node.status_updated_at = status_updated_at
    node.current_price = current_price
    node.qr_code = qr_code
    node.parent = None
    node.source = source
    node.operator_key = operator_key
    return node


def new_station(
    id: ID,  # noqa: A002 - the field's name
    name: str,
    operator: t.Operator,
    location: t.GeoPoint,
    address: str | None,
    connectors: list[t.Connector],
    tariff: t.Tariff | None,
    connector_summary: t.ConnectorSummary | None,
    source: domain.Station | None,
    matches: Callable[[domain.Connector], bool] | None,
) -> t.Station:
    node: t.Station = _new(t.Station)
    node.id = id
    node.name = name
    node.operator = operator
    node.location = location
    node.address = address
    node.connectors = connectors
    node.tariff = tariff
    node.connector_summary = connector_summary
    node.source = source
    node.matches = matches
    return node


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
