"""Access tokens the simulator issues through ``query_token`` (T/CEC 102.4 §3.4)."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from operators.tcec import codec
from operators.tcec.sim.wire import BusinessParamError

REISSUE_POLICIES = ("same", "new")


class TokenIssuer:
    """Unpredictable tokens with a TTL; re-issue returns the live token ("same") or replaces it ("new").

    Tokens come from :mod:`secrets`, never from the simulator's seeded RNG: a token is a bearer
    credential, so two simulators (two partners) must never hand out the same one.

    Partners differ on re-issue (§3.4 [?]); "new" invalidates the previous token at once, which is
    what makes two gateway replicas sharing one partner account fight over it.
    """

    def __init__(self, ttl_s: float, reissue: str) -> None:
        if reissue not in REISSUE_POLICIES:
            raise ValueError(f"token_reissue must be one of {REISSUE_POLICIES}")
        self._ttl_s = ttl_s
        self._reissue = reissue
        self._expiry: dict[str, tuple[str, float]] = {}  # token → (OperatorID, monotonic expiry)
        self._current: dict[str, str] = {}  # OperatorID → its latest token

    def issue(self, operator_id: str) -> tuple[str, int]:
        """A token for ``operator_id`` and its remaining validity in whole seconds."""
        now = time.monotonic()
        current = self._current.get(operator_id)
        if current is not None:
            _, expires = self._expiry[current]
            if self._reissue == "same" and expires > now:
                return current, max(1, int(expires - now))
            del self._expiry[current]
        token = secrets.token_hex(32)  # §3.4: opaque, globally unique; real tokens are 32–64 chars
        self._expiry[token] = (operator_id, now + self._ttl_s)
        self._current[operator_id] = token
        return token, int(self._ttl_s)

    def holder(self, token: str) -> str | None:
        """The OperatorID a live token was issued to, or None (unknown or expired → Ret 4002)."""
        entry = self._expiry.get(token)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._expiry[token]
            return None
        return entry[0]


def query_token(
    issuer: TokenIssuer, req: codec.Request, operator_secret: str, expected_operator: str | None
) -> dict[str, Any]:
    """The §3.4 ``query_token`` answer: a token, or SuccStat 1 with FailReason 1 (who?) / 2 (secret)."""
    operator_id = req.data.get("OperatorID")
    secret = req.data.get("OperatorSecret")
    if not isinstance(operator_id, str) or not isinstance(secret, str):
        raise BusinessParamError("缺少 OperatorID/OperatorSecret")
    out: dict[str, Any] = {
        "OperatorID": operator_id,
        "SuccStat": 1,
        "AccessToken": "",
        "TokenAvailableTime": 0,
    }
    if operator_id != req.operator_id or (expected_operator is not None and operator_id != expected_operator):
        return out | {"FailReason": 1}
    if not hmac.compare_digest(secret.encode(), operator_secret.encode()):
        return out | {"FailReason": 2}
    token, ttl = issuer.issue(operator_id)
    return out | {"SuccStat": 0, "AccessToken": token, "TokenAvailableTime": ttl, "FailReason": 0}
