"""Replay protection for T/CEC pushes: a TimeStamp freshness window and a cache of seen envelopes.

The request signature (T/CEC 102.4 §3.3) proves who sent an envelope, not when or how often. So
a verified envelope is also refused when its ``TimeStamp`` (sender's Asia/Shanghai time, §2.1) is
further than the window from our clock, or when its (OperatorID, TimeStamp, Seq, Sig) was already
taken. The cache lives in the replicas' :class:`~operators.base.SharedState` (Redis when
configured), so a replay sent to another replica is refused too; entries outlive the window on
both sides, after which the TimeStamp check refuses the envelope anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime

from operators.base import SharedState
from operators.tcec.codec import SHANGHAI

TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"  # §2.1: string(14), yyyyMMddHHmmss
DEFAULT_WINDOW_S = 600.0


class StaleEnvelope(ValueError):
    """The TimeStamp is malformed (``malformed`` True) or outside the freshness window."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


def parse_timestamp(text: str) -> datetime:
    if len(text) != 14 or not text.isdigit():
        raise StaleEnvelope(f"TimeStamp {text!r} is not yyyyMMddHHmmss", malformed=True)
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise StaleEnvelope(f"TimeStamp {text!r} is not a date", malformed=True) from exc


class ReplayGuard:
    """``check_fresh`` before anything else is trusted; ``first_sight`` right before acting on it."""

    def __init__(
        self,
        operator_id: str,
        state: SharedState,
        window_s: float = DEFAULT_WINDOW_S,
        now: Callable[[], datetime] = lambda: datetime.now(SHANGHAI),
    ) -> None:
        self._operator_id = operator_id
        self._state = state
        self._window_s = window_s
        self._now = now

    def check_fresh(self, timestamp: str) -> None:
        skew = abs((self._now() - parse_timestamp(timestamp)).total_seconds())
        if skew > self._window_s:
            raise StaleEnvelope(f"TimeStamp {timestamp} is {skew:.0f} s from our clock")

    def _key(self, fields: Mapping[str, str]) -> str:
        parts = "\x1f".join(fields[name] for name in ("OperatorID", "TimeStamp", "Seq", "Sig"))
        return f"tcec:{self._operator_id}:seen:{hashlib.sha256(parts.encode()).hexdigest()}"

    async def first_sight(self, fields: Mapping[str, str]) -> bool:
        """Record the envelope; False when it was already taken (here or on another replica)."""
        # The skew may reach the window either way, so an entry must outlive twice the window.
        return await self._state.add(self._key(fields), "1", ttl_s=2 * self._window_s + 60)

    async def forget(self, fields: Mapping[str, str]) -> None:
        """Let the same envelope be retried: handling it failed before anything changed (Ret 500)."""
        await self._state.delete(self._key(fields))
