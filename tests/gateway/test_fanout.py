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
