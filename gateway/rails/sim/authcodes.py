"""Sign-in codes for the simulators: what Alipay's mini-program ``my.getAuthCode`` and WeChat's
``wx.login`` hand the app, and the provider later exchanges for the user's id.

A real code is opaque, single-use and short-lived (minutes). Ours are self-contained so that
``chargegate simulate alipay-code USER`` can mint one without reaching the embedded simulator: the
app id, the user, an expiry and a nonce, MAC'd with :data:`DEMO_CODE_KEY`. The key is public on
purpose (as the demo JWT key is): these codes sign nobody in anywhere but a simulator. The simulator
remembers the codes it has redeemed, so a second exchange fails as "already used".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

DEMO_CODE_KEY = b"chargegate-demo-sign-in-codes-public-not-a-secret"
CODE_TTL_S = 300  # WeChat's login codes live five minutes


class CodeRefused(Exception):
    """The code cannot be exchanged: ``reason`` is ``invalid``, ``expired`` or ``used``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"sign-in code {reason}")
        self.reason = reason


def mint(app_id: str, user: str, now: float | None = None, ttl_s: float = CODE_TTL_S) -> str:
    """A code that the simulator of ``app_id`` exchanges for ``user`` until ``ttl_s`` has passed."""
    issued = time.time() if now is None else now
    body = json.dumps([app_id, user, int(issued + ttl_s), secrets.token_hex(8)], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).rstrip(b"=")
    return f"{payload.decode()}.{_mac(payload)}"


class AuthCodes:
    """The simulator's side: redeem each valid code once."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._used: dict[str, float] = {}  # code MAC → its expiry, forgotten once expired

    def redeem(self, app_id: str, code: str) -> str:
        """The user ``code`` names; :class:`CodeRefused` when it is not valid for ``app_id``."""
        payload, _, mac = code.partition(".")
        if not mac or not hmac.compare_digest(mac, _mac(payload.encode())):
            raise CodeRefused("invalid")
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            code_app, user, expires = str(body[0]), str(body[1]), float(body[2])
        except (ValueError, TypeError, IndexError, KeyError):
            raise CodeRefused("invalid") from None
        now = self._clock()
        self._used = {k: v for k, v in self._used.items() if v > now}
        if code_app != app_id:
            raise CodeRefused("invalid")
        if expires <= now:
            raise CodeRefused("expired")
        if mac in self._used:
            raise CodeRefused("used")
        self._used[mac] = expires
        return user


def stable_id(prefix: str, *parts: str, digits: int = 12) -> str:
    """A provider-style user id derived from ``parts`` (the same user always gets the same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return prefix + str(int(digest, 16) % 10**digits).zfill(digits)


def _mac(payload: bytes) -> str:
    digest = hmac.new(DEMO_CODE_KEY, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
