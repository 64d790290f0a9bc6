import random

import pytest

from gateway.geoindex import GridIndex, haversine_km


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
