"""A credit-bureau simulator: a real aiohttp server on loopback serving the API that
:mod:`gateway.rails.bureau.http` calls (``GET /v1/scores/{driver_id}`` with a bearer API key).

Scores are deterministic: the configured table (the demo drivers by default) and, for anyone else,
a score derived from a hash of the seed and the driver id, the same in every run. Faults are
injected on demand (:class:`BureauFaults`): latency, HTTP 500s, hangs, and a whole outage. Used by
``make run`` (embedded), the tests, and ``chargegate simulate credit``.

Admin endpoints, behind the same API key: ``GET``/``POST /_sim/faults`` (read or change faults)
and ``PUT /_sim/scores/{driver_id}`` with ``{"score": 640}`` (or ``null`` to forget the driver).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.rails.bureau.provider import SCORE_MAX, SCORE_MIN
from gateway.rails.bureau.sim.config import BureauConfig, BureauFaults

__all__ = ["BureauConfig", "BureauFaults", "CreditBureauSimulator", "derived_score"]

log = logging.getLogger(__name__)

HANG_S = 3600.0  # the timeout fault: far beyond any client timeout, cut short by stop()


def derived_score(seed: int, driver_id: str) -> int:
    """A stable score for a driver outside the table (sha256, not ``hash()``: same in every process)."""
    digest = hashlib.sha256(f"credit-sim:{seed}:{driver_id}".encode()).digest()
    return SCORE_MIN + int.from_bytes(digest[:8], "big") % (SCORE_MAX - SCORE_MIN + 1)


class CreditBureauSimulator:
    """One simulated bureau. ``async with CreditBureauSimulator(cfg) as sim: sim.base_url``.

    ``calls`` counts score requests per driver id (every request received, whatever the answer).
    """

    def __init__(self, config: BureauConfig | None = None) -> None:
        self.config = config or BureauConfig()
        self.calls: Counter[str] = Counter()
        self.faults = self.config.faults
        self.port = self.config.port
        self._scores: dict[str, int | None] = dict(self.config.scores)
        self._rng = random.Random(f"credit-sim-faults:{self.config.seed}")
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def score_of(self, driver_id: str) -> int | None:
        """What the bureau answers for ``driver_id``; None when it does not know the driver."""
        if driver_id in self._scores:
            return self._scores[driver_id]
        return derived_score(self.config.seed, driver_id) if self.config.derive_unknown else None

    def set_score(self, driver_id: str, score: int | None) -> None:
        """Change a driver's score; None makes the driver unknown (404)."""
        if score is not None and not SCORE_MIN <= score <= SCORE_MAX:
            raise ValueError(f"score must be {SCORE_MIN}..{SCORE_MAX}")
        self._scores[driver_id] = score

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._closing.clear()
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.config.host, self.config.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("credit-sim listening on %s", self.base_url)

    async def stop(self) -> None:
        self._closing.set()  # releases requests hung by the timeout fault
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> CreditBureauSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- HTTP ----------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/v1/scores/{driver_id}", self._get_score)
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_post("/_sim/faults", self._post_faults)
        app.router.add_put("/_sim/scores/{driver_id}", self._put_score)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Count and fault score requests (an outage precedes auth), then check the API key."""
        if request.path.startswith("/v1/scores/"):
            self.calls[request.match_info.get("driver_id", "")] += 1
            faulty = await self._faulty()
            if faulty is not None:
                return faulty
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(given.encode(), self.config.api_key.encode()):
            return web.json_response(
                {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": 'Bearer realm="credit"'}
            )
        return await handler(request)

    async def _faulty(self) -> web.Response | None:
        """The injected fault's answer for this request, or None to answer normally."""
        faults = self.faults
        if faults.down:
            return web.json_response({"error": "unavailable"}, status=503)
        if faults.latency_ms and await self._closed_within(faults.latency_ms / 1000):
            return web.json_response({"error": "shutting down"}, status=503)
        if self._roll(faults.timeout_rate):
            await self._closed_within(HANG_S)
            return web.json_response({"error": "shutting down"}, status=503)
        if self._roll(faults.error_rate):
            return web.json_response({"error": "internal"}, status=500)
        return None

    async def _closed_within(self, seconds: float) -> bool:
        """Wait ``seconds``, cut short by :meth:`stop`; whether the simulator is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return self._closing.is_set()

    def _roll(self, rate: float) -> bool:
        # Draw only when the fault is on, so one fault does not reshuffle another's sequence.
        return rate > 0 and (rate >= 1 or self._rng.random() < rate)

    async def _get_score(self, request: web.Request) -> web.Response:
        driver_id = request.match_info["driver_id"]
        score = self.score_of(driver_id)
        if score is None:
            return web.json_response({"error": "unknown_driver"}, status=404)
        as_of = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return web.json_response({"driverId": driver_id, "score": score, "asOf": as_of})

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.to_json())

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            self.faults = self.faults.updated(await request.json())
        except ValueError as exc:  # also a body that is not JSON
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.faults.to_json())

    async def _put_score(self, request: web.Request) -> web.Response:
        driver_id = request.match_info["driver_id"]
        try:
            body = await request.json()
            if not isinstance(body, dict) or "score" not in body:
                raise ValueError('body must be {"score": INT} or {"score": null}')
            score = body["score"]
            if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
                raise ValueError("score must be an integer or null")
            self.set_score(driver_id, score)
        except ValueError as exc:  # also a body that is not JSON
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"driverId": driver_id, "score": score})
