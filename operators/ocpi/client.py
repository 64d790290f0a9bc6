"""HTTP client for a CPO's OCPI 2.2.1 interfaces, with the adapter's one error-translation point.

It uses the gateway's shared ``aiohttp.ClientSession`` (never its own), puts a per-operator timeout
on every call, sends the ``Authorization: Token``, request-id and routing headers (§4.1), follows
``Link: rel="next"`` for pages (§4.1.8), and turns every failure — aiohttp, asyncio, HTTP status,
OCPI ``status_code`` — into the port's error tree, raised ``from`` the cause. Error messages name
the method, path and codes, never the token.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from operators.base import (
    OperatorAuthError,
    OperatorError,
    OperatorProtocolError,
    OperatorRejected,
    OperatorTimeout,
    OperatorUnavailable,
)
from operators.ocpi import auth, codec, headers

logger = logging.getLogger(__name__)

T = TypeVar("T")

# OCPI status_code ranges (§4.1.7 / specs §1.6) → port errors; exact codes first, then by thousand.
STATUS_CODE_ERRORS: dict[int, type[OperatorError]] = {
    3002: OperatorProtocolError,  # unsupported version
    3003: OperatorProtocolError,  # no matching endpoints
    4002: OperatorTimeout,  # hub: timeout on forwarded request
}
STATUS_RANGE_ERRORS: dict[int, type[OperatorError]] = {
    2: OperatorRejected,  # client errors: invalid parameters, unknown location/token, ...
    3: OperatorUnavailable,  # server errors
    4: OperatorUnavailable,  # hub errors
}
HTTP_ERRORS: dict[int, type[OperatorError]] = {
    401: OperatorAuthError,
    403: OperatorAuthError,
    404: OperatorRejected,
    405: OperatorRejected,
    408: OperatorTimeout,
    429: OperatorUnavailable,
    504: OperatorTimeout,
}


def error_for_status_code(status_code: int) -> type[OperatorError] | None:
    """The port error for an OCPI status_code, or None for success (1xxx)."""
    if 1000 <= status_code < 2000:
        return None
    return STATUS_CODE_ERRORS.get(status_code) or STATUS_RANGE_ERRORS.get(
        status_code // 1000, OperatorProtocolError
    )


def error_for_http(status: int) -> type[OperatorError]:
    if status in HTTP_ERRORS:
        return HTTP_ERRORS[status]
    return OperatorUnavailable if status >= 500 else OperatorRejected


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a Sender list: raw items, the next page's URL, ``X-Total-Count``, ``X-Limit``."""

    items: list[Any]
    next_url: str | None
    total: int | None
    limit: int | None


class OcpiClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        operator_id: str,
        token: str,
        *,
        timeout_s: float,
        encoding: str = "base64",
        routing: Mapping[str, str] | None = None,
    ) -> None:
        self.http = http
        self.operator_id = operator_id
        self.token = token
        self.encoding = encoding
        self.routing = dict(routing or {})  # OCPI-from/to-* headers for functional modules (§4.1.8)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """The single place where library failures become port errors."""
        try:
            yield
        except OperatorError:
            raise
        except TimeoutError as exc:
            raise OperatorTimeout(self.operator_id, f"{what}: no answer in {self.timeout.total} s") from exc
        except aiohttp.ClientResponseError as exc:
            raise error_for_http(exc.status)(self.operator_id, f"{what}: HTTP {exc.status}") from exc
        except aiohttp.ClientError as exc:
            raise OperatorUnavailable(self.operator_id, f"{what}: {type(exc).__name__}") from exc
        except codec.ModelError as exc:
            raise OperatorProtocolError(self.operator_id, f"{what}: {exc}") from exc

    async def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        routed: bool = True,
        timeout_s: float | None = None,
    ) -> tuple[Any, Mapping[str, str]]:
        """One request; returns the envelope's ``data`` and the response headers."""
        what = f"{method} {URL(url).path}"
        ids = headers.new_ids()  # §4.1.3: unique per request, logged so both sides can be traced
        sent = {"Authorization": auth.header(self.token, self.encoding), **ids}
        if routed:
            sent.update(self.routing)
        data = None
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = codec.dumps(body).encode("utf-8")
        timeout = self.timeout if timeout_s is None else aiohttp.ClientTimeout(total=timeout_s)
        with self._translate(what):
            async with self.http.request(
                method, url, params=params, data=data, headers=sent, timeout=timeout
            ) as resp:
                raw = await resp.read()
                status, resp_headers = resp.status, resp.headers
                next_link = resp.links.get("next")
                link = next_link.get("url") if next_link is not None else None
            rid, cid = ids[headers.REQUEST_ID], ids[headers.CORRELATION_ID]
            parsed = _envelope(raw)
            ocpi_code = parsed["status_code"] if parsed else None
            ok = status < 400 and ocpi_code is not None and ocpi_code < 2000
            level = logging.DEBUG if ok else logging.WARNING
            logger.log(
                level,
                "OCPI %s %s: HTTP %d status_code %s request_id=%s correlation_id=%s",
                *(self.operator_id, what, status, ocpi_code, rid, cid),
            )
            if resp_headers.get(headers.REQUEST_ID, rid) != rid:
                logger.warning("OCPI %s %s: response echoes another X-Request-ID", self.operator_id, what)
            if status >= 400:
                code = f", status_code {parsed['status_code']}" if parsed else ""
                raise error_for_http(status)(self.operator_id, f"{what}: HTTP {status}{code}")
            if parsed is None:
                raise OperatorProtocolError(self.operator_id, f"{what}: response is not an OCPI envelope")
            error = error_for_status_code(parsed["status_code"])
            if error is not None:
                message = parsed.get("status_message") or ""
                raise error(
                    self.operator_id, f"{what}: status_code {parsed['status_code']} {message}".rstrip()
                )
            headers_out = {k.lower(): v for k, v in resp_headers.items()}
            if link is not None:
                headers_out["link-next"] = str(link)
            return parsed.get("data"), headers_out

    async def page(self, url: str, params: Mapping[str, str] | None = None) -> Page:
        data, got = await self.call("GET", url, params=params)
        if not isinstance(data, list):
            raise OperatorProtocolError(self.operator_id, f"GET {URL(url).path}: data is not a list")
        next_url = got.get("link-next")
        if next_url is not None and URL(next_url).origin() != URL(url).origin():
            # Never send our token to another host because a Link header said so.
            raise OperatorProtocolError(self.operator_id, "Link rel=next points at another origin")
        return Page(data, next_url, _int(got.get("x-total-count")), _int(got.get("x-limit")))


def _envelope(raw: bytes) -> dict[str, Any] | None:
    try:
        body = codec.loads(raw)
    except codec.ModelError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
        return None
    return body


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse(operator_id: str, cls: type[T], data: Any, what: str) -> T:
    """Type a response's ``data``; a mismatch is the operator's protocol error."""
    try:
        return codec.from_json(cls, data)
    except codec.ModelError as exc:
        raise OperatorProtocolError(operator_id, f"{what}: {exc}") from exc
