"""A grid spatial index: radius queries touch only the cells the query circle can reach.

Points are bucketed into cells of ``cell_deg`` degrees of latitude; a cell's longitude width is
stretched by 1/cos(lat) of the index's reference band so cells stay roughly square. A query visits
the cells of the circle's bounding box and computes exact haversine distances only there.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class GridIndex:
    def __init__(self, cell_deg: float = 0.02) -> None:
        self._cell = cell_deg
        self._cells: dict[tuple[int, int], dict[Hashable, tuple[float, float]]] = {}
        self._where: dict[Hashable, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def _cell_of(self, lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lat / self._cell), math.floor(lon / self._cell))

    def put(self, key: Hashable, lat: float, lon: float) -> None:
        self.remove(key)
        cell = self._cell_of(lat, lon)
        self._cells.setdefault(cell, {})[key] = (lat, lon)
        self._where[key] = cell

    def remove(self, key: Hashable) -> None:
        cell = self._where.pop(key, None)
        if cell is not None:
            bucket = self._cells[cell]
            del bucket[key]
            if not bucket:
                del self._cells[cell]

    def within(self, lat: float, lon: float, radius_km: float) -> Iterator[tuple[float, Hashable]]:
        """``(distance_km, key)`` for every point within ``radius_km``, in no particular order."""
        dlat = radius_km / KM_PER_DEG_LAT
        cos_lat = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 1e-6)
        dlon = min(180.0, dlat / cos_lat)
        lat0, lon0 = self._cell_of(lat - dlat, lon - dlon)
        lat1, lon1 = self._cell_of(lat + dlat, lon + dlon)
        if (lat1 - lat0 + 1) * (lon1 - lon0 + 1) > len(self._cells):
            cells = (c for c in self._cells.items() if lat0 <= c[0][0] <= lat1 and lon0 <= c[0][1] <= lon1)
        else:
            cells = (
                ((i, j), self._cells[(i, j)])
                for i in range(lat0, lat1 + 1)
                for j in range(lon0, lon1 + 1)
                if (i, j) in self._cells
            )
        for _, bucket in cells:
            for key, (plat, plon) in bucket.items():
                if abs(plat - lat) > dlat:
                    continue
                d = haversine_km(lat, lon, plat, plon)
                if d <= radius_km:
                    yield d, key
