"""What an idempotency key is bound to: a hash of the operation's normalised input."""

from __future__ import annotations

import hashlib


def request_hash(*parts: object) -> str:
    """``parts`` joined unambiguously and hashed (None and "" are the same: an absent field)."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()
