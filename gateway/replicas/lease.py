"""A lease: which replica runs the duties that must run once, not once per replica (docs/deployment.md).

Leased: the session reconciliation loop and the overdue-bill sweep (:meth:`SessionService.run`).
Not leased: the catalogue sync. Each replica serves searches from its own in-memory catalogue, so
each must sync it at start-up and keep it fresh itself; a replica that waited for a lease would
answer from a stale copy (the price is that every replica pages the operators' catalogues).

:class:`RedisLease` is a key holding the holder's random token, taken with ``SET NX PX`` and renewed
every third of its TTL by a Lua script that extends it only if it still holds our token; released
(same compare) on shutdown. Renewal runs in its own task, never behind the duty, so a slow
reconciliation keeps its lease; a crashed holder stops renewing and its key expires after the TTL,
when another replica takes it. A holder that cannot reach Redis counts the lease as lost once its
last renewal could have expired, and :func:`while_held` cancels its duty. The lease saves doubled
work, it does not fence: both leased duties are idempotent (the ledger merges reports monotonically
and bills once), so a moment of overlap after a network split is harmless.

:class:`LocalLease` is for a single replica (memory cache): always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
SAFETY = 0.8  # count a renewal good for this share of the TTL (clock drift, the reply's delay)
DUTY_RETRY_S = 5.0


class Lease(Protocol):
    name: str

    def held(self) -> bool:
        """True while this replica may run the leased duties."""
        ...

    async def run(self) -> None:
        """Take the lease when free and keep it, until cancelled; then give it back."""
        ...


class LocalLease:
    """The only replica holds every lease."""

    def __init__(self, name: str) -> None:
        self.name = name

    def held(self) -> bool:
        return True

    async def run(self) -> None:
        await asyncio.Event().wait()


class RedisLease:
    def __init__(
        self, redis: aioredis.Redis, key: str, ttl_s: float, *, name: str = "", owner: str = ""
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self.name = name or key
        self.key = key
        self.token = f"{owner or 'replica'}:{uuid.uuid4().hex}"
        self._redis = redis
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._ttl_s = ttl_s
        self._valid_until = 0.0  # loop time
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)

    def held(self) -> bool:
        return asyncio.get_running_loop().time() < self._valid_until

    async def run(self) -> None:
        try:
            while True:
                await self.step()
                await asyncio.sleep(self._ttl_s / 3)
        finally:
            await self.release()

    async def step(self) -> bool:
        """One attempt to take or renew the lease; True if this replica holds it now."""
        loop = asyncio.get_running_loop()
        sent = loop.time()
        was_held = self.held()
        try:
            if was_held:
                ok = bool(await self._renew(keys=[self.key], args=[self.token, self._ttl_ms]))
            else:
                ok = bool(await self._redis.set(self.key, self.token, nx=True, px=self._ttl_ms))
                # Still ours from before a hiccup (our renewals failed, the key did not expire)?
                ok = ok or bool(await self._renew(keys=[self.key], args=[self.token, self._ttl_ms]))
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("lease %s: Redis did not answer (%s)", self.name, exc)
            return self.held()  # held until the last good renewal runs out
        if ok:
            self._valid_until = sent + self._ttl_s * SAFETY
        else:
            self._valid_until = 0.0
        if ok != was_held:
            log.info("lease %s %s", self.name, "taken" if ok else "lost to another replica")
        return ok

    async def release(self) -> None:
        """Give the lease back if it is ours (so another replica need not wait for the TTL)."""
        if self._valid_until == 0.0:
            return
        self._valid_until = 0.0
        try:
            await asyncio.wait_for(
                asyncio.shield(self._release(keys=[self.key], args=[self.token])), timeout=self._ttl_s
            )
            log.info("lease %s released", self.name)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("lease %s not released (%s); it expires by itself", self.name, exc)


async def while_held(
    lease: Lease,
    duty: Callable[[], Awaitable[None]],
    *,
    check_s: float = 0.5,
    on_change: Callable[[bool], None] | None = None,
) -> None:
    """Run ``duty()`` while this replica holds ``lease``, until cancelled.

    The duty is cancelled as soon as the lease is lost and started again when it is regained; a
    duty that fails is logged and restarted after :data:`DUTY_RETRY_S`. Runs :meth:`Lease.run`
    alongside. ``on_change(held)`` reports every change (for a metric).
    """
    keeper = asyncio.create_task(lease.run(), name=f"lease-{lease.name}")
    task: asyncio.Task[None] | None = None
    try:
        while True:
            if lease.held() and task is None:
                task = asyncio.create_task(_guarded(duty), name=f"leased-{lease.name}")
                if on_change:
                    on_change(True)
            elif not lease.held() and task is not None:
                await _cancel(task)
                task = None
                if on_change:
                    on_change(False)
            if keeper.done():
                keeper.result()  # the keeper never ends by itself: re-raise what stopped it
            await asyncio.sleep(check_s)
    finally:
        if task is not None:
            await _cancel(task)
            if on_change:
                on_change(False)
        await _cancel(keeper)


async def _guarded(duty: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await duty()
        except Exception:
            log.exception("leased duty failed; restarting in %.0f s", DUTY_RETRY_S)
        await asyncio.sleep(DUTY_RETRY_S)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
