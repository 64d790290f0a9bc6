"""The metrics policy: upstream latency and errors per operator and method."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.metrics import Metrics
from operators.base import OperatorError


class UpstreamMetrics:
    def __init__(self, operator_id: str, metrics: Metrics) -> None:
        self._id = operator_id
        self._metrics = metrics

    async def __call__(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        start = time.perf_counter()
        try:
            return await call()
        except OperatorError as exc:
            self._metrics.upstream_errors.labels(self._id, method, exc.code).inc()
            raise
        finally:
            self._metrics.upstream_seconds.labels(self._id, method).observe(time.perf_counter() - start)
