"""A spatial index for radius queries: points packed in bands of latitude, sorted by longitude.

Points live in numpy arrays ordered by (band, longitude), a band being ``cell_deg`` degrees of
latitude. A query takes, in each band its circle crosses, the one contiguous run of points within
the circle's longitude span (two binary searches per band, all bands at once), then measures those
candidates in one vectorised pass: no Python work per candidate. A point is kept as a unit vector,
so the pass computes the squared chord to the centre (three differences, three squares: no
trigonometry); the chord grows with the great-circle distance, so it selects and orders exactly
as the distance does, and the distance itself (``2R·asin(chord/2)``, the haversine formula's own
form) is computed only for the hits read.

Changes arrive between packings: a point added or moved since the last packing waits in a small
dict searched in Python (and its old packed slot is masked out) until :meth:`GridIndex.pack`
rebuilds the arrays, which a query does by itself once more than ``PACK_AFTER`` points wait. A point
re-put at the same place only has its value replaced, in place.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180
PACK_AFTER = 1024  # points waiting outside the arrays before a query packs them in
_BAND_SPAN = 1000.0  # sort key: band * span + (lon + 180), longitudes never reach the next band

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Objects = npt.NDArray[np.object_]


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    p, lam = math.radians(lat), math.radians(lon)
    return math.cos(p) * math.cos(lam), math.cos(p) * math.sin(lam), math.sin(p)


def chord2_km(chord2: Floats) -> Floats:
    """Great-circle distances (km) of squared unit chords."""
    return (2 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(np.sqrt(chord2) / 2, 1.0))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Found:
    """What a radius query found, in no particular order: ``chord2`` (the squared unit chord to
    the centre, which orders as the distance does) and ``slot`` aligned.

    A slot is a position in the index's arrays as they stood at the query (below their length) or
    in the points that were waiting outside them (from it on); distances, keys and values are only
    computed or fetched for the positions asked (:meth:`distances`, :meth:`keys`, :meth:`values`),
    so a query that finds thousands of points and shows twenty touches twenty Python objects.
    """

    chord2: Floats
    slot: Ints
    packed_keys: Objects
    packed_values: Objects
    extra_keys: tuple[Hashable, ...] = ()
    extra_values: tuple[Any, ...] = ()

    def __len__(self) -> int:
        return len(self.chord2)

    def distances(self, at: Ints | slice) -> Floats:
        """Distances (km) of the hits at positions ``at``."""
        return chord2_km(self.chord2[at])

    @property
    def distance(self) -> Floats:
        return chord2_km(self.chord2)

    def keys(self, at: Ints) -> list[Any]:
        """The keys of the hits at positions ``at`` (of this result), in that order."""
        return self._pick(self.slot[at], self.packed_keys, self.extra_keys)

    def values(self, at: Ints) -> list[Any]:
        return self._pick(self.slot[at], self.packed_values, self.extra_values)

    def _pick(self, slots: Ints, packed: Objects, extra: tuple[Any, ...]) -> list[Any]:
        n = len(packed)
        if not extra or not len(slots) or slots.max() < n:
            return packed[slots].tolist()
        return [packed[s] if s < n else extra[s - n] for s in slots.tolist()]

    @property
    def key(self) -> list[Any]:
        return self.keys(np.arange(len(self)))

    @property
    def value(self) -> list[Any]:
        return self.values(np.arange(len(self)))


def _objects(items: Iterable[Any], n: int) -> Objects:
    """A 1-d object array of ``items`` (tuples stay elements, not rows)."""
    return np.fromiter(items, dtype=object, count=n)


class GridIndex:
    def __init__(self, cell_deg: float = 0.02) -> None:
        self._cell = cell_deg
        self._fresh: dict[Hashable, tuple[float, float, Any]] = {}  # not in the arrays yet
        self._slot: dict[Hashable, int] = {}  # position in the arrays of each live packed point
        self._dead = 0
        self._sort = np.empty(0)
        self._lat_deg = np.empty(0)
        self._lon_deg = np.empty(0)
        self._x = self._y = self._z = np.empty(0)  # unit vectors
        self._alive: npt.NDArray[np.bool_] | None = None  # None: every packed point is live
        self._keys: Objects = np.empty(0, dtype=object)
        self._values: Objects = np.empty(0, dtype=object)

    def __len__(self) -> int:
        return len(self._slot) + len(self._fresh)

    def put(self, key: Hashable, lat: float, lon: float, value: Any = None) -> None:
        """Place ``key`` at ``lat``/``lon`` with ``value`` (returned by :meth:`search`; the key by
        default), replacing where it was."""
        value = key if value is None else value
        slot = self._slot.get(key)
        if slot is not None and self._lat_deg[slot] == lat and self._lon_deg[slot] == lon:
            self._values[slot] = value  # the same place: nothing moves
            return
        self.remove(key)
        self._fresh[key] = (lat, lon, value)

    def remove(self, key: Hashable) -> None:
        if self._fresh.pop(key, None) is not None:
            return
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        if self._alive is None:
            self._alive = np.ones(len(self._keys), dtype=bool)
        self._alive[slot] = False
        self._dead += 1

    def pack(self) -> None:
        """Rebuild the arrays from every live point (after a sync; queries do it when needed)."""
        if not self._fresh and not self._dead:
            return
        keep = slice(None) if self._alive is None else np.flatnonzero(self._alive)
        n = len(self._fresh)
        keys = _objects(self._fresh, n)
        values = _objects((v for _, _, v in self._fresh.values()), n)
        lat = np.concatenate(
            (self._lat_deg[keep], np.fromiter((p[0] for p in self._fresh.values()), float, n))
        )
        lon = np.concatenate(
            (self._lon_deg[keep], np.fromiter((p[1] for p in self._fresh.values()), float, n))
        )
        sort = np.floor(lat / self._cell) * _BAND_SPAN + (lon + 180.0)
        order = np.argsort(sort, kind="stable")
        self._sort = sort[order]
        self._lat_deg, self._lon_deg = lat[order], lon[order]
        p, lam = np.radians(self._lat_deg), np.radians(self._lon_deg)
        self._x, self._y, self._z = np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)
        self._keys = np.concatenate((self._keys[keep], keys))[order]
        self._values = np.concatenate((self._values[keep], values))[order]
        self._slot = {key: i for i, key in enumerate(self._keys.tolist())}
        self._alive, self._dead, self._fresh = None, 0, {}

    def search(self, lat: float, lon: float, radius_km: float) -> Found:
        """Every point within ``radius_km`` of ``lat``/``lon``, in no particular order."""
        if len(self._fresh) > PACK_AFTER:
            self.pack()
        dlat = radius_km / KM_PER_DEG_LAT
        cos_lat = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 1e-6)
        dlon = min(180.0, dlat / cos_lat)
        centre = unit_vector(lat, lon)
        limit = (2 * math.sin(radius_km / (2 * EARTH_RADIUS_KM))) ** 2  # the radius as a squared chord
        chord2, slot = self._search_packed(centre, limit, lat, lon, dlat, dlon)
        extra = []
        for key, (plat, plon, value) in self._fresh.items():
            if abs(plat - lat) <= dlat:
                c2 = sum((a - b) ** 2 for a, b in zip(unit_vector(plat, plon), centre, strict=True))
                if c2 <= limit:
                    extra.append((c2, key, value))
        if extra:
            chord2 = np.concatenate((chord2, np.array([c for c, _, _ in extra])))
            slot = np.concatenate((slot, np.arange(len(self._keys), len(self._keys) + len(extra))))
        return Found(
            chord2,
            slot,
            self._keys,
            self._values,
            tuple(k for _, k, _ in extra),
            tuple(v for _, _, v in extra),
        )

    def _search_packed(
        self,
        centre: tuple[float, float, float],
        limit: float,
        lat: float,
        lon: float,
        dlat: float,
        dlon: float,
    ) -> tuple[Floats, Ints]:
        """Squared chords and slots of the packed points within the radius."""
        cell = self._cell
        bands = np.arange(math.floor((lat - dlat) / cell), math.floor((lat + dlat) / cell) + 1) * _BAND_SPAN
        west, east = max(-180.0, lon - dlon) + 180.0, min(180.0, lon + dlon) + 180.0
        lo = np.searchsorted(self._sort, bands + west, "left")
        hi = np.searchsorted(self._sort, bands + east, "right")
        sizes = hi - lo
        total = int(sizes.sum())
        if not total:
            return np.empty(0), np.empty(0, dtype=np.intp)
        # The positions of every run, end to end, without a Python loop over bands.
        at = np.arange(total) + np.repeat(lo - (np.cumsum(sizes) - sizes), sizes)
        if self._alive is not None:
            at = at[self._alive[at]]
        chord2 = np.take(self._x, at)
        chord2 -= centre[0]
        chord2 *= chord2
        for axis, c in ((self._y, centre[1]), (self._z, centre[2])):  # in place: no temporaries
            part = np.take(axis, at)
            part -= c
            part *= part
            chord2 += part
        inside = chord2 <= limit
        return chord2[inside], at[inside]

    def within(self, lat: float, lon: float, radius_km: float) -> Iterator[tuple[float, Hashable]]:
        """``(distance_km, key)`` for every point within ``radius_km``, in no particular order."""
        found = self.search(lat, lon, radius_km)
        return zip(found.distance.tolist(), found.key, strict=True)
