import random

import pytest

from gateway.catalogue.geoindex import GridIndex, haversine_km


def test_haversine_known_distance():
    # Hangzhou West Lake to Shanghai People's Square: about 165 km great-circle.
    assert haversine_km(30.274, 120.155, 31.230, 121.474) == pytest.approx(165.0, abs=3)
    assert haversine_km(30.0, 120.0, 30.0, 120.0) == 0


@pytest.mark.parametrize("radius", [1.5, 3, 10, 40])
def test_radius_query_matches_brute_force(radius):
    rng = random.Random(42)
    points = {i: (30.274 + rng.uniform(-0.3, 0.3), 120.155 + rng.uniform(-0.3, 0.3)) for i in range(3000)}
    index = GridIndex(cell_deg=0.02)
    for key, (lat, lon) in points.items():
        index.put(key, lat, lon)
    center = (30.28, 120.16)
    expected = {k for k, (lat, lon) in points.items() if haversine_km(*center, lat, lon) <= radius}
    got = {k for _, k in index.within(*center, radius)}
    assert got == expected
    assert expected  # the query is not vacuous


def test_moving_and_removing_points():
    index = GridIndex()
    index.put("a", 30.0, 120.0)
    index.put("a", 31.0, 121.0)
    assert len(index) == 1
    assert [k for _, k in index.within(31.0, 121.0, 1)] == ["a"]
    assert list(index.within(30.0, 120.0, 1)) == []
    index.remove("a")
    assert list(index.within(31.0, 121.0, 1)) == []
    index.remove("a")  # removing twice is harmless


def test_near_the_antimeridian_and_poles_does_not_crash():
    index = GridIndex()
    index.put("x", 89.9, 179.9)
    assert [k for _, k in index.within(89.9, 179.9, 5)] == ["x"]


def test_changes_between_packings_are_found_as_packed_ones_are():
    """Random puts, moves, re-puts in place and removals, packed now and then: every query agrees
    with a brute-force scan, with the latest value of every point."""
    rng = random.Random(7)
    index = GridIndex(cell_deg=0.02)
    truth: dict[tuple[str, int], tuple[float, float, str]] = {}
    center = (30.28, 120.16)
    for step in range(3000):
        key = ("OP", rng.randrange(400))  # tuple keys, as the catalogue's
        roll = rng.random()
        if roll < 0.15:
            index.remove(key)
            truth.pop(key, None)
        elif roll < 0.35 and key in truth:  # the same place, a new value: replaced in place
            lat, lon, _ = truth[key]
            truth[key] = (lat, lon, f"v{step}")
            index.put(key, lat, lon, f"v{step}")
        else:
            lat, lon = center[0] + rng.uniform(-0.2, 0.2), center[1] + rng.uniform(-0.2, 0.2)
            truth[key] = (lat, lon, f"v{step}")
            index.put(key, lat, lon, f"v{step}")
        if step % 700 == 0:
            index.pack()
        if step % 50 == 0:
            radius = rng.choice([0.5, 3.0, 12.0])
            found = index.search(*center, radius)
            got = {k: (d, v) for d, k, v in zip(found.distance, found.key, found.value, strict=True)}
            expected = {
                k: v for k, (lat, lon, v) in truth.items() if haversine_km(*center, lat, lon) <= radius
            }
            assert {k: v for k, (_, v) in got.items()} == expected
            for k, (d, _) in got.items():
                assert d == pytest.approx(haversine_km(*center, *truth[k][:2]), abs=1e-9)
    assert len(index) == len(truth)


def test_a_query_packs_once_enough_points_wait():
    index = GridIndex()
    for i in range(3000):
        index.put(i, 30 + i * 1e-4, 120.0)
    assert len(index.search(30.1, 120.0, 50)) == 3000
    assert not index._fresh  # noqa: SLF001  # packed by the query


def test_catalogue_near_orders_by_distance_then_operator_and_station_id():
    from gateway.catalogue.stations import Catalogue
    from gateway.observability.metrics import Metrics
    from gateway.settings.load import CatalogueSettings
    from operators.domain import GeoPoint, Station

    catalogue = Catalogue(CatalogueSettings(), Metrics())
    same, near = GeoPoint(30.01, 120.0), GeoPoint(30.001, 120.0)
    catalogue.upsert(
        [Station(op, sid, sid, at, None, ()) for op, sid, at in
         [("OPB", "s1", same), ("OPA", "s2", same), ("OPA", "s1", same), ("OPC", "s9", near)]]
    )  # fmt: skip
    order = [(s.operator_id, s.id) for _, s in catalogue.near(30.0, 120.0, 5)]
    assert order == [("OPC", "s9"), ("OPA", "s1"), ("OPA", "s2"), ("OPB", "s1")]
    assert sorted(d for d, _ in catalogue.near(30.0, 120.0, 5, ordered=False)) == [
        d for d, _ in catalogue.near(30.0, 120.0, 5)
    ]


@pytest.mark.parametrize("seed", range(4))
def test_nearest_reads_like_a_full_sort_whatever_is_read_first(seed):
    """Hits sorted only as far as read: indexing, slices and bisection see the full order
    (distance, then operator and station id), ties at the same place included."""
    from bisect import bisect_right

    from gateway.catalogue.stations import Catalogue
    from gateway.observability.metrics import Metrics
    from gateway.settings.load import CatalogueSettings
    from operators.domain import GeoPoint, Station

    rng = random.Random(seed)
    places = [GeoPoint(30 + rng.uniform(-0.2, 0.2), 120 + rng.uniform(-0.2, 0.2)) for _ in range(150)]
    stations = [
        Station(f"OP{rng.randrange(3)}", f"s{i}", "", rng.choice(places), None, ()) for i in range(900)
    ]  # many stations share a place: equal distances
    catalogue = Catalogue(CatalogueSettings(), Metrics())
    catalogue.upsert(stations)
    full = sorted(catalogue.near(30, 120, 30, ordered=False), key=lambda h: (h[0], h[1].operator_id, h[1].id))
    keys = [(d, s.operator_id, s.id) for d, s in full]
    assert len(full) > 500
    nearest = catalogue.nearest(30, 120, 30)
    assert len(nearest) == len(full)
    for _ in range(30):
        a = rng.randrange(len(full))
        b = a + rng.randrange(60)
        assert [(d, s.operator_id, s.id) for d, s in nearest[a:b]] == keys[a:b]
        d, s = nearest[a]
        assert (d, s.operator_id, s.id) == keys[a]
        probe = keys[rng.randrange(len(keys))]
        found = bisect_right(nearest, probe, key=lambda h: (h[0], h[1].operator_id, h[1].id))
        assert found == bisect_right(keys, probe)
    assert [(d, s.operator_id, s.id) for d, s in catalogue.near(30, 120, 30)] == keys
    assert [(d, s.operator_id, s.id) for d, s in nearest[::-1]] == keys[::-1]
