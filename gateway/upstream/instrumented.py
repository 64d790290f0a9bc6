"""The metrics policy: upstream latency and errors per operator and method, a small ring buffer of
the latest calls (:class:`gateway.upstream.health.RecentCalls`) for operator health, and, only when tracing
is on (:mod:`gateway.observability.tracing`), a client span around each call."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.observability.metrics import Metrics
from gateway.upstream.health import RecentCalls
from operators.base import OperatorError


class UpstreamMetrics:
    def __init__(
        self, operator_id: str, metrics: Metrics, recent: RecentCalls | None = None, tracer: Any = None
    ) -> None:
        self._id = operator_id
        self._metrics = metrics
        self.recent = recent if recent is not None else RecentCalls()
        self._tracer = tracer
        # The latency histogram's child per method, looked up once: labels() validates and locks
        # on every call otherwise (the children live as long as the metric; nothing removes them).
        self._seconds: dict[str, Any] = {}

    async def __call__(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        if self._tracer is not None:
            return await self._traced(method, call)
        return await self._measured(method, call)

    async def _measured(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
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
            seconds = self._seconds.get(method)
            if seconds is None:
                seconds = self._seconds[method] = self._metrics.upstream_seconds.labels(self._id, method)
            seconds.observe(elapsed)
            self.recent.record(elapsed, error)

    async def _traced(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        from opentelemetry.trace import SpanKind, Status, StatusCode  # tracing is on: installed

        attributes = {"chargegate.operator": self._id, "chargegate.method": method}
        with self._tracer.start_as_current_span(
            f"{self._id} {method}", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            try:
                return await self._measured(method, call)
            except OperatorError as exc:
                span.set_attribute("chargegate.error", exc.code)
                span.set_status(Status(StatusCode.ERROR, exc.code))
                raise
