"""A per-operator circuit breaker policy (see :mod:`gateway.upstream.wrapping`).

CLOSED: calls pass; ``failure_threshold`` consecutive health failures open the circuit.
OPEN: calls fail at once with :class:`OperatorUnavailable` until ``reset_after_s`` has passed.
HALF-OPEN: one probe call passes; success closes the circuit, failure opens it again. Rejections
(bad ids, business refusals) say nothing about the operator's health and do not count.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.observability.metrics import Metrics
from operators.base import OperatorAuthError, OperatorProtocolError, OperatorUnavailable

HEALTH_FAILURES = (OperatorUnavailable, OperatorProtocolError, OperatorAuthError)


class CircuitBreaker:
    def __init__(
        self,
        operator_id: str,
        *,
        failure_threshold: int,
        reset_after_s: float,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operator_id = operator_id
        self._threshold = failure_threshold
        self._reset_after = reset_after_s
        self._metrics = metrics
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.last_error: str | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_after and not self._probing:
            return "half-open"
        return "open"

    async def __call__(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        state = self.state
        if state == "open":
            raise OperatorUnavailable(self.operator_id, "circuit open after repeated failures")
        probe = state == "half-open"
        self._probing = probe
        try:
            result = await call()
        except HEALTH_FAILURES as exc:
            self.last_error = exc.message
            self._failures += 1
            if probe or self._failures >= self._threshold:
                self._set_open(True)
            raise
        finally:
            if probe:
                self._probing = False
        self._failures = 0
        if self._opened_at is not None:
            self._set_open(False)
        return result

    def _set_open(self, is_open: bool) -> None:
        self._opened_at = self._clock() if is_open else None
        if self._metrics:
            self._metrics.breaker_open.labels(self.operator_id).set(1 if is_open else 0)
