"""Hydration reuses what an earlier request built from the same objects, and only that: a new status,
a new price period, other wants or a filtered search get objects of their own."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from strawberry import ID

from operators import domain
from resolvers.context import RequestContext, load_tariffs
from resolvers.execution.loaders import BatchLoader
from resolvers.stations import types as t
from resolvers.stations.hydrate import Wants, hydrate, new_connector, new_station
from resolvers.stations.search import new_edge
from tests.inprocess import InProcess

EVERYTHING = Wants.of_names({"status", "currentPrice", "tariff", "station", "connectorSummary"})
NO_PARENT = Wants.of_names({"status", "currentPrice", "tariff"})


def context(gateway: InProcess, now: datetime | None = None) -> RequestContext:
    deadline = asyncio.get_running_loop().time() + 5
    return RequestContext(gateway.runtime, None, deadline, now or datetime.now(UTC))


def stations(gateway: InProcess, operator_id: str = "FK1") -> list[domain.Station]:
    found = [
        gateway.runtime.catalogue.station(operator_id, sid)
        for sid in sorted(gateway.fake(operator_id).stations)
    ]
    return [s for s in found if s is not None][:10]


def shown(node: t.Station) -> list[tuple[object, ...]]:
    return [
        (c.id, c.status, c.status_updated_at, c.current_price and c.current_price.total_per_kwh.amount)
        for c in node.connectors
    ]


async def test_a_warm_page_is_the_stations_built_before(gateway: InProcess):
    page = stations(gateway)
    first = await hydrate(context(gateway), page, EVERYTHING)
    again = await hydrate(context(gateway), page, EVERYTHING)
    assert [a is b for a, b in zip(first, again, strict=True)] == [True] * len(page)


async def test_a_new_status_is_a_new_station_and_the_others_stay(gateway: InProcess):
    page = stations(gateway)
    before = await hydrate(context(gateway), page, EVERYTHING)
    changed = page[3].connectors[0]
    await gateway.fake("FK1").set_status(changed.id, domain.ConnectorStatus.OFFLINE)
    after = await hydrate(context(gateway), page, EVERYTHING)
    assert after[3] is not before[3]
    assert after[3].connectors[0].status is domain.ConnectorStatus.OFFLINE
    assert before[3].connectors[0].status is not domain.ConnectorStatus.OFFLINE  # not changed in place
    assert shown(after[3])[1:] == shown(before[3])[1:]
    assert [a is b for i, (a, b) in enumerate(zip(before, after, strict=True)) if i != 3] == [True] * 9


async def test_the_price_follows_the_time_of_use_period(gateway: InProcess):
    """The same cached tariff at another time of day: another price, not the remembered one."""
    fake = gateway.fake("FK1")
    page = stations(gateway)
    station, connector = next(
        (s, c) for s in page for c in s.connectors if len(fake.tariff_of[c.id].periods) > 1
    )
    tariff = fake.tariff_of[connector.id]
    zone = ZoneInfo(station.timezone)
    day = datetime.now(zone).date()

    def at(period: domain.TariffPeriod) -> datetime:
        local = datetime.combine(day, period.start, zone) + timedelta(minutes=30)
        return local.astimezone(UTC)

    def price(nodes: list[t.Station]) -> object:
        node = nodes[page.index(station)]
        found = next(c for c in node.connectors if c.source is connector)
        assert found.current_price is not None
        return found.current_price.total_per_kwh.amount

    expected = [p.energy_per_kwh + p.service_per_kwh for p in tariff.periods]
    for period, total in [*zip(tariff.periods, expected, strict=True), (tariff.periods[0], expected[0])]:
        assert price(await hydrate(context(gateway, at(period)), page, EVERYTHING)) == total


async def test_back_references_point_at_the_station_that_holds_them(gateway: InProcess):
    page = stations(gateway)
    for wants in (EVERYTHING, NO_PARENT, EVERYTHING, NO_PARENT):
        nodes = await hydrate(context(gateway), page, wants)
        for node in nodes:
            assert {id(c.parent) for c in node.connectors} == {id(node) if wants.station else id(None)}


async def test_other_wants_build_their_own(gateway: InProcess):
    page = stations(gateway)
    full = await hydrate(context(gateway), page, EVERYTHING)
    bare = await hydrate(context(gateway), page, Wants.of_names(set()))
    assert all(
        c.current_price is None and c.status is domain.ConnectorStatus.UNKNOWN
        for n in bare
        for c in n.connectors
    )
    assert all(n.tariff is None and n.connector_summary is None for n in bare)
    assert any(c.current_price is not None for n in full for c in n.connectors)
    assert all(n.connector_summary is not None for n in full)


async def test_a_filtered_search_gets_stations_of_its_own(gateway: InProcess):
    """The filter is the request's: summaries (and estimates) of another filter are not reused."""
    page = stations(gateway)
    unfiltered = await hydrate(context(gateway), page, EVERYTHING)
    dc_only = await hydrate(context(gateway), page, EVERYTHING, lambda c: c.power_type is domain.PowerType.DC)
    nothing = await hydrate(context(gateway), page, EVERYTHING, lambda c: False)
    for whole, dc, none, s in zip(unfiltered, dc_only, nothing, page, strict=True):
        assert whole.connector_summary is not None and dc.connector_summary is not None
        assert whole.connector_summary.total == len(s.connectors)
        assert dc.connector_summary.total == sum(c.power_type is domain.PowerType.DC for c in s.connectors)
        assert none.connector_summary is not None and none.connector_summary.total == 0
        assert none.matches is not None and whole.matches is None


