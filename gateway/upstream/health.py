"""Operator health for internal tooling: recent upstream calls, the circuit, the catalogue sync.

Status, first rule that holds wins:

- ``DOWN``: the circuit is open (calls fail at once), or the catalogue never synced and the last
  attempt failed.
- ``SYNCING``: the first catalogue sync has not finished yet.
- ``DEGRADED``: the circuit is half-open (waiting for a probe), the last catalogue sync failed
  (stations are served from an older one), or one of the last ``FAILURE_WINDOW`` calls failed.
- ``UP``: otherwise.

Latency p50 comes from a small ring buffer of the operator's latest calls (what the Prometheus
histogram cannot give cheaply): recording is one ``deque.append``, the median is computed only when
someone asks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from operators.base import OperatorError

SAMPLES = 256  # latencies kept per operator
FAILURE_WINDOW = 20  # calls looked at for DEGRADED


class HealthStatus(StrEnum):
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
    SYNCING = "SYNCING"


class RecentCalls:
    """One operator's latest upstream calls: latencies (seconds) and whether each failed."""

    __slots__ = ("_seconds", "_failed", "last_error")

    def __init__(self, size: int = SAMPLES) -> None:
        self._seconds: deque[float] = deque(maxlen=size)
        self._failed: deque[bool] = deque(maxlen=FAILURE_WINDOW)
        self.last_error: str | None = None

    def record(self, seconds: float, error: OperatorError | None = None) -> None:
        self._seconds.append(seconds)
        self._failed.append(error is not None)
        if error is not None:
            self.last_error = f"{error.code}: {error.message}"

    def __len__(self) -> int:
        return len(self._seconds)

    def p50_ms(self) -> float | None:
        if not self._seconds:
            return None
        ordered = sorted(self._seconds)
        middle = len(ordered) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return round(median * 1000, 3)

    def recent_failures(self) -> int:
        return sum(self._failed)


@dataclass(frozen=True, slots=True)
class OperatorHealth:
    status: HealthStatus
    circuit_open: bool
    latency_p50_ms: float | None
    last_sync_at: datetime | None
    last_error: str | None


class SyncFacts(Protocol):
    """What health reads of an operator's catalogue sync (the catalogue's ``SyncState``)."""

    @property
    def synced_at(self) -> datetime | None: ...

    @property
    def last_error(self) -> str | None: ...


def assess(breaker_state: str, sync: SyncFacts | None, recent: RecentCalls | None) -> OperatorHealth:
    """The health of one operator from its breaker's state (closed / half-open / open), its
    catalogue sync state and its recent calls (each may be missing for an operator just added)."""
    synced_at = sync.synced_at if sync else None
    sync_error = sync.last_error if sync else None
    failures = recent.recent_failures() if recent else 0
    if breaker_state == "open" or (synced_at is None and sync_error):
        status = HealthStatus.DOWN
    elif synced_at is None:
        status = HealthStatus.SYNCING
    elif breaker_state == "half-open" or sync_error or failures:
        status = HealthStatus.DEGRADED
    else:
        status = HealthStatus.UP
    return OperatorHealth(
        status=status,
        circuit_open=breaker_state != "closed",
        latency_p50_ms=recent.p50_ms() if recent else None,
        last_sync_at=synced_at,
        last_error=(recent.last_error if recent else None) or sync_error,
    )
