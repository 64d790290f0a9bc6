"""Request latency per GraphQL operation, for ``/metrics`` (no per-field hooks: off the hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class OperationTiming(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        start = time.perf_counter()
        yield
        runtime = getattr(self.execution_context.context, "runtime", None)
        if runtime is not None:
            name = self.execution_context.operation_name or "anonymous"
            runtime.metrics.request_seconds.labels(name[:64]).observe(time.perf_counter() - start)
