"""The simulator's O→A client: pushes ``notification_*`` and ``check_charge_orders`` to the aggregator.

T/CEC 102.4 §3.4: before calling the aggregator, get a token from *its* ``query_token``; on
``Ret 4002`` refresh once and retry. A push never raises: failures are logged and reported as None,
because a real operator's platform keeps running when a partner is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp

from operators.tcec import codec
from operators.tcec.sim.faults import FaultDice, Faults
from operators.tcec.sim.wire import RET_BAD_TOKEN, RET_OK, build_request

log = logging.getLogger(__name__)

TOKEN_MARGIN_S = 60.0  # refresh this long before the aggregator's token runs out
PUSH_TIMEOUT = aiohttp.ClientTimeout(total=5.0, connect=2.0)


class PushError(Exception):
    """A push that did not get a verified Ret 0 answer (internal; push() returns None instead)."""


class PushClient:
    """Signed, encrypted pushes to ``{notify_url}/{interface}`` with a cached aggregator token."""

    def __init__(
        self,
        notify_url: str,
        operator_id: str,
        operator_secret: str,
        secrets: codec.Secrets,
        faults: Callable[[], Faults],
        dice: FaultDice,
    ) -> None:
        self._url = notify_url.rstrip("/")
        self._operator_id = operator_id
        self._operator_secret = operator_secret
        self._secrets = secrets
        self._faults = faults
        self._dice = dice
        self._seq = codec.SeqCounter()
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self.sent: Counter[str] = Counter()  # pushes answered with Ret 0, per interface
        self.dropped: Counter[str] = Counter()  # pushes dropped by the drop_push_rate fault

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=PUSH_TIMEOUT)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def push(self, interface: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Send one push; the aggregator's decrypted response Data, or None if it failed."""
        if self._dice.roll(self._faults().drop_push_rate):
            self.dropped[interface] += 1
            log.info("tcec-sim: dropping %s push (fault injection)", interface)
            return None
        try:
            token = await self._valid_token()
            response = await self._post(interface, payload, token)
            if response.ret == RET_BAD_TOKEN:
                # §3.4: on 4002 get a fresh token and retry exactly once.
                token = await self._valid_token(force=True)
                response = await self._post(interface, payload, token)
            if response.ret != RET_OK:
                raise PushError(f"Ret {response.ret} {response.msg}")
        except (TimeoutError, PushError, ValueError, aiohttp.ClientError) as exc:
            # ValueError covers CodecError/SignatureError and a non-JSON answer.
            log.warning("tcec-sim: push %s to %s failed: %s", interface, self._url, exc)
            return None
        self.sent[interface] += 1
        return response.data or {}

    async def _valid_token(self, force: bool = False) -> str:
        async with self._token_lock:
            if force or self._token is None or time.monotonic() >= self._token_expires:
                await self._fetch_token()
            assert self._token is not None
            return self._token

    async def _fetch_token(self) -> None:
        self._token = None
        payload = {"OperatorID": self._operator_id, "OperatorSecret": self._operator_secret}
        response = await self._post("query_token", payload, None)
        data = response.data or {}
        if response.ret != RET_OK or data.get("SuccStat") != 0 or not data.get("AccessToken"):
            raise PushError(f"query_token refused: Ret {response.ret}, FailReason {data.get('FailReason')}")
        ttl = float(data.get("TokenAvailableTime") or 0)
        self._token = str(data["AccessToken"])
        self._token_expires = time.monotonic() + max(1.0, ttl - min(TOKEN_MARGIN_S, ttl / 2))

    async def _post(self, interface: str, payload: dict[str, Any], token: str | None) -> codec.Response:
        if self._http is None:
            raise PushError("push client is not started")
        body = build_request(self._operator_id, payload, self._secrets, self._seq)
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                async with self._http.post(f"{self._url}/{interface}", data=data, headers=headers) as resp:
                    if resp.status != 200:
                        raise PushError(f"HTTP {resp.status}")
                    envelope = await resp.json(content_type=None)
                break
            except aiohttp.ServerDisconnectedError:
                # A pooled keep-alive connection the aggregator had already closed: the request
                # never reached it, so sending it again on a fresh connection is safe.
                if attempt == 2:
                    raise
        # The aggregator signs its answer with the same secrets (§3.1); verify before trusting it.
        return codec.parse_response(envelope, self._secrets)
