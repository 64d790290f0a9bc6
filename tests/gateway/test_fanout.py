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
