"""Pure ASGI middleware in front of ``/graphql``: API key → rate limit → CSRF → body size.

Refusals are JSON in the GraphQL error shape, each with a stable ``extensions.code``:
401 ``UNAUTHENTICATED`` (bad key, or none while ``security.require_api_key``), 429 ``RATE_LIMITED``
with ``Retry-After``, 400 ``CSRF_BLOCKED`` and 413 ``PAYLOAD_TOO_LARGE``. WebSocket handshakes get
the same key and rate checks and are closed (policy violation) when refused. Other paths (health,
metrics, operator pushes) pass untouched. The caller is left in the scope for :mod:`.authz`.
"""

from __future__ import annotations

import logging

import orjson
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.security import csrf
from gateway.security.apikeys import KeyStore, parse_key_records
from gateway.security.authz import SCOPE_KEY, Principal
from gateway.security.ratelimit import Limit, RateLimiter, TokenBucketLimiter, retry_after
from gateway.settings.sections import SecuritySettings

log = logging.getLogger(__name__)


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


class SecurityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: SecuritySettings,
        keys: KeyStore,
        limiter: RateLimiter,
        path: str = "/graphql",
    ) -> None:
        self.app, self.settings, self.keys, self.limiter, self.path = app, settings, keys, limiter, path
        self.key_limit = Limit(settings.key_rate_per_s, settings.key_burst)
        self.anonymous_limit = Limit(settings.anonymous_rate_per_s, settings.anonymous_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = self._authenticate(scope, headers)
            await self._rate_limit(principal)
            if scope["type"] == "http":
                receive = await self._check_request(scope, headers, receive)
        except Refusal as refusal:
            await _refuse(scope, receive, send, refusal)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope, headers: Headers) -> Principal:
        client = scope["client"][0] if scope.get("client") else "unknown"
        presented = headers.get("x-api-key")
        if presented is None:
            if self.settings.require_api_key:
                raise Refusal(401, "UNAUTHENTICATED", "An API key is required: send it as X-Api-Key.")
            return Principal(None, client)
        key = self.keys.authenticate(presented.strip())
        if key is None:
            log.info("refused an unknown or malformed API key from %s", client)  # never the key itself
            raise Refusal(401, "UNAUTHENTICATED", "The X-Api-Key header does not hold a valid API key.")
        return Principal(key, client)

    async def _rate_limit(self, principal: Principal) -> None:
        if principal.key is not None:
            key = principal.key
            limit = Limit(key.rate_per_s or self.key_limit.rate_per_s, key.burst or self.key_limit.burst)
        elif self.anonymous_limit.rate_per_s > 0:
            limit = self.anonymous_limit
        else:
            return
        wait = await self.limiter.acquire(principal.bucket, limit)
        if wait > 0:
            after = retry_after(wait)
            message = f"Rate limit exceeded ({limit.rate_per_s:g}/s, burst {limit.burst}); retry in {after}s."
            raise Refusal(429, "RATE_LIMITED", message, {"retry-after": after})

    async def _check_request(self, scope: Scope, headers: Headers, receive: Receive) -> Receive:
        method = scope["method"]
        if (
            self.settings.csrf_prevention
            and csrf.runs_an_operation(method, scope["query_string"])
            and not csrf.is_preflighted(headers)
        ):
            raise Refusal(400, "CSRF_BLOCKED", csrf.MESSAGE)
        limit = self.settings.max_body_bytes
        too_large = Refusal(413, "PAYLOAD_TOO_LARGE", f"The request is larger than {limit} bytes.")
        if len(scope["query_string"]) > limit:
            raise too_large
        if method != "POST":
            return receive
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large
        return await _buffered(receive, limit, too_large)


async def _buffered(receive: Receive, limit: int, too_large: Refusal) -> Receive:
    """Read the body (at most ``limit`` bytes, whatever Content-Length claimed) and replay it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body: Message | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def replay() -> Message:
        nonlocal body
        if body is None:
            return await receive()
        message, body = body, None
        return message

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect; closing before accepting answers the handshake with 403
        await send({"type": "websocket.close", "code": 1008, "reason": str(refusal)[:120]})
        return
    body = orjson.dumps({"errors": [{"message": str(refusal), "extensions": {"code": refusal.code}}]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.encode(), value.encode()) for name, value in refusal.headers.items()]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def security_middleware(settings: SecuritySettings, limiter: RateLimiter | None = None) -> list[Middleware]:
    """The middleware stack for ``Starlette(middleware=...)``, outermost first: CORS (when origins
    are configured, so refusals below still carry CORS headers), then :class:`SecurityMiddleware`."""
    keys = KeyStore(parse_key_records(settings.api_keys), settings.key_hash_secret)
    if len(keys) and not settings.key_hash_secret:
        log.warning("API keys are hashed without a pepper: set security.key_hash_secret from the environment")
    limiter = limiter or TokenBucketLimiter()
    stack = [Middleware(SecurityMiddleware, settings=settings, keys=keys, limiter=limiter)]
    if settings.cors_origins:
        cors = Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "authorization", "x-api-key", *csrf.PREFLIGHT_HEADERS],
            expose_headers=["retry-after", "x-request-id"],
            max_age=600,
        )
        stack.insert(0, cors)
    return stack
