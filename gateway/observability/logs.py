"""Logging: one JSON object per line (or plain text), each record tagged with the request id.

:class:`RequestIdMiddleware` takes ``X-Request-Id`` from the request when it is sane (1–64 printable
ASCII characters) or makes one, keeps it in :data:`REQUEST_ID` while the request runs (tasks
spawned meanwhile, such as DataLoader batches, copy it) and returns it in the response header, so a
client's report can be matched to our lines. Both formatters scrub credentials that slip into a
message: bearer tokens, API keys and the values of ``Authorization``/``X-Api-Key`` headers.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str | None] = ContextVar("chargegate_request_id", default=None)
HEADER = b"x-request-id"
MAX_ID_LENGTH = 64
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization"})
REDACTED = "[REDACTED]"
FORMATS = ("json", "text")

_VALID_ID = re.compile(rf"[\x20-\x7e]{{1,{MAX_ID_LENGTH}}}")
# A credential header's value however it was printed: "Authorization: Bearer abc", a dict's
# "'x-api-key': 'cg_…'", a raw ASGI pair "(b'authorization', b'Basic …')".
_HEADER_VALUE = r"(?i)((?:proxy-)?authorization|x-api-key|cookie)(['\"]?\s*[:=,]\s*b?['\"]?)[^'\",}\n]+"
_SECRETS = (
    (re.compile(_HEADER_VALUE), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(bearer)\s+[a-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\bcg_([a-z0-9][a-z0-9-]{2,31})_[A-Za-z0-9_-]+"), rf"cg_\1_{REDACTED}"),  # cg_<id>_<secret>
)


def redact(text: str) -> str:
    """``text`` without the credentials it may hold (the API key's public id is kept)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers fit for a log line: the values of credential headers replaced."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in items}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and
    exception (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exception"] = redact(record.exc_text)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines for demo and development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = REQUEST_ID.get()
        record.rid = f" [{rid}]" if rid else ""
        return redact(super().format(record))


def install(
    fmt: str = "json", level: int | str = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Route every logger (uvicorn's too, when it is run with ``log_config=None``) through one
    handler on the root logger, in ``fmt`` (json or text)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def request_id_from(value: str | None) -> str:
    """The client's id when it is 1–64 printable ASCII characters, else a new one."""
    if value is not None:
        value = value.strip()
        if _VALID_ID.fullmatch(value):
            return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI: a request id for every HTTP request and WebSocket, in the logs and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        presented = None
        for name, value in scope.get("headers", ()):
            if name == HEADER:
                presented = value.decode("latin-1")
                break
        rid = request_id_from(presented)
        header = (HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
