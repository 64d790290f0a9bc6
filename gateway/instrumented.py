"""The metrics policy: upstream latency and errors per operator and method, plus a small ring
buffer of the latest calls (:class:`gateway.health.RecentCalls`) for operator health."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.health import RecentCalls
from gateway.metrics import Metrics
from operators.base import OperatorError


class UpstreamMetrics:
    def __init__(self, operator_id: str, metrics: Metrics, recent: RecentCalls | None = None) -> None:
        self._id = operator_id
        self._metrics = metrics
        self.recent = recent if recent is not None else RecentCalls()

    async def __call__(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        start = time.perf_counter()
        error: OperatorError | None = None
        try:
            return await call()
        except OperatorError as exc:
            error = exc
            self._metrics.upstream_errors.labels(self._id, method, exc.code).inc()
            raise
        finally:
            elapsed = time.perf_counter() - start
            self._metrics.upstream_seconds.labels(self._id, method).observe(elapsed)
            self.recent.record(elapsed, error)
