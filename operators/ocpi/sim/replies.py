"""The simulator's answers: an OCPI response envelope (§4.1.7) as an aiohttp JSON response."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from operators.ocpi import codec


def ocpi_response(
    data: Any,
    status_code: int = 1000,
    message: str | None = None,
    *,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = codec.envelope(data, status_code, message or ("Success" if status_code == 1000 else None))
    return web.json_response(body, status=http_status, headers=headers, dumps=codec.dumps)
