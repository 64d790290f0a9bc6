"""The OCPI ``Authorization: Token <credentials token>`` header (OCPI 2.2.1 §4.1.5).

2.2.1 sends Base64 (RFC 4648 §4) of the token; 2.1.1 and many 2.2 peers send it raw. We send per a
per-partner setting and, as a server, accept either form [our choice, specs/ocpi.md §1.1].
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable


def header(token: str, encoding: str = "base64") -> str:
    if encoding == "plain":
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")


def presented_token(value: str | None) -> tuple[str, ...]:
    """The token(s) a header may carry: the raw value and, when it decodes, its Base64 decoding."""
    if not value or not value.startswith("Token "):
        return ()
    raw = value[len("Token ") :].strip()
    try:
        decoded = base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return (raw,)
    return (decoded, raw)


def matches(value: str | None, tokens: Iterable[str | None]) -> str | None:
    """The first known token the header carries, compared in constant time; None if none."""
    presented = presented_token(value)
    for token in tokens:
        if token and any(hmac.compare_digest(p.encode(), token.encode()) for p in presented):
            return token
    return None
