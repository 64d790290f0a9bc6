"""Station orderings: keys, ties, unknown values last, and keyset cursors that refuse anything else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from gateway.catalogue import ranking
from gateway.catalogue.ranking import Charge, StationOrder
from operators.domain import Connector, ConnectorType, GeoPoint, PowerType, Station, Tariff, TariffPeriod

NOW = datetime(2026, 1, 5, 2, tzinfo=UTC)  # 10:00 in Shanghai


def station(sid: str, *powers: float) -> Station:
    connectors = tuple(
        Connector(f"{sid}-{i}", sid, ConnectorType.GBT_DC if kw > 22 else ConnectorType.GBT_AC,
                  PowerType.DC if kw > 22 else PowerType.AC, kw)
        for i, kw in enumerate(powers)
    )  # fmt: skip
    return Station("OP", sid, sid, GeoPoint(30, 120), None, connectors)


def flat(price: str) -> Tariff:
    return Tariff("CNY", (TariffPeriod(time(0), Decimal(price), Decimal("0.5")),))


A, B, C, E = station("a", 7, 120), station("b", 60), station("c", 120), station("e", 7)
HITS = [(0.5, A), (1.0, B), (1.5, C), (2.0, E)]
TARIFFS = {"a-0": flat("0.9"), "a-1": flat("1.4"), "b-0": flat("0.9"), "c-0": None, "e-0": flat("0.2")}


def order(by: StationOrder, test=None, charge: Charge | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    wanted = ranking.connector_ids(HITS, test) if by in ranking.NEEDS_TARIFFS else {}
    tariffs = {op: {cid: TARIFFS[cid] for cid in ids if TARIFFS[cid]} for op, ids in wanted.items()}
    return [s.id for _, _, s in ranking.rank(HITS, by, test, tariffs, NOW, charge)]


def test_price_orders_by_the_cheapest_matching_connector_ties_by_distance_unknown_last():
    assert order(StationOrder.PRICE) == ["e", "a", "b", "c"]
    dc = lambda c: c.power_type is PowerType.DC  # noqa: E731
    assert order(StationOrder.PRICE, dc) == ["b", "a", "c", "e"]


def test_power_orders_by_the_fastest_matching_connector():
    assert order(StationOrder.POWER) == ["a", "c", "b", "e"]


def test_estimated_cost_orders_by_each_station_s_cheapest_connector_estimate():
    # 30 kWh: e (0.7/kWh) 21.00, a and b (1.4/kWh) 42.00 → a is nearer; c has no tariff.
    assert order(StationOrder.ESTIMATED_COST, charge=Charge(Decimal(30))) == ["e", "a", "b", "c"]


def test_a_charge_uses_the_lower_of_connector_and_vehicle_power():
    assert Charge(Decimal(1), 50.0).power(A.connectors[1]) == Decimal("50.0")
    assert Charge(Decimal(1)).power(A.connectors[1]) == Decimal("120")


def test_distance_keeps_the_catalogue_order():
    assert order(StationOrder.DISTANCE) == ["a", "b", "c", "e"]


@pytest.mark.parametrize("by", list(StationOrder))
def test_cursors_round_trip(by: StationOrder):
    ranked = ranking.rank(
        HITS, by, None, {"OP": {c: t for c, t in TARIFFS.items() if t}}, NOW, Charge(Decimal(30))
    )
    for key, _, _ in ranked:
        assert ranking.decode_cursor(by, ranking.encode_cursor(by, key)) == key


def test_cursors_of_another_ordering_or_forged_are_refused():
    key = ranking.rank(HITS, StationOrder.POWER, None)[0][0]
    cursor = ranking.encode_cursor(StationOrder.POWER, key)
    with pytest.raises(ranking.CursorError, match="POWER ordering, not PRICE"):
        ranking.decode_cursor(StationOrder.PRICE, cursor)
    forged = base64.urlsafe_b64encode(b"PRICE\x1f0\x1fNaN\x1f1.0\x1fOP\x1fa").decode()
    for bad in ("nope", forged, base64.urlsafe_b64encode(b"\xff\xfe").decode(), ""):
        with pytest.raises(ranking.CursorError, match="not a cursor"):
            ranking.decode_cursor(StationOrder.PRICE, bad)


def test_a_cursor_is_the_ordering_and_key_in_url_safe_base64():
    """The layout cursors have always had: one issued before an upgrade still pages on after it."""
    cursors = {
        ranking.encode_cursor(StationOrder.DISTANCE, (0, 0, 0.1 + 0.2, "OP", "S1")),
        ranking.encode_cursor(StationOrder.PRICE, (0, Decimal("1.2500"), 3.0, "OP", "S~?")),
        ranking.encode_cursor(StationOrder.POWER, (1, 0, 2.5, "OP", "S2")),
    }
    assert cursors == {
        base64.urlsafe_b64encode(raw.encode()).decode()
        for raw in (
            "DISTANCE\x1f0\x1f0\x1f0.30000000000000004\x1fOP\x1fS1",
            "PRICE\x1f0\x1f1.2500\x1f3.0\x1fOP\x1fS~?",
            "POWER\x1f1\x1f0\x1f2.5\x1fOP\x1fS2",
        )
    }
