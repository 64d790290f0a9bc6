"""TcecClient: signed, encrypted T/CEC 102 calls to one operator, with its token lifecycle.

The client owns three things the adapter should not care about:

* **tokens** (§3.4) — fetched with ``query_token``, cached, refreshed ``token_refresh_margin_s``
  before ``TokenAvailableTime`` runs out; on ``Ret`` 4002 refreshed and the call retried once.
  Concurrent callers share one refresh through a lock.
* **deadlines and retries** — every attempt runs under the per-operator timeout (one
  ``asyncio.timeout`` around the whole exchange: connect, send, answer, body, decoding); only
  idempotent calls are retried, only on "busy" (``Ret`` -1/500), bounded and jittered. Starting and
  stopping a charge are never retried.
* **error translation** — :func:`translate_errors` and :func:`ret_error` are the one place where
  aiohttp, asyncio and codec errors and ``Ret`` codes become the port's error tree, raised ``from``
  the cause. Messages name the interface, never a secret or token.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from operators.base import (
    OperatorAuthError,
    OperatorError,
    OperatorProtocolError,
    OperatorRejected,
    OperatorTimeout,
    OperatorUnavailable,
)
from operators.tcec import codec
from operators.tcec.fields import field_int, field_str
from operators.tcec.profile import Profile

# §2.3 return codes, shared with the receiver, which answers with them.
RET_BUSY, RET_OK, RET_INTERNAL = -1, 0, 500
RET_BAD_SIG, RET_BAD_TOKEN, RET_BAD_ENVELOPE, RET_BAD_PARAMS = 4001, 4002, 4003, 4004
BUSY_RETS = frozenset({RET_BUSY, RET_INTERNAL})  # §2.3: "retry later" / "retry with backoff"

# §2.3 Ret → (error class, what it means). 4002 reaches here only after the one retry failed.
RET_ERRORS: Mapping[int, tuple[type[OperatorError], str]] = MappingProxyType(
    {
        RET_BUSY: (OperatorUnavailable, "system busy"),
        RET_INTERNAL: (OperatorUnavailable, "system error"),
        RET_BAD_SIG: (OperatorAuthError, "signature refused"),
        RET_BAD_TOKEN: (OperatorAuthError, "token refused twice"),
        RET_BAD_ENVELOPE: (OperatorProtocolError, "envelope refused"),
        RET_BAD_PARAMS: (OperatorRejected, "business parameters refused"),
    }
)

CONTENT_TYPE = "application/json;charset=utf-8"
# aiohttp's own per-request timer switched off: the exchange's ``asyncio.timeout`` is the deadline
# (it covers everything aiohttp's ``total`` would, and our decoding too). Two timers per call cost
# two timer handles and aiohttp's timer context on the hot path for no extra protection.
NO_AIOHTTP_TIMEOUT = aiohttp.ClientTimeout()


class translate_errors:  # noqa: N801 - used as a function: ``with translate_errors(op, interface):``
    """Turn transport and decoding failures inside the block into port errors.

    A class rather than a ``@contextmanager`` generator: it runs twice per upstream call, and a
    generator-based context manager costs a generator, its frames and a ``throw`` each time.
    """

    __slots__ = ("_operator_id", "_interface")

    def __init__(self, operator_id: str, interface: str) -> None:
        self._operator_id = operator_id
        self._interface = interface

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, OperatorError):
            return
        operator_id, interface = self._operator_id, self._interface
        if isinstance(exc, TimeoutError):  # asyncio.timeout, and aiohttp's own timeouts subclass it
            raise OperatorTimeout(operator_id, f"{interface}: no answer within the timeout") from exc
        if isinstance(exc, codec.SignatureError):
            message = f"{interface}: response signature does not match"
            raise OperatorProtocolError(operator_id, message) from exc
        if isinstance(exc, aiohttp.ClientError):
            raise OperatorUnavailable(
                operator_id, f"{interface}: cannot reach operator ({type(exc).__name__})"
            ) from exc
        if isinstance(exc, ValueError | UnicodeDecodeError):  # CodecError, MappingError, bad JSON
            raise OperatorProtocolError(operator_id, f"{interface}: unusable response ({exc})") from exc


def ret_error(operator_id: str, interface: str, ret: int, msg: str) -> OperatorError:
    kind, meaning = RET_ERRORS.get(ret, (OperatorProtocolError, "unknown return code"))
    detail = f": {msg[:80]}" if msg else ""
    return kind(operator_id, f"{interface}: Ret {ret} {meaning}{detail}")


class TcecClient:
    """Calls one T/CEC operator on behalf of our platform (we are the aggregator)."""

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        operator_id: str,
        our_operator_id: str,
        operator_secret: str,
        secrets: codec.Secrets,
        base_url: str,
        profile: Profile,
        timeout_s: float,
        retries: int = 2,
        backoff_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._operator_id = operator_id
        self._our_operator_id = our_operator_id
        self._operator_secret = operator_secret
        self._secrets = secrets
        self._base_url = base_url
        self._profile = profile
        self._timeout_s = timeout_s
        # Built once, not per call: aiohttp parses a str URL and converts a dict of headers on
        # every request, and takes a yarl URL and a CIMultiDict as they are.
        self._urls: dict[str, URL] = {}
        self._token_headers: CIMultiDict[str] = CIMultiDict({"Content-Type": CONTENT_TYPE})
        self._bearer: tuple[str, CIMultiDict[str]] | None = None  # a token and its headers
        self._retries = retries
        self._backoff_s = backoff_s
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._token_lock = asyncio.Lock()
        self._seq = codec.SeqCounter()  # §2.1: Seq counts the requests sent within one second

    async def call(
        self, interface: str, payload: Mapping[str, Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """The normalised ``Data`` of a successful call, or a port error.

        ``idempotent=False`` (start/stop charge) disables the busy retries; the single retry after
        a refused token stays, because a 4002 request was refused before any business effect.
        """
        attempts = 1 + (self._retries if idempotent else 0)
        for attempt in range(attempts):
            response = await self._authorised(interface, payload)
            if response.ret not in BUSY_RETS or attempt + 1 == attempts:
                break
            # Jittered exponential back-off: at most backoff_s * (2**retries - 1) in total.
            await asyncio.sleep(random.uniform(0.5, 1.0) * self._backoff_s * 2**attempt)
        if response.ret != RET_OK:
            raise ret_error(self._operator_id, interface, response.ret, self._redact(response.msg))
        if response.data is None:
            raise OperatorProtocolError(self._operator_id, f"{interface}: Ret 0 with empty Data")
        return self._profile.normalise(response.data)

    async def _authorised(self, interface: str, payload: Mapping[str, Any]) -> codec.Response:
        token = await self._current_token()
        response = await self._exchange(interface, payload, token)
        if response.ret == RET_BAD_TOKEN:  # §3.4: on 4002 fetch a new token, then retry once
            token = await self._refresh(stale=token)
            response = await self._exchange(interface, payload, token)
        return response

    async def _current_token(self) -> str:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return await self._refresh(stale=self._token)

    async def _refresh(self, stale: str | None) -> str:
        async with self._token_lock:
            if self._token is not None and self._token != stale and self._clock() < self._refresh_at:
                return self._token  # another caller refreshed while we waited for the lock
            token, ttl = await self._fetch_token()
            margin = min(self._profile.token_refresh_margin_s, ttl / 2)
            self._token, self._refresh_at = token, self._clock() + ttl - margin
            return token

    async def _fetch_token(self) -> tuple[str, float]:
        interface = "query_token"
        payload = {"OperatorID": self._our_operator_id, "OperatorSecret": self._operator_secret}
        response = await self._exchange(interface, payload, None)
        if response.ret != RET_OK:
            raise ret_error(self._operator_id, interface, response.ret, self._redact(response.msg))
        with translate_errors(self._operator_id, interface):
            data = self._profile.normalise(response.data or {})
            if field_int(data, "SuccStat", 1) != 0:
                reason = field_int(data, "FailReason", 0)
                raise OperatorAuthError(
                    self._operator_id, f"{interface}: token refused (FailReason {reason})"
                )
            return field_str(data, "AccessToken"), float(field_int(data, "TokenAvailableTime", 7200))

    async def _exchange(
        self, interface: str, payload: Mapping[str, Any], token: str | None
    ) -> codec.Response:
        """One signed POST and its verified, decrypted answer (any ``Ret``)."""
        ts = codec.timestamp()
        envelope = codec.build_request(
            self._our_operator_id,
            self._profile.emit(dict(payload)),
            self._secrets,
            ts=ts,
            seq=self._seq.next(ts),
        )
        with translate_errors(self._operator_id, interface):
            async with asyncio.timeout(self._timeout_s):
                async with self._http.post(
                    self._url(interface),
                    data=codec.dumps(envelope),
                    headers=self._headers_for(token),
                    timeout=NO_AIOHTTP_TIMEOUT,
                ) as resp:
                    if resp.status >= 500:
                        raise OperatorUnavailable(self._operator_id, f"{interface}: HTTP {resp.status}")
                    if resp.status != 200:  # §2: protocol errors still come with HTTP 200
                        raise OperatorProtocolError(self._operator_id, f"{interface}: HTTP {resp.status}")
                    body = codec.loads(await resp.read())
            return codec.parse_response(body, self._secrets)

    def _url(self, interface: str) -> URL:
        url = self._urls.get(interface)
        if url is None:  # one entry per interface the adapter calls: a dozen at most
            url = self._urls[interface] = URL(self._profile.url(self._base_url, interface))
        return url

    def _headers_for(self, token: str | None) -> CIMultiDict[str]:
        """§2: every call but query_token carries the bearer token. aiohttp copies what it is given."""
        if token is None:
            return self._token_headers
        if self._bearer is None or self._bearer[0] != token:
            headers = CIMultiDict({"Content-Type": CONTENT_TYPE, "Authorization": f"Bearer {token}"})
            self._bearer = (token, headers)
        return self._bearer[1]

    def _redact(self, text: str) -> str:
        for secret in (
            self._token,
            self._operator_secret,
            self._secrets.data_secret,
            self._secrets.sig_secret,
        ):
            if secret:
                text = text.replace(secret, "***")
        return text
