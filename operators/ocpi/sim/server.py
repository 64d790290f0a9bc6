"""A CPO-side OCPI 2.2.1 server for demos, tests and the developer sandbox (aiohttp).

It serves versions and version details, the credentials handshake (token A → calls the eMSP back
with token B → issues token C), paged Sender lists of locations, tariffs, sessions and CDRs, and the
commands Receiver. Once registered it pushes to the eMSP's Receiver endpoints (EVSE status PATCH,
Session PUT/PATCH, CDR POST) and posts CommandResults to each ``response_url``. Faults (latency,
error rate, hangs, malformed bodies, down) are switched at run time through ``.faults``. The
configuration and the faults are dataclasses in :mod:`operators.ocpi.sim.config`.

Usage::

    async with OcpiSimulator(OcpiSimulatorConfig(stations=100, seed=7)) as sim:
        print(sim.versions_url)   # hand this and sim.config.token (token A) to the eMSP
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from operators.ocpi import auth, codec, headers
from operators.ocpi.messages import Credentials, VersionDetails
from operators.ocpi.sim import network as sim_network
from operators.ocpi.sim.config import OcpiSimulatorConfig
from operators.ocpi.sim.replies import ocpi_response
from operators.ocpi.sim.sender import SenderApi
from operators.ocpi.sim.sessions import SimSessions

logger = logging.getLogger(__name__)

VERSION = "2.2.1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class OcpiSimulator:
    """``OcpiSimulator(config, **overrides)``; ``start()``/``stop()`` or ``async with``.

    ``http`` is the client session for call-backs and pushes (one of its own if None, closed on stop).
    """

    def __init__(
        self,
        config: OcpiSimulatorConfig | None = None,
        *,
        http: aiohttp.ClientSession | None = None,
        **overrides: Any,
    ) -> None:
        self.config = dataclasses.replace(config or OcpiSimulatorConfig(), **overrides)
        self._own_http = http is None
        cfg = self.config
        self.faults = dataclasses.replace(cfg.faults)
        self.calls: Counter[str] = Counter()
        self.pushed: Counter[str] = Counter()
        self.rng = random.Random(cfg.seed)
        tz = cfg.time_zone or ("Asia/Shanghai" if cfg.country_code.upper() == "CN" else "Europe/Berlin")
        spec = sim_network.NetworkSpec(
            cfg.stations, cfg.seed, cfg.center, cfg.country_code, cfg.party_id, tz, cfg.epoch
        )
        self.locations: dict[str, dict[str, Any]] = {loc["id"]: loc for loc in sim_network.locations(spec)}
        self.tariffs: dict[str, dict[str, Any]] = {t["id"]: t for t in sim_network.tariffs(spec)}
        self.sender = SenderApi(self)
        self.sessions = SimSessions(self)
        self.token_b: str | None = None
        self.token_c: str | None = None
        self.emsp: VersionDetails | None = None
        self.emsp_party: tuple[str, str] | None = None  # (country_code, party_id) from its credentials
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = http
        self.base_url = ""

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._echo_mw, self._faults_mw, self._auth_mw])
        prefix = f"/ocpi/{VERSION}"
        app.router.add_get("/ocpi/versions", self._versions)
        app.router.add_get(prefix, self._details)
        app.router.add_route("*", f"{prefix}/credentials", self._credentials)
        self.sender.add_routes(app.router, prefix)
        app.router.add_post(prefix + "/commands/{command}", self.sessions.command)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.config.host, self.config.port).start()
        except OSError:
            await self._runner.cleanup()
            raise
        if self._http is None:
            self._http = aiohttp.ClientSession()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None and self._own_http:
            await self._http.close()

    async def __aenter__(self) -> OcpiSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def url(self, module: str) -> str:
        return f"{self.base_url}/ocpi/{VERSION}/{module}"

    def spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- middlewares --------------------------------------------------------------------------------

    @staticmethod
    def _module(request: web.Request) -> str:
        parts = request.path.strip("/").split("/")
        return parts[2] if len(parts) > 2 else "versions"

    @web.middleware
    async def _echo_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """§4.1.3: every response, faults and refusals included, echoes the request's ids."""
        echo = headers.echo(request.headers, routed=self._module(request) not in headers.UNROUTED_MODULES)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # e.g. an unknown path: still traceable
            exc.headers.update(echo)
            raise
        response.headers.update(echo)
        return response

    @web.middleware
    async def _faults_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.calls[self._module(request)] += 1
        f = self.faults
        if f.down:
            return web.Response(status=503, text="service unavailable")
        if f.latency_s:
            await asyncio.sleep(f.latency_s)
        roll = self.rng.random()
        if roll < f.timeout_rate:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), f.hang_s)
            return web.Response(status=504, text="gateway timeout")
        roll -= f.timeout_rate
        if roll < f.error_rate:
            if self.rng.random() < 0.5:
                return web.Response(status=500, text="internal server error")
            return web.json_response(codec.envelope(None, 3000, "simulated server error"), dumps=codec.dumps)
        roll -= f.error_rate
        if roll < f.malformed_rate:
            return web.Response(text='{"data": [{"id": ', content_type="application/json")
        return await handler(request)

    @web.middleware
    async def _auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # §4.1.5 / specs §1.1: token A only opens versions and credentials, and only until registration.
        header = request.headers.get("Authorization")
        opening = self._module(request) in ("versions", "credentials", VERSION)
        token_a_ok = opening and (self.token_c is None or self.config.allow_reregister)
        allowed = [self.token_c] + ([self.config.token] if token_a_ok else [])
        if auth.matches(header, allowed) is None:
            return ocpi_response(None, 2000, "unknown or missing token", http_status=401)
        return await handler(request)

    # -- versions and credentials (§6, §7) ------------------------------------------------------------

    async def _versions(self, request: web.Request) -> web.Response:
        return ocpi_response([{"version": VERSION, "url": f"{self.base_url}/ocpi/{VERSION}"}])

    async def _details(self, request: web.Request) -> web.Response:
        modules = [("credentials", "SENDER"), ("locations", "SENDER"), ("tariffs", "SENDER")]
        modules += [("sessions", "SENDER"), ("cdrs", "SENDER"), ("commands", "RECEIVER")]
        endpoints = [{"identifier": m, "role": role, "url": self.url(m)} for m, role in modules]
        return ocpi_response({"version": VERSION, "endpoints": endpoints})

    def _own_credentials(self, token: str) -> dict[str, Any]:
        role = {"role": "CPO", "business_details": {"name": f"Sim {self.config.party_id} Charging"}}
        role |= {"party_id": self.config.party_id, "country_code": self.config.country_code}
        return {"token": token, "url": self.versions_url, "roles": [role]}

    async def _credentials(self, request: web.Request) -> web.Response:
        registered = self.token_c is not None
        if request.method == "GET":
            return ocpi_response(self._own_credentials(self.token_c or self.config.token))
        if request.method == "DELETE":
            if not registered:
                return ocpi_response(None, 2000, "not registered", http_status=405)
            self.token_b = self.token_c = self.emsp = None
            return ocpi_response(None)
        if self.config.allow_reregister and request.method == "POST":
            registered = False
        if request.method not in ("POST", "PUT") or (request.method == "POST") == registered:
            return ocpi_response(None, 2000, "POST registers, PUT updates a registration", http_status=405)
        try:
            theirs = codec.from_json(Credentials, codec.loads(await request.read()))
        except codec.ModelError as exc:
            return ocpi_response(None, 2001, str(exc), http_status=400)
        try:  # step 3 of the handshake: call the eMSP back with its token B
            self.emsp = await self._fetch_details(theirs.url, theirs.token)
        except LookupError as exc:
            return ocpi_response(None, 3002, str(exc))
        except (aiohttp.ClientError, TimeoutError, codec.ModelError) as exc:
            return ocpi_response(None, 3001, f"cannot use the client's API: {type(exc).__name__}")
        self.token_b = theirs.token
        self.emsp_party = (theirs.roles[0].country_code, theirs.roles[0].party_id) if theirs.roles else None
        self.token_c = secrets.token_urlsafe(32)  # §4.1.5: unguessable; never from the seeded RNG
        return ocpi_response(self._own_credentials(self.token_c))

    async def _fetch_details(self, versions_url: str, token: str) -> VersionDetails:
        versions = await self._get_data(versions_url, token)
        url = next((v.get("url") for v in versions if v.get("version") == VERSION), None)
        if url is None:
            raise LookupError(f"no mutual version ({VERSION})")
        return codec.from_json(VersionDetails, await self._get_data(url, token))

    async def _get_data(self, url: str, token: str) -> Any:
        assert self._http is not None
        timeout = aiohttp.ClientTimeout(total=5)
        async with self._http.get(
            url, headers={"Authorization": auth.header(token), **headers.new_ids()}, timeout=timeout
        ) as resp:
            body = codec.loads(await resp.read())
        if resp.status != 200 or body.get("status_code") != 1000:
            raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
        return body["data"]

    # -- pushes to the eMSP ------------------------------------------------------------------------------

    async def push(self, method: str, module: str, path: str, body: Any) -> int | None:
        """Send one push to the eMSP's Receiver; never retried (OCPI messages are not queued)."""
        url = self.emsp.url(module, "RECEIVER") if self.emsp else None
        if url is None or not self.config.push or self.faults.drop_pushes:
            return None
        status = await self.send(method, url + path, body)
        if status is not None:
            self.pushed[f"{method} {module}"] += 1
        return status

    async def send(self, method: str, url: str, body: Any) -> int | None:
        assert self._http is not None and self.token_b is not None
        sent = {"Authorization": auth.header(self.token_b), "Content-Type": "application/json"}
        sent |= headers.new_ids()
        if self.emsp_party is not None:  # §4.1.4: pushes to functional modules are routed
            cfg, (cc, party) = self.config, self.emsp_party
            sent |= {"OCPI-from-country-code": cfg.country_code, "OCPI-from-party-id": cfg.party_id}
            sent |= {"OCPI-to-country-code": cc, "OCPI-to-party-id": party}
        try:
            async with self._http.request(
                method, url, data=codec.dumps(body), headers=sent, timeout=aiohttp.ClientTimeout(total=5)
            ) as resp:
                await resp.read()
                return resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("push %s %s failed: %s", method, url, type(exc).__name__)
            return None

    async def set_evse_status(self, location_id: str, evse_uid: str, status: str) -> int | None:
        """Change an EVSE's status and PATCH it to the eMSP (§8.2.2); the push's HTTP status or None."""
        loc = self.locations[location_id]
        evse = next(e for e in loc["evses"] if e["uid"] == evse_uid)
        stamp = codec.format_datetime(datetime.now(UTC))
        evse["status"] = status
        evse["last_updated"] = loc["last_updated"] = stamp  # parents follow their children (§8.3.1)
        cc, party = self.config.country_code, self.config.party_id
        body = {"status": status, "last_updated": stamp}
        return await self.push("PATCH", "locations", f"/{cc}/{party}/{location_id}/{evse_uid}", body)
