"""Per-request batch loaders: one upstream call per operator per batch, operators concurrently.

The request context (:mod:`resolvers.context`) builds its status and tariff loaders on these. A failing
operator fails only its own keys (they come back empty) and is reported once in the request context,
which turns it into an ``OPERATOR_UNAVAILABLE`` error in the response.

:class:`BatchLoader` keeps the DataLoader contract — keys asked for in the same event-loop tick
(by any number of resolvers) go to the batch function together, each key at most once per
request, and later asks for a known key are answered from the request's cache — but a page's keys
share one future for the whole batch instead of one future (and one callback) per key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _Batch:
    __slots__ = ("done", "keys", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: list[Any] = []
        self.done: asyncio.Future[None] = loop.create_future()
        self.task: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference


class _Collect(Generic[V]):
    """What ``load_many`` returns: an awaitable, not a coroutine, so one that is never awaited (a
    resolver abandoned when a null bubbles up) warns of nothing; and each waiter waits behind a
    shield, so cancelling one waiter never cancels the batch that other waiters share."""

    __slots__ = ("keys", "values", "waits")

    def __init__(self, keys: Sequence[Any], waits: list[_Batch], values: dict[Any, V]) -> None:
        self.keys, self.waits, self.values = keys, waits, values

    def __await__(self) -> Generator[Any, None, list[V]]:
        for batch in self.waits:
            yield from asyncio.shield(batch.done).__await__()
        return list(map(self.values.__getitem__, self.keys))


class BatchLoader(Generic[K, V]):
    """A request-scoped loader over ``load_fn(keys) -> values`` (same length and order as keys)."""

    __slots__ = ("_inflight", "_load", "_pending", "_values")

    def __init__(self, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        self._load = load_fn
        self._values: dict[K, V] = {}
        self._inflight: dict[K, _Batch] = {}
        self._pending: _Batch | None = None  # collecting keys until the loop runs its dispatch

    def load_many(self, keys: Sequence[K]) -> Awaitable[list[V]]:
        """The values of ``keys``, in order. The keys join the current batch now (call it before
        awaiting anything else, so that sibling resolvers' keys share the batch)."""
        values, inflight = self._values, self._inflight
        if not values and not inflight and keys:
            # The request's first ask (the usual one): every key is new, so the page's keys join
            # a batch without a look-up each.
            joined = self._pending or self._open()
            fresh = dict.fromkeys(keys, joined)
            joined.keys += fresh
            inflight.update(fresh)
            return _Collect(keys, [joined], values)
        waits: list[_Batch] = []
        for key in keys:
            if key in values:
                continue
            batch = inflight.get(key)
            if batch is None:
                batch = self._pending or self._open()
                batch.keys.append(key)
                inflight[key] = batch
            if not waits or waits[-1] is not batch and batch not in waits:
                waits.append(batch)
        return _Collect(keys, waits, values)

    async def load(self, key: K) -> V:
        return (await self.load_many((key,)))[0]

    def _open(self) -> _Batch:
        loop = asyncio.get_running_loop()
        batch = self._pending = _Batch(loop)
        loop.call_soon(self._dispatch, batch)
        return batch

    def _dispatch(self, batch: _Batch) -> None:
        if self._pending is batch:
            self._pending = None
        batch.task = asyncio.ensure_future(self._run(batch))

    async def _run(self, batch: _Batch) -> None:
        keys = batch.keys
        try:
            found = list(await self._load(keys))
            if len(found) != len(keys):
                raise ValueError(f"batch function returned {len(found)} values for {len(keys)} keys")
            self._values.update(zip(keys, found, strict=True))
        except asyncio.CancelledError:
            batch.done.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiter of the batch gets it
            batch.done.set_exception(exc)
            batch.done.exception()  # marked retrieved: a batch nobody awaits any more logs nothing
        else:
            batch.done.set_result(None)
        finally:
            inflight = self._inflight
            if len(inflight) == len(keys):  # only this batch's keys (each is there once) are in flight
                inflight.clear()
            else:
                for key in keys:
                    if inflight.get(key) is batch:
                        del inflight[key]


def by_operator(keys: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Native ids by operator, each once, in the order of ``keys``. A run of one operator's keys
    (a station's connectors, a page of one operator's stations) is taken in one step."""
    grouped: dict[str, dict[str, None]] = {}
    for op_id, run in groupby(keys, _operator):
        ids = grouped.get(op_id)
        if ids is None:
            grouped[op_id] = dict.fromkeys(map(_native, run))
        else:
            ids.update(dict.fromkeys(map(_native, run)))
    return {op_id: list(ids) for op_id, ids in grouped.items()}


_operator, _native = itemgetter(0), itemgetter(1)