def test_the_quick_constructors_build_what_the_types_would():
    """hydrate and search set attributes rather than call the dataclass constructors (a third of
    the cost): every field, in the same order, with the same values."""
    c = domain.Connector("C1", "S1", domain.ConnectorType.GBT_DC, domain.PowerType.DC, 120.0, "hlht://C1.OP/")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    price = t.Price(
        energy_per_kwh=t.Money(amount=Decimal("1"), currency="CNY"),
        service_per_kwh=t.Money(amount=Decimal("0.5"), currency="CNY"),
        total_per_kwh=t.Money(amount=Decimal("1.5"), currency="CNY"),
    )
    status, gid = domain.ConnectorStatus.AVAILABLE, ID("gid")
    connector = new_connector(gid, c.type, c.power_type, 120.0, status, at, price, c.qr_code, c, "OP")
    expected = t.Connector(
        id=gid,
        type=c.type,
        power_type=c.power_type,
        max_power_kw=120.0,
        status=status,
        status_updated_at=at,
        current_price=price,
        qr_code=c.qr_code,
        source=c,
        operator_key="OP",
    )
    assert list(vars(connector).items()) == list(vars(expected).items())
    operator = t.Operator(id=ID("op"), name="Op", protocol="fake", key="OP")
    location, sid = t.GeoPoint(lat=1.0, lon=2.0), ID("sid")
    station = new_station(sid, "Name", operator, location, None, [connector], None, None, None, bool)
    built = t.Station(
        id=sid,
        name="Name",
        operator=operator,
        location=location,
        address=None,
        connectors=[connector],
        tariff=None,
        connector_summary=None,
        source=None,
        matches=bool,
    )
    assert list(vars(station).items()) == list(vars(built).items())
    edge = new_edge("cursor", 1.5, station)
    assert list(vars(edge).items()) == list(
        vars(t.StationEdge(cursor="cursor", distance_km=1.5, node=station)).items()
    )


async def test_cached_tariffs_are_read_without_the_loader_and_counted_as_hits(gateway: InProcess):
    """A warm page's tariffs come from the in-process cache's view; a connector whose tariff is not
    cached sends the page through the request's loader, which fetches it."""
    fake = gateway.fake("FK1")
    page = stations(gateway)
    await hydrate(context(gateway), page, NO_PARENT)  # the tariffs are cached now
    asked: list[list[tuple[str, str]]] = []

    def recording(ctx: RequestContext) -> RequestContext:
        async def load(keys: list[tuple[str, str]]) -> list[domain.Tariff | None]:
            asked.append(list(keys))
            return await load_tariffs(ctx, keys)

        ctx.tariffs = BatchLoader(load)
        return ctx

    metrics = gateway.runtime.metrics.registry
    hits_before = metrics.get_sample_value("chargegate_cache_hits_total", {"kind": "tariff"}) or 0.0
    warm = await hydrate(recording(context(gateway)), page, NO_PARENT)
    connectors = sum(len(s.connectors) for s in page)
    assert asked == []
    assert (
        metrics.get_sample_value("chargegate_cache_hits_total", {"kind": "tariff"})
        == hits_before + connectors
    )
    for node, s in zip(warm, page, strict=True):
        assert node.tariff is not None and node.tariff.periods[0].start_time == (
            fake.tariff_of[s.connectors[0].id].periods[0].start.strftime("%H:%M:%S")
        )

    uncached = domain.Connector("NEW-1", page[0].id, domain.ConnectorType.GBT_DC, domain.PowerType.DC, 60.0)
    await fake.put_station(replace(page[0], connectors=(*page[0].connectors, uncached)))
    async with asyncio.timeout(5):
        while (changed := gateway.runtime.catalogue.station("FK1", page[0].id)) is page[0]:
            await asyncio.sleep(0.01)
    assert changed is not None
    cold = await hydrate(recording(context(gateway)), [changed, *page[1:]], NO_PARENT)
    assert len(asked) == 1 and ("FK1", "NEW-1") in asked[0]
    assert cold[0].connectors[-1].current_price is not None


async def test_every_connector_shows_the_price_of_its_period_at_any_time_of_day(gateway: InProcess):
    """Prices now are remembered while no tariff seen changes period: requests at times of day
    in other periods, before the first start of a tariff without one at midnight (its last period
    holds) and back again each see their own."""
    page = stations(gateway) + stations(gateway, "FK2")
    zone = ZoneInfo(page[0].timezone)
    assert {s.timezone for s in page} == {page[0].timezone}
    day = datetime.now(zone).date()
    fakes = {op_id: gateway.fake(op_id) for op_id in ("FK1", "FK2")}
    assert any(tf.periods[0].start > time(0) for f in fakes.values() for tf in f.tariff_of.values())
    for hour, minute in [(3, 0), (7, 30), (8, 30), (22, 30), (23, 30), (3, 0), (12, 0), (0, 0), (7, 0)]:
        local = time(hour, minute)
        now = datetime.combine(day, local, zone).astimezone(UTC)
        for node, s in zip(await hydrate(context(gateway, now), page, NO_PARENT), page, strict=True):
            for connector, c in zip(node.connectors, s.connectors, strict=True):
                expected = fakes[s.operator_id].tariff_of[c.id].price_at(local).total_per_kwh
                assert connector.current_price is not None
                assert (local, connector.current_price.total_per_kwh.amount) == (local, expected)
