import asyncio

import pytest

from gateway.upstream.fanout import fan_out
from operators.base import OperatorTimeout, OperatorUnavailable


async def test_partial_results_within_the_deadline():
    never = asyncio.Event()

    async def fast():
        return 1

    async def hangs():
        await never.wait()

    async def fails():
        raise OperatorUnavailable("C", "boom")

    loop = asyncio.get_running_loop()
    start = loop.time()
    values, errors = await fan_out({"A": fast, "B": hangs, "C": fails}, loop.time() + 0.2)
    assert values == {"A": 1}
    assert isinstance(errors["B"], OperatorTimeout)
    assert isinstance(errors["C"], OperatorUnavailable)
    assert loop.time() - start < 1.0


async def test_unexpected_exceptions_are_not_swallowed():
    async def bug():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await fan_out({"A": bug}, asyncio.get_running_loop().time() + 1)


async def test_one_operator_has_the_same_outcomes_as_several():
    never = asyncio.Event()

    async def hangs():
        await never.wait()

    async def fails():
        raise OperatorUnavailable("A", "boom")

    loop = asyncio.get_running_loop()
    values, errors = await fan_out({"A": hangs}, loop.time() + 0.05)
    assert values == {} and isinstance(errors["A"], OperatorTimeout)
    values, errors = await fan_out({"A": fails}, loop.time() + 1)
    assert values == {} and isinstance(errors["A"], OperatorUnavailable)
    values, errors = await fan_out({"A": hangs}, loop.time() - 1)  # the deadline already passed
    assert values == {} and "already passed" in str(errors["A"])


async def test_each_call_gets_a_turn_before_the_next_starts():
    # aiohttp (Python 3.11) sends a request from a task of its own: the first call's turn must come
    # before the last call is started, or no request leaves before every call is prepared.
    events: list[tuple[str, str]] = []

    def call(name: str):
        async def run():
            events.append(("start", name))
            await asyncio.sleep(0)  # what aiohttp's writer task needs: one turn of the loop
            events.append(("sent", name))
            return name

        return run

    values, errors = await fan_out({n: call(n) for n in "ABCD"}, asyncio.get_running_loop().time() + 1)
    assert values == {n: n for n in "ABCD"} and errors == {}
    assert events.index(("sent", "A")) < events.index(("start", "D"))


async def test_a_fan_out_cancelled_while_starting_leaves_no_call_running():
    started: list[str] = []
    never = asyncio.Event()

    def call(name: str):
        async def run():
            started.append(name)
            await never.wait()

        return run

    task = asyncio.ensure_future(
        fan_out({n: call(n) for n in "ABCDEFGH"}, asyncio.get_running_loop().time() + 5)
    )
    while not started:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert running == []
