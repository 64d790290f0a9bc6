"""The credit bureau's JSON API, from our side: :class:`HttpCreditProvider`.

The API (served by :mod:`gateway.rails.bureau.sim.server` in demo and tests)::

    GET {base_url}/v1/scores/{driver_id}          Authorization: Bearer {api_key}
    200 {"driverId": "alice", "score": 720, "asOf": "2025-01-01T00:00:00Z"}
    404 {"error": "unknown_driver"}              the bureau has no record: "no score", not an error
    401 {"error": "unauthorized"}                missing or wrong API key
    5xx                                          the bureau is in trouble

Transport failures are translated in :func:`_transport_errors` and answers in :func:`parse_answer`;
nothing else raises, and only :class:`CreditUnavailable` escapes, with a message that never carries
the API key or the bureau's body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from gateway.rails.bureau.provider import SCORE_MAX, SCORE_MIN, CreditScore, CreditUnavailable

MAX_BODY_BYTES = 64 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


class HttpCreditProvider:
    """Asks a credit bureau over HTTP, through the application's shared ``ClientSession``."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        timeout_s: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout_s = timeout_s
        self._clock = clock

    async def score(self, driver_id: str) -> CreditScore:
        url = f"{self._base_url}/v1/scores/{quote(driver_id, safe='')}"
        with _transport_errors(self._timeout_s):
            async with (
                asyncio.timeout(self._timeout_s),
                self._http.get(url, headers=self._headers, allow_redirects=False) as resp,
            ):
                status = resp.status
                body = await resp.content.read(MAX_BODY_BYTES + 1)
        return parse_answer(driver_id, status, body, self._clock())


@contextlib.contextmanager
def _transport_errors(timeout_s: float) -> Iterator[None]:
    """aiohttp and timeout errors → :class:`CreditUnavailable` (the transport half of the boundary)."""
    try:
        yield
    except TimeoutError:  # asyncio.timeout, and aiohttp's own timeout errors, which subclass it
        raise CreditUnavailable("timeout", f"credit bureau did not answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise CreditUnavailable("down", f"credit bureau unreachable ({type(exc).__name__})") from None


def parse_answer(driver_id: str, status: int, body: bytes, fetched_at: datetime) -> CreditScore:
    """The bureau's answer → a :class:`CreditScore` or :class:`CreditUnavailable` (the answer half)."""
    if status == 404:
        if _error_code(body) == "unknown_driver":
            return CreditScore(driver_id, None, fetched_at)
        # A 404 without the bureau's own error is a wrong base URL, not an unknown driver.
        raise CreditUnavailable("bad_answer", "credit bureau answered HTTP 404 without a known error")
    if status in (401, 403):
        raise CreditUnavailable("auth", f"credit bureau refused our API key (HTTP {status})")
    if status != 200:
        raise CreditUnavailable("down", f"credit bureau answered HTTP {status}")
    document = _json(body)
    if not isinstance(document, dict) or document.get("driverId") != driver_id:
        raise CreditUnavailable("bad_answer", "credit bureau answered for another driver or not at all")
    score = document.get("score")
    if score is None:
        return CreditScore(driver_id, None, fetched_at)
    if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
        raise CreditUnavailable("bad_answer", f"credit bureau score is not an int {SCORE_MIN}-{SCORE_MAX}")
    return CreditScore(driver_id, score, fetched_at)


def _json(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise CreditUnavailable("bad_answer", "credit bureau answer is too large")
    try:
        return json.loads(body)
    except ValueError:  # also UnicodeDecodeError
        raise CreditUnavailable("bad_answer", "credit bureau answer is not JSON") from None


def _error_code(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document.get("error") if isinstance(document, dict) else None
