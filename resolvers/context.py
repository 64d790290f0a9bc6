"""The per-request context: runtime handle, deadline, DataLoaders and collected operator errors."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.runtime import Runtime
from operators.base import OperatorError
from operators.domain import ConnectorState, Tariff
from resolvers import loaders


@dataclass
class RequestContext:
    runtime: Runtime
    request: Any
    deadline: float  # event-loop time by which every upstream call must have answered
    now: datetime
    operator_errors: dict[str, OperatorError] = field(default_factory=dict)
    statuses: DataLoader[tuple[str, str], dict[str, ConnectorState]] = field(init=False)
    tariffs: DataLoader[tuple[str, str], Tariff | None] = field(init=False)

    def __post_init__(self) -> None:
        self.statuses = DataLoader(lambda keys: loaders.load_statuses(self, keys))
        self.tariffs = DataLoader(lambda keys: loaders.load_tariffs(self, keys))

    @classmethod
    def create(cls, runtime: Runtime, request: Any) -> RequestContext:
        deadline = asyncio.get_running_loop().time() + runtime.settings.gateway.request_deadline_s
        return cls(runtime, request, deadline, datetime.now(UTC))

    def report(self, errors: dict[str, OperatorError]) -> None:
        for op_id, error in errors.items():
            self.operator_errors.setdefault(op_id, error)
