"""The station catalogue: every operator's stations, kept in memory and indexed for radius search.

Operators only page through their whole catalogue, so the gateway syncs it at start-up and then
asks for changes since the last sync on a schedule. Keys are ``(operator_id, station_id)``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

import numpy as np

from gateway.catalogue.geoindex import Found, GridIndex, chord2_km
from gateway.catalogue.qrcodes import QrPatterns
from gateway.observability.metrics import Metrics
from gateway.settings.sections import CatalogueSettings
from operators.base import Operator, OperatorError
from operators.domain import Connector, Station

log = logging.getLogger(__name__)

StationKey = tuple[str, str]

MAX_PAGES = 100_000  # a runaway cursor must not loop forever
FIRST_RETRY_S = 1.0


@dataclass
class SyncState:
    synced_at: datetime | None = None  # start of the last successful sync (our clock)
    last_error: str | None = None
    stations: int = 0
    duration_s: float | None = None


_frozen = False


def freeze_heap() -> None:
    """Once per process, after the first catalogue sync: move every object alive now (modules, the
    schema, the catalogue itself) out of the cycle collector's sight with ``gc.freeze()``.

    Requests build thousands of short-lived containers; each time enough of them are alive the
    collector runs, and its full collections used to walk the whole long-lived heap — hundreds of
    thousands of objects, millions with a large catalogue — for nothing: that heap never becomes
    garbage. Frozen objects are still freed by reference counting when they go; only cyclic
    garbage among them would never be collected, and at start-up there is next to none.
    """
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


class Nearby(Sequence[tuple[float, Station]]):
    """Radius-search hits ordered by distance, then operator and station id: ``(distance, station)``
    items, built when read (indexing, slicing, :func:`bisect.bisect_right`).

    Only as much is sorted as is read: the first page of 50 among 70,000 hits takes a partition
    and a sort of the nearest 64, not a sort of them all. Reading further sorts a longer head
    (every hit no farther than the last one read, so equal distances are never split).
    """

    MIN_HEAD = 64
    # A head takes every hit whose squared chord is within this factor of the last one it must
    # hold: any hit at the same distance (to the last bit) is then in it, never split across.
    MARGIN = 1 + 1e-9

    def __init__(self, found: Found) -> None:
        self._found = found
        self._order = np.arange(len(found))  # positions in ``found``: the head sorted, the rest not
        self._chord2 = found.chord2.copy()  # aligned with ``_order``
        self._distance = np.empty(len(found))  # km, for the sorted head
        self._sorted = 0

    def __len__(self) -> int:
        return len(self._order)

    def _sort_head(self, n: int) -> None:
        """Sort at least the first ``n`` items (and every item as near as the n-th)."""
        total = len(self._order)
        if n <= self._sorted:
            return
        n = min(total, max(n, 2 * self._sorted, self.MIN_HEAD))
        lo = self._sorted
        if n < total:
            rest = self._chord2[lo:]
            kth = np.partition(rest, n - lo - 1)[n - lo - 1]
            near = rest <= kth * self.MARGIN
            pick = np.concatenate((np.flatnonzero(near), np.flatnonzero(~near)))
            self._order[lo:] = self._order[lo:][pick]
            self._chord2[lo:] = rest[pick]
            n = lo + int(near.sum())
        distance = chord2_km(self._chord2[lo:n])
        head = np.argsort(distance, kind="stable")
        self._order[lo:n] = self._order[lo:n][head]
        self._chord2[lo:n] = self._chord2[lo:n][head]
        self._distance[lo:n] = distance[head]
        self._break_ties(lo, n)
        self._sorted = n

    def _break_ties(self, lo: int, hi: int) -> None:
        """Equal distances (the same place) in ``[lo, hi)`` ordered by operator and station id."""
        distance = self._distance[lo:hi]
        ties = np.flatnonzero(distance[1:] == distance[:-1])
        for run in np.split(ties, np.flatnonzero(np.diff(ties) != 1) + 1) if len(ties) else ():
            a, b = lo + int(run[0]), lo + int(run[-1]) + 2
            keys = self._found.keys(self._order[a:b])
            by_key = np.array(sorted(range(b - a), key=keys.__getitem__))
            self._order[a:b] = self._order[a:b][by_key]
            self._chord2[a:b] = self._chord2[a:b][by_key]

    @overload
    def __getitem__(self, i: int) -> tuple[float, Station]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[float, Station]]: ...

    def __getitem__(self, i: int | slice) -> tuple[float, Station] | list[tuple[float, Station]]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self._order))
            if step != 1:
                self._sort_head(len(self._order))
            elif start >= stop:
                return []
            else:
                self._sort_head(stop)
            return list(zip(self._distance[i].tolist(), self._found.values(self._order[i]), strict=True))
        if i < 0:
            i += len(self._order)
        if not 0 <= i < len(self._order):
            raise IndexError(i)
        self._sort_head(i + 1)
        return float(self._distance[i]), self._found.values(self._order[i : i + 1])[0]


class Catalogue:
    def __init__(
        self, settings: CatalogueSettings, metrics: Metrics, qr_patterns: QrPatterns | None = None
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self.qr_patterns = qr_patterns or QrPatterns()  # operators' own sticker formats
        self._stations: dict[StationKey, Station] = {}
        self._index = GridIndex(settings.cell_deg)
        self._connectors: dict[tuple[str, str], StationKey] = {}
        self._qr: dict[str, tuple[str, str]] = {}
        self.sync_state: dict[str, SyncState] = {}
        self.first_sync_done = asyncio.Event()

    # -- reads ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._stations)

    def station(self, operator_id: str, station_id: str) -> Station | None:
        return self._stations.get((operator_id, station_id))

    def connector(self, operator_id: str, connector_id: str) -> tuple[Station, Connector] | None:
        key = self._connectors.get((operator_id, connector_id))
        station = self._stations.get(key) if key else None
        if station is None:
            return None
        for connector in station.connectors:
            if connector.id == connector_id:
                return station, connector
        return None

    def connector_ids(self, operator_id: str, station_id: str) -> list[str]:
        station = self._stations.get((operator_id, station_id))
        return [c.id for c in station.connectors] if station else []

    def by_qr_code(self, code: str) -> tuple[Station, Connector] | None:
        """Find a connector by the code printed on its pile.

        Codes are URL-like (``scheme://body/tail``); operators may append a partner-specific tail
        after the body, so an exact match is tried first, then the code cut after the body's ``/``,
        then the operators' own patterns (:mod:`gateway.catalogue.qrcodes`).
        """
        code = code.strip()
        hit = self._qr.get(code)
        if hit is None and "://" in code:
            scheme, _, rest = code.partition("://")
            body, slash, _ = rest.partition("/")
            hit = self._qr.get(f"{scheme.lower()}://{body}{slash or '/'}")
        if hit is not None:
            return self.connector(*hit)
        return next(filter(None, (self.connector(*c) for c in self.qr_patterns.match(code))), None)

    def near(
        self, lat: float, lon: float, radius_km: float, *, ordered: bool = True
    ) -> list[tuple[float, Station]]:
        """Stations within the radius, nearest first (ties broken by operator and station id);
        in no particular order with ``ordered=False``, for callers that sort on their own."""
        if ordered:
            return self.nearest(lat, lon, radius_km)[:]
        found = self._index.search(lat, lon, radius_km)
        return list(zip(found.distance.tolist(), found.value, strict=True))

    def nearest(self, lat: float, lon: float, radius_km: float) -> Nearby:
        """Stations within the radius, nearest first, as a sequence that builds only the items
        read: its length and a page cost no Python work per station found."""
        return Nearby(self._index.search(lat, lon, radius_km))

    def station_count(self, operator_id: str) -> int:
        return self.sync_state.get(operator_id, SyncState()).stations

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, stations: Iterable[Station]) -> None:
        for station in stations:
            key = (station.operator_id, station.id)
            old = self._stations.get(key)
            if old is not None:
                self._forget_connectors(old)
            else:
                self._count(station.operator_id, 1)
            self._stations[key] = station
            self._index.put(key, station.location.lat, station.location.lon, station)
            for connector in station.connectors:
                self._connectors[(station.operator_id, connector.id)] = key
                if connector.qr_code:
                    self._qr[connector.qr_code] = (station.operator_id, connector.id)

    def _forget_connectors(self, station: Station) -> None:
        for connector in station.connectors:
            self._connectors.pop((station.operator_id, connector.id), None)
            if connector.qr_code:
                self._qr.pop(connector.qr_code, None)

    def _count(self, operator_id: str, delta: int) -> None:
        state = self.sync_state.setdefault(operator_id, SyncState())
        state.stations += delta
        self._metrics.catalogue_stations.labels(operator_id).set(state.stations)

    # -- sync ----------------------------------------------------------------------------------

    async def sync(self, operator: Operator) -> None:
        """Fetch the operator's catalogue (changes only, after the first success). Never raises
        an :class:`OperatorError`: it is recorded in ``sync_state`` for health reporting."""
        op_id = operator.info.id
        state = self.sync_state.setdefault(op_id, SyncState())
        started = datetime.now(UTC)
        since = state.synced_at - timedelta(seconds=self._settings.overlap_s) if state.synced_at else None
        t0 = time.perf_counter()
        try:
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await operator.list_stations(since, cursor)
                self.upsert(page.stations)
                cursor = page.next_cursor
                if cursor is None:
                    break
        except OperatorError as exc:
            state.last_error = exc.message
            log.warning("catalogue sync of %s failed: %s", op_id, exc.message)
            return
        self._index.pack()
        state.synced_at = started
        state.last_error = None
        state.duration_s = time.perf_counter() - t0
        log.info("catalogue sync of %s: %d stations in %.2fs", op_id, state.stations, state.duration_s)

    async def sync_all(self, operators: Mapping[str, Operator]) -> None:
        await asyncio.gather(*(self.sync(op) for op in operators.values()))
        if not self.first_sync_done.is_set():
            freeze_heap()
        self.first_sync_done.set()

    async def run(self, operators: Mapping[str, Operator]) -> None:
        """Sync now, then every ``refresh_s`` seconds, until cancelled.

        While some operator has never synced (down at start-up, or still handshaking), retry
        sooner, backing off from one second: its stations are unknown until then.
        """
        retry = FIRST_RETRY_S
        while True:
            await self.sync_all(operators)
            if all(self.synced(op_id) for op_id in operators):
                delay, retry = self._settings.refresh_s, FIRST_RETRY_S
            else:
                delay, retry = min(retry, self._settings.refresh_s), retry * 2
            await asyncio.sleep(delay)

    def synced(self, operator_id: str) -> bool:
        state = self.sync_state.get(operator_id)
        return bool(state and state.synced_at)
