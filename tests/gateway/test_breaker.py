import pytest

from gateway.upstream.breaker import CircuitBreaker
from operators.base import OperatorRejected, OperatorUnavailable


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def ok():
    return "ok"


async def down():
    raise OperatorUnavailable("OP", "connection refused")


async def rejected():
    raise OperatorRejected("OP", "no such connector")


async def test_opens_after_threshold_then_fails_fast():
    clock = Clock()
    breaker = CircuitBreaker("OP", failure_threshold=3, reset_after_s=10, clock=clock)
    calls = 0

    async def counted_down():
        nonlocal calls
        calls += 1
        await down()

    for _ in range(3):
        with pytest.raises(OperatorUnavailable):
            await breaker("m", counted_down)
    assert breaker.state == "open"
    with pytest.raises(OperatorUnavailable, match="circuit open"):
        await breaker("m", counted_down)
    assert calls == 3  # the open circuit did not call upstream
    assert breaker.last_error == "connection refused"


async def test_half_open_probe_closes_on_success_and_reopens_on_failure():
    clock = Clock()
    breaker = CircuitBreaker("OP", failure_threshold=1, reset_after_s=10, clock=clock)
    with pytest.raises(OperatorUnavailable):
        await breaker("m", down)
    clock.now = 10
    assert breaker.state == "half-open"
    with pytest.raises(OperatorUnavailable, match="connection refused"):
        await breaker("m", down)  # the probe went through and failed
    assert breaker.state == "open"
    clock.now = 20
    assert await breaker("m", ok) == "ok"
    assert breaker.state == "closed"


async def test_rejections_do_not_count_and_success_resets():
    breaker = CircuitBreaker("OP", failure_threshold=2, reset_after_s=10, clock=Clock())
    for _ in range(5):
        with pytest.raises(OperatorRejected):
            await breaker("m", rejected)
    assert breaker.state == "closed"
    with pytest.raises(OperatorUnavailable):
        await breaker("m", down)
    await breaker("m", ok)
    with pytest.raises(OperatorUnavailable):
        await breaker("m", down)
    assert breaker.state == "closed"  # not two in a row
