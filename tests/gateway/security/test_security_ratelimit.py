"""The in-memory token bucket, on an injected clock (no sleeping)."""

from gateway.security.ratelimit import Limit, TokenBucketLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_then_refusal_with_the_wait_then_refill():
    clock = Clock()
    limiter = TokenBucketLimiter(clock=clock)
    limit = Limit(rate_per_s=2.0, burst=3)
    assert [await limiter.acquire("k", limit) for _ in range(3)] == [0, 0, 0]
    assert await limiter.acquire("k", limit) == 0.5  # one token at 2/s
    clock.now += 0.25
    assert await limiter.acquire("k", limit) == 0.25  # a refusal takes nothing
    clock.now += 0.25
    assert await limiter.acquire("k", limit) == 0
    clock.now += 3600
    assert [await limiter.acquire("k", limit) for _ in range(4)] == [0, 0, 0, 0.5]  # never above burst


async def test_buckets_are_separate():
    limiter = TokenBucketLimiter(clock=Clock())
    limit = Limit(rate_per_s=1.0, burst=1)
    assert await limiter.acquire("key:a", limit) == 0
    assert await limiter.acquire("key:a", limit) > 0
    assert await limiter.acquire("key:b", limit) == 0


async def test_idle_buckets_are_dropped_beyond_the_bound():
    limiter = TokenBucketLimiter(clock=Clock(), max_buckets=3)
    for i in range(10):
        await limiter.acquire(f"ip:10.0.0.{i}", Limit(1.0, 5))
    assert len(limiter) == 3


def test_retry_after_is_whole_seconds_rounded_up():
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 99.5)] == ["1", "1", "2", "100"]
