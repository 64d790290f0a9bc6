"""Single-flight: identical concurrent calls share one call, its result and its error."""

from __future__ import annotations

import asyncio

import pytest

from gateway.upstream.singleflight import SingleFlight


class Upstream:
    def __init__(self, delay_s: float = 0.05, fail: bool = False) -> None:
        self.calls = 0
        self.delay_s, self.fail = delay_s, fail

    async def __call__(self) -> dict[str, int]:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("upstream down")
        return {"answer": self.calls}


async def test_identical_concurrent_calls_share_one():
    flight, upstream = SingleFlight(), Upstream()
    results = await asyncio.gather(*(flight.do(("status", "S1"), upstream) for _ in range(20)))
    assert upstream.calls == 1 and all(r == {"answer": 1} for r in results)
    assert len(flight) == 0
    assert await flight.do(("status", "S1"), upstream) == {"answer": 2}  # done: the next call is new


async def test_different_keys_do_not_share():
    flight, upstream = SingleFlight(), Upstream()
    await asyncio.gather(flight.do("a", upstream), flight.do("b", upstream))
    assert upstream.calls == 2


async def test_every_waiter_gets_the_error():
    flight, upstream = SingleFlight(), Upstream(fail=True)
    results = await asyncio.gather(*(flight.do("k", upstream) for _ in range(5)), return_exceptions=True)
    assert upstream.calls == 1 and all(isinstance(r, RuntimeError) for r in results)


async def test_a_waiter_that_gives_up_does_not_cancel_the_others():
    flight, upstream = SingleFlight(), Upstream(delay_s=0.1)
    impatient = asyncio.create_task(flight.do("k", upstream))
    patient = asyncio.create_task(flight.do("k", upstream))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == {"answer": 1}
    with pytest.raises(asyncio.CancelledError):
        await impatient
