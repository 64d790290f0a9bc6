"""BatchLoader: the DataLoader contract (one batch per tick, each key once per request, cached)
without a future per key."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.execution.loaders import BatchLoader, by_operator


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def __call__(self, keys: list[str]) -> list[str]:
        self.batches.append(list(keys))
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("upstream bug")
        return [k.upper() for k in keys]


async def test_keys_asked_in_the_same_tick_share_one_batch():
    load = Recorder()
    loader = BatchLoader(load)
    first = loader.load_many(["a", "b", "a"])
    second = loader.load_many(["b", "c"])
    assert await asyncio.gather(first, second) == [["A", "B", "A"], ["B", "C"]]
    assert load.batches == [["a", "b", "c"]]


async def test_concurrent_resolvers_share_one_batch():
    load = Recorder()
    loader = BatchLoader(load)
    results = await asyncio.gather(*(loader.load(k) for k in "abcab"))
    assert results == list("ABCAB")
    assert load.batches == [["a", "b", "c"]]


async def test_known_keys_are_answered_from_the_request_cache():
    load = Recorder()
    loader = BatchLoader(load)
    assert await loader.load_many(["a", "b"]) == ["A", "B"]
    assert await loader.load_many(["b", "a"]) == ["B", "A"]
    assert await loader.load_many(["a", "d"]) == ["A", "D"]
    assert load.batches == [["a", "b"], ["d"]]


async def test_a_key_in_flight_joins_its_batch_not_a_new_one():
    load = Recorder()
    loader = BatchLoader(load)
    first = asyncio.ensure_future(loader.load_many(["a"]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the batch is dispatched and waiting on the batch function
    assert load.batches == [["a"]]
    assert await loader.load_many(["a", "b"]) == ["A", "B"]
    assert await first == ["A"]
    assert load.batches == [["a"], ["b"]]


async def test_empty_keys_cost_nothing():
    load = Recorder()
    assert await BatchLoader(load).load_many([]) == []
    assert load.batches == []


async def test_a_failing_batch_fails_every_waiter_and_can_be_retried():
    load = Recorder(fail=True)
    loader = BatchLoader(load)
    first, second = loader.load_many(["a"]), loader.load_many(["b"])
    outcomes = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    load.fail = False
    assert await loader.load_many(["a"]) == ["A"]
    assert load.batches == [["a", "b"], ["a"]]


async def test_a_batch_function_returning_the_wrong_count_is_an_error():
    async def short(keys: list[str]) -> list[str]:
        return keys[:-1]

    with pytest.raises(ValueError, match="returned 1 values for 2 keys"):
        await BatchLoader(short).load_many(["a", "b"])


def test_keys_are_groupedby_operator_once_each_in_order():
    keys = [("op1", "a"), ("op2", "x"), ("op1", "b"), ("op1", "a")]
    assert by_operator(keys) == {"op1": ["a", "b"], "op2": ["x"]}


async def test_a_cancelled_waiter_leaves_the_shared_batch_to_the_others():
    load = Recorder()
    loader = BatchLoader(load)
    cancelled = asyncio.ensure_future(loader.load_many(["a", "b"]))
    other = asyncio.ensure_future(loader.load_many(["b"]))
    await asyncio.sleep(0)
    cancelled.cancel()  # e.g. graphql-core abandoning a sibling after an error
    assert await other == ["B"]
    assert load.batches == [["a", "b"]]
    with pytest.raises(asyncio.CancelledError):
        await cancelled


@pytest.mark.filterwarnings("error")
async def test_an_answer_never_awaited_warns_of_nothing():
    loader = BatchLoader(Recorder())
    abandoned = loader.load_many(["a"])  # a resolver dropped before awaiting it
    del abandoned
    assert await loader.load("a") == "A"


async def test_a_finished_batch_leaves_another_batchs_keys_in_flight():
    gate = asyncio.Event()
    batches: list[list[str]] = []

    async def load(keys: list[str]) -> list[str]:
        batches.append(list(keys))
        if "b" in keys:
            await gate.wait()
        return [k.upper() for k in keys]

    loader = BatchLoader(load)
    slow = asyncio.ensure_future(loader.load_many(["b", "c"]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # b and c wait on the gate
    assert await loader.load_many(["a"]) == ["A"]  # a's batch is done: b and c are still in flight
    joined = asyncio.ensure_future(loader.load_many(["c", "a"]))
    await asyncio.sleep(0)
    gate.set()
    assert (await slow, await joined) == (["B", "C"], ["C", "A"])
    assert batches == [["b", "c"], ["a"]]  # c joined its batch in flight, a came from the cache
