"""Concurrent calls to several operators inside one request deadline.

One operator's failure or slowness fails only its own part: the caller gets every result that
arrived in time plus one :class:`OperatorError` per operator that did not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from operators.base import OperatorError, OperatorTimeout

T = TypeVar("T")


async def fan_out(
    calls: Mapping[str, Callable[[], Awaitable[T]]], deadline: float
) -> tuple[dict[str, T], dict[str, OperatorError]]:
    """Run ``calls`` (keyed by operator id) concurrently until ``deadline`` (loop time)."""
    loop = asyncio.get_running_loop()

    async def one(op_id: str, call: Callable[[], Awaitable[T]]) -> T:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise OperatorTimeout(op_id, "request deadline already passed")
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps the call in one more task.
            async with asyncio.timeout(remaining):
                return await call()
        except TimeoutError as exc:
            raise OperatorTimeout(op_id, "no answer within the request deadline") from exc

    ids = list(calls)
    outcomes: list[T | BaseException]
    if len(ids) == 1:  # one operator: no task and gather for it, the same outcome
        try:
            outcomes = [await one(ids[0], calls[ids[0]])]
        except OperatorError as exc:
            outcomes = [exc]
    else:
        outcomes = await asyncio.gather(*(one(i, calls[i]) for i in ids), return_exceptions=True)
    values: dict[str, T] = {}
    errors: dict[str, OperatorError] = {}
    for op_id, outcome in zip(ids, outcomes, strict=True):
        if isinstance(outcome, OperatorError):
            errors[op_id] = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            values[op_id] = outcome
    return values, errors
