"""Watching capped sessions between the operator's reports, so a slow push cannot pass a cap.

Each capped, charging session has at most one watcher task here. After every observation (a push,
a poll) :meth:`CapWatch.observe` works out the session's pace and plan (see
:mod:`gateway.charging.caps`) and moves the session's next check; the watcher sleeps until then and
asks the ``check`` callable to poll the operator, whose answer is observed again. A session that
stops charging is forgotten, and its watcher ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from gateway.charging.caps import FIRST_CHECK_S, Pace, Plan, pace, plan
from gateway.clock import utc_now
from gateway.store import SessionRecord
from operators.domain import SessionPhase

log = logging.getLogger(__name__)


class CapWatch:
    def __init__(self, check: Callable[[str], Awaitable[None]], max_check_s: float) -> None:
        self._check = check
        self._max_check_s = max_check_s
        self._due: dict[str, float] = {}  # session id → loop time of its next check
        self._paces: dict[str, Pace] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}  # set when a check moves earlier

    def observe(self, before: SessionRecord, after: SessionRecord, rated_kw: float | None) -> Plan:
        """The plan for a charging session after an observation; schedules its next check."""
        current = pace(before, after, rated_kw, self._paces.get(after.id))
        self._paces[after.id] = current
        decided = plan(after, current, utc_now(), self._max_check_s)
        if decided.check_in_s is not None:
            wait = decided.check_in_s
            if before.status is not SessionPhase.CHARGING:  # charging just began: learn the pace
                wait = min(wait, FIRST_CHECK_S)
            self._schedule(after.id, wait)
        return decided

    def forget(self, session_id: str) -> None:
        self._due.pop(session_id, None)
        self._paces.pop(session_id, None)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _schedule(self, session_id: str, in_s: float) -> None:
        due = asyncio.get_running_loop().time() + in_s
        earlier = due < self._due.get(session_id, due)
        self._due[session_id] = due
        if session_id not in self._tasks:
            self._wake[session_id] = asyncio.Event()
            self._tasks[session_id] = asyncio.create_task(
                self._run(session_id), name=f"cap-watch-{session_id}"
            )
        elif earlier:
            self._wake[session_id].set()

    async def _run(self, session_id: str) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake[session_id]
        try:
            while (due := self._due.get(session_id)) is not None:
                if (wait := due - loop.time()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), wait)
                    wake.clear()
                    continue
                del self._due[session_id]  # the check's observation schedules the next one
                try:
                    await self._check(session_id)
                except Exception:  # a ledger hiccup must not end the watch for good
                    log.exception("cap check of session %s failed; trying again", session_id)
                    self._due.setdefault(session_id, loop.time() + self._max_check_s)
        finally:
            self._tasks.pop(session_id, None)
            self._wake.pop(session_id, None)
