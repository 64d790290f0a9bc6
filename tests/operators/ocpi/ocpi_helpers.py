"""Shared helpers of the OCPI tests (a uniquely named module, importable from every test file)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from operators.domain import OperatorEvent
from operators.ocpi.adapter import OcpiOperator
from operators.ocpi.simulator import OcpiSimulator

CPO_ID = "CNSHA"


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it is truthy or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


@dataclass
class Gateway:
    op: OcpiOperator
    sim: OcpiSimulator
    http: aiohttp.ClientSession
    events: list[OperatorEvent] = field(default_factory=list)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]
