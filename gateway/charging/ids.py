"""Session ids: 18 digits, so protocols with fixed-width sequence numbers can carry them as they are.

T/CEC's ``StartChargeSeq`` is the aggregator's 9-character OperatorID plus 18 characters (T/CEC
102 §4); an 18-digit id maps onto it and back without any stored state. Millisecond time first, so
ids sort by creation; five random digits make collisions within one millisecond negligible, and the
ledger's primary key rejects the rest.
"""

from __future__ import annotations

import secrets
import time


def new_session_id(now_s: float | None = None) -> str:
    millis = int((time.time() if now_s is None else now_s) * 1000)
    return f"{millis % 10**13:013d}{secrets.randbelow(10**5):05d}"
