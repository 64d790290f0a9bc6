"""The simulator's seeded network and its exact-decimal wire format."""

from __future__ import annotations

import json
import math
import time
from decimal import Decimal

from operators.tcec.sim.network import generate_network, operator_digits
from operators.tcec.sim.wire import dumps

HANGZHOU = (30.274, 120.155)
NOW = 1_714_500_000.0


def _snapshot(network) -> list:
    return [
        (s.id, s.name, s.address, s.lat, s.lon, s.tariff, s.changed_at,
         [(e.id, e.power, [(c.id, c.type, c.status) for c in e.connectors]) for e in s.equipments])
        for s in network.stations
    ]  # fmt: skip


def test_same_seed_same_network_and_different_seed_differs():
    a = generate_network("MA1SIMTC1", 200, 3, HANGZHOU, NOW)
    b = generate_network("MA1SIMTC1", 200, 3, HANGZHOU, NOW)
    c = generate_network("MA1SIMTC1", 200, 4, HANGZHOU, NOW)
    assert _snapshot(a) == _snapshot(b)
    assert _snapshot(a) != _snapshot(c)


def test_ids_are_unique_bounded_and_never_collide_across_operators():
    a = generate_network("MA1SIMTC1", 300, 1, HANGZHOU, NOW)
    b = generate_network("MA1SIMTC2", 300, 1, HANGZHOU, NOW)
    assert len(a.by_station) == 300
    equipment_ids = [e.id for s in a.stations for e in s.equipments]
    assert len(set(equipment_ids)) == len(equipment_ids)
    assert all(len(s.id) <= 20 for s in a.stations) and all(len(i) <= 23 for i in equipment_ids)
    assert all(len(c) == 26 and c.isdigit() for c in a.by_connector)
    assert not set(a.by_connector) & set(b.by_connector)
    assert not set(a.by_station) & set(b.by_station)
    assert operator_digits("MA1SIMTC1") != operator_digits("MA1SIMTCA")


def test_network_is_plausible():
    network = generate_network("MA1SIMTC1", 300, 1, HANGZHOU, NOW)
    statuses = [c.status for c in network.by_connector.values()]
    assert statuses.count(1) > len(statuses) * 0.6 and {0, 2, 3, 255} <= set(statuses)
    for s in network.stations:
        assert 1 <= len(s.equipments) <= 6
        assert s.name.endswith("充电站") and s.address.startswith("杭州市")
        km = math.hypot((s.lat - HANGZHOU[0]) * 111.32, (s.lon - HANGZHOU[1]) * 111.32 * math.cos(0.528))
        assert km <= 15.1
        assert round(s.lat, 6) == s.lat
        assert 3 <= len(s.tariff) <= 4 and s.tariff[0].start == "000000"
        assert all(p.elec_price.as_tuple().exponent == -4 for p in s.tariff)
        assert s.changed_at < NOW - 3600
        for e in s.equipments:
            for c in e.connectors:
                assert (e.type, c.type, c.power) in {(2, 2, 7.0), (2, 3, 7.0)} or (
                    e.type == 1 and c.type == 4 and c.power in (60.0, 120.0, 160.0))  # fmt: skip
    shanghai = generate_network("MA1SIMTC1", 5, 1, (31.230, 121.474), NOW)
    assert shanghai.stations[0].address.startswith("上海市")


def test_generation_is_cheap():
    started = time.perf_counter()
    generate_network("MA1SIMTC1", 300, 1, HANGZHOU, NOW)
    assert time.perf_counter() - started < 0.5


def test_money_is_serialised_as_exact_decimals():
    payload = {"TotalMoney": Decimal("95.40"), "Price": Decimal("0.3500"), "Name": "站", "Float": 1.5}
    assert dumps(payload) == '{"TotalMoney":95.40,"Price":0.3500,"Name":"站","Float":1.5}'.encode()
    assert json.loads(dumps(payload))["TotalMoney"] == 95.4
