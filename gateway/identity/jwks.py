"""An identity provider's signing keys: discovered from its OpenID configuration, cached, re-read.

OpenID Connect Discovery 1.0 §4: ``{issuer}/.well-known/openid-configuration`` names the
``jwks_uri``; its JSON Web Key Set (RFC 7517 §5) holds the public keys, each with a ``kid``. Keys
are kept for ``max_age_s``; a token signed with a ``kid`` we do not hold re-reads the set (the
provider rotated its keys), at most once per ``min_refresh_s`` so a flood of tokens with made-up
``kid`` values cannot turn us into a load generator against the provider. Concurrent misses share
one read. When a re-read fails, the keys we hold keep working (logged), so a provider outage does
not sign every driver out.

Not PyJWT's ``PyJWKClient``: it fetches with blocking ``urllib`` and cannot use the application's
shared aiohttp session or a per-request deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt

from gateway.identity.bearer import AuthError

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 256 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"


class JwksCache:
    """The signing keys of one issuer, by ``kid``."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        issuer: str,
        *,
        timeout_s: float,
        max_age_s: float,
        min_refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._http = http
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._read_at: float | None = None  # when the set was last read successfully
        self._tried_at: float | None = None  # when a read was last attempted
        self._lock = asyncio.Lock()
        self.reads = 0  # successful reads of the key set, for metrics and tests

    async def key(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``; :class:`AuthError` ``unknown_key`` or ``keys_unavailable``."""
        if kid in self._keys and not self._stale():
            return self._keys[kid]
        async with self._lock:  # one read for every caller that missed at the same time
            if self._due(kid):
                await self._refresh()
        if kid in self._keys:
            return self._keys[kid]
        if not self._keys:
            raise AuthError("keys_unavailable", "the identity provider's keys cannot be read now; retry")
        raise AuthError("unknown_key", "token is signed with a key the identity provider does not publish")

    def _stale(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self._max_age_s

    def _due(self, kid: str) -> bool:
        """Whether to read the keys now: never read, or stale or missing ``kid``, and the last
        attempt (successful or not) at least ``min_refresh_s`` ago. While the provider is down,
        the keys held keep serving without a read per request."""
        if self._tried_at is None:
            return True
        if self._clock() - self._tried_at < self._min_refresh_s:
            return False
        return self._stale() or kid not in self._keys

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        try:
            config = await self._get_json(self.issuer + DISCOVERY_PATH)
            jwks_uri = config.get("jwks_uri")
            if config.get("issuer", "").rstrip("/") != self.issuer or not isinstance(jwks_uri, str):
                raise ValueError("the OpenID configuration names another issuer or no jwks_uri")
            keys = _parse_keys(await self._get_json(jwks_uri))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("identity provider keys not read from %s: %s", self.issuer, _reason(exc))
            return
        self._keys, self._read_at = keys, self._tried_at
        self.reads += 1
        log.info("identity provider keys read from %s: %d signing keys", self.issuer, len(keys))

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with (
            asyncio.timeout(self._timeout_s),
            self._http.get(url, allow_redirects=False, headers={"Accept": "application/json"}) as resp,
        ):
            body = await resp.content.read(MAX_DOCUMENT_BYTES + 1)
            if resp.status != 200 or len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError(f"HTTP {resp.status} ({len(body)} bytes) from {url}")
        document = json.loads(body) if body else None
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document


def _parse_keys(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys with a ``kid``; a key of a type PyJWT cannot use is skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in document.get("keys") or ():
        if not isinstance(data, dict) or data.get("use", "sig") != "sig" or not data.get("kid"):
            continue
        try:
            keys[str(data["kid"])] = jwt.PyJWK(data)
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            log.info("identity provider key %s skipped: unsupported type", data.get("kid"))
    return keys


def _reason(exc: BaseException) -> str:
    return "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"[:200]
