"""A T/CEC 102 "evcs" operator simulator: a real aiohttp server on loopback speaking the operator side.

It serves a seeded network (``network``) through every A→O interface of spec §5, charges
sessions (``sessions``, ``charging``), pushes status, progress and orders to the aggregator
(``push``) and injects faults on demand (``faults``). Used by ``make run``, the tests, the
benchmarks, and third-party developers (``chargegate simulate tcec``).

Admin endpoints (``/_sim/faults``, ``/_sim/network``, …) are in ``admin``; the configuration
is :class:`SimulatorConfig` (``config``), re-exported here with :class:`Faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import date
from typing import Any

from aiohttp import web

from operators.tcec import codec
from operators.tcec.sim.admin import add_admin_routes
from operators.tcec.sim.catalogue import (
    StationFilter,
    connector_status_info,
    query_equip_business_policy,
    query_station_stats,
    query_station_status,
    query_stations_info,
)
from operators.tcec.sim.charging import ChargingDesk, ChargingTimings
from operators.tcec.sim.config import SimulatorConfig
from operators.tcec.sim.dialect import hear, speak
from operators.tcec.sim.faults import FaultDice, Faults
from operators.tcec.sim.network import (
    CHARGING,
    FAULT,
    IDLE,
    OCCUPIED,
    OFFLINE,
    PARK_FREE,
    PARK_OCCUPIED,
    RESERVED,
    SimConnector,
    churned_status,
    generate_network,
)
from operators.tcec.sim.push import PushClient
from operators.tcec.sim.sessions import SessionBook
from operators.tcec.sim.tokens import TokenIssuer, query_token
from operators.tcec.sim.wire import (
    RET_BAD_ENVELOPE,
    RET_BAD_PARAMS,
    RET_BAD_SIG,
    RET_BAD_TOKEN,
    RET_BUSY,
    RET_INTERNAL,
    RET_MESSAGES,
    RET_OK,
    BusinessParamError,
    build_response,
)

__all__ = ["Faults", "SimulatorConfig", "TcecSimulator"]

log = logging.getLogger(__name__)

HANG_S = 3600.0  # the timeout fault: far beyond any sane client timeout, cut short by stop()
CONNECTOR_STATUSES = (OFFLINE, IDLE, OCCUPIED, CHARGING, RESERVED, FAULT)


class TcecSimulator:
    """One simulated T/CEC operator. ``async with TcecSimulator(cfg) as sim: sim.base_url``."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.calls: Counter[str] = Counter()  # protocol requests received, per interface
        self.network = generate_network(
            config.operator_id, config.stations, config.seed, config.center, time.time()
        )
        self.port = config.port
        self._faults = config.faults
        self._dice = FaultDice(config.seed)
        self._churn_rng = random.Random(f"tcec-sim-churn:{config.seed}")
        self._tokens = TokenIssuer(config.token_ttl_s, config.token_reissue)
        self._filter = StationFilter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._push_client = (
            PushClient(
                config.notify_url, config.operator_id, config.operator_secret, config.secrets,
                lambda: self._faults, self._dice,
            )
            if config.notify_url
            else None
        )  # fmt: skip
        timings = ChargingTimings(
            push_interval_s=config.charge_push_interval_s,
            acceleration=config.time_acceleration,
            start_delay_s=config.start_delay_s,
            unplug_delay_s=config.unplug_delay_s,
            order_retry_s=config.order_retry_s,
            order_max_attempts=config.order_max_attempts,
            batteries_kwh=config.batteries_kwh,
        )
        self.charging = ChargingDesk(
            config.operator_id, self.network, timings, self._push, self._apply_status, self._spawn
        )
        self._handlers: dict[str, Callable[[codec.Request], dict[str, Any]]] = {
            "query_token": lambda r: query_token(
                self._tokens, r, config.operator_secret, config.aggregator_operator_id
            ),
            "query_stations_info": lambda r: query_stations_info(
                self.network, self._filter, r.data, config.page_size_max
            ),
            "query_station_status": lambda r: query_station_status(self.network, r.data),
            "query_station_stats": lambda r: query_station_stats(
                self.network, r.data, self.charging.book.energy_by_connector
            ),
            "query_equip_auth": lambda r: self.charging.query_equip_auth(r.data),
            "query_equip_business_policy": lambda r: query_equip_business_policy(self.network, r.data),
            "query_start_charge": lambda r: self.charging.query_start_charge(r.data),
            "query_equip_charge_status": lambda r: self.charging.query_equip_charge_status(r.data),
            "query_stop_charge": lambda r: self.charging.query_stop_charge(r.data),
        }

    # ---- public API ----------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}{self.config.path_prefix}"

    @property
    def sessions(self) -> SessionBook:
        return self.charging.book

    @property
    def pushes(self) -> Counter[str]:
        """Pushes the aggregator acknowledged (Ret 0), per interface."""
        return self._push_client.sent if self._push_client else Counter()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._closing.clear()
        if self._push_client is not None:
            await self._push_client.start()
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        if self.config.status_change_interval_s > 0:
            self._spawn(self._churn())
        log.info("tcec-sim %s listening on %s", self.config.operator_id, self.base_url)

    async def stop(self) -> None:
        self._closing.set()  # releases requests hung by the timeout fault
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._push_client is not None:
            await self._push_client.close()

    async def __aenter__(self) -> TcecSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def set_connector_status(self, connector_id: str, status: int) -> bool:
        """Change a connector's status (bumping its station's change time) and push it.

        Returns whether the aggregator acknowledged the push (False without ``notify_url``).
        Raises KeyError for an unknown connector, ValueError for a status outside spec §6.
        """
        if status not in CONNECTOR_STATUSES:
            raise ValueError(f"status must be one of {CONNECTOR_STATUSES}")
        return await self._apply_status(self.network.by_connector[connector_id], status)

    async def send_check_charge_orders(self, day: date) -> dict[str, Any] | None:
        """Push §5.12 reconciliation for ``day``; the aggregator's decrypted answer, or None."""
        return await self.charging.send_check_charge_orders(day)

    # ---- protocol ------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        prefix, profile = self.config.path_prefix, self.config.profile
        add_admin_routes(app, self, ("", prefix))
        # The profile's paths (spec §8): the token route first, as the query route may cover it too.
        app.router.add_post(f"{prefix}{profile.token_path}", self._handle_token)
        app.router.add_post(f"{prefix}{profile.query_path}", self._handle)
        return app

    async def _handle_token(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "query_token")

    async def _handle(self, request: web.Request, token_route: str | None = None) -> web.StreamResponse:
        interface = token_route or request.match_info["interface"]
        if interface not in self._handlers or (interface == "query_token" and token_route is None):
            raise web.HTTPNotFound(text=f"no T/CEC interface {interface} here")
        self.calls[interface] += 1
        faults = self._faults
        if faults.down:
            raise web.HTTPServiceUnavailable(text="simulated outage")
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if self._dice.roll(faults.timeout_rate):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), HANG_S)
            raise web.HTTPServiceUnavailable(text="simulator shutting down")
        if self._dice.roll(faults.busy_rate):
            return self._reply(RET_BUSY, None, "", faults)
        if self._dice.roll(faults.error_rate):
            return self._reply(RET_INTERNAL, None, "", faults)
        try:
            ret, payload, msg = await self._process(interface, request)
        except Exception:
            log.exception("tcec-sim: %s failed", interface)
            ret, payload, msg = RET_INTERNAL, None, ""
        return self._reply(ret, speak(self.config.profile, interface, payload), msg, faults)

    async def _process(self, interface: str, request: web.Request) -> tuple[int, dict[str, Any] | None, str]:
        secrets = self.config.secrets
        try:
            body = json.loads(await request.read())
        except ValueError:
            return RET_BAD_ENVELOPE, None, ""
        # T/CEC 102.4 §3.3: check the signature first, then the token, then decrypt.
        try:
            fields = codec.verify_request_sig(body, secrets)
        except codec.SignatureError:
            return RET_BAD_SIG, None, ""
        except codec.CodecError as exc:
            return RET_BAD_ENVELOPE, None, f"{RET_MESSAGES[RET_BAD_ENVELOPE]}: {exc}"
        if interface != "query_token":
            auth = request.headers.get("Authorization", "")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if not token or self._tokens.holder(token) != fields["OperatorID"]:
                return RET_BAD_TOKEN, None, ""
        try:
            req = codec.decode_request_data(fields, secrets)
            req = replace(req, data=hear(self.config.profile, req.data))
        except codec.CodecError as exc:
            return RET_BAD_ENVELOPE, None, f"{RET_MESSAGES[RET_BAD_ENVELOPE]}: {exc}"
        try:
            return RET_OK, self._handlers[interface](req), ""
        except BusinessParamError as exc:
            return RET_BAD_PARAMS, None, f"{RET_MESSAGES[RET_BAD_PARAMS]}: {exc}"

    def _reply(self, ret: int, payload: dict[str, Any] | None, msg: str, faults: Faults) -> web.Response:
        secrets = self.config.secrets
        envelope = build_response(ret, payload, secrets, msg or RET_MESSAGES[ret])
        if payload is not None and self._dice.roll(faults.malformed_data_rate):
            envelope["Data"] = self._malformed_data()
            envelope["Sig"] = codec.response_sig(ret, envelope["Msg"], envelope["Data"], secrets)
        if self._dice.roll(faults.bad_signature_rate):
            envelope["Sig"] = f"{int(envelope['Sig'], 16) ^ 0x5A:032X}"
        return web.Response(
            body=json.dumps(envelope, ensure_ascii=False).encode(),
            content_type="application/json",
            charset="utf-8",
        )

    def _malformed_data(self) -> str:
        """Correctly signed Data that is not Base64, not whole AES blocks, or not JSON."""
        kind = self._dice.pick(3)
        if kind == 0:
            return "%%not-base64%%"
        if kind == 1:
            return "c2hvcnQ="  # Base64 of 5 bytes: not a whole AES block
        return codec.encrypt(b"<html>502 Bad Gateway</html>", self.config.secrets)

    # ---- status and pushes ---------------------------------------------------------------------

    async def _apply_status(self, connector: SimConnector, status: int) -> bool:
        connector.status = status
        connector.park_status = PARK_OCCUPIED if status in (OCCUPIED, CHARGING, RESERVED) else PARK_FREE
        self.network.touch(self.network.station_of(connector), time.time())
        # §5.2: one push per change, a single ConnectorStatusInfo object; Status 0 = accepted.
        answer = await self._push(
            "notification_stationStatus", {"ConnectorStatusInfo": connector_status_info(connector)}
        )
        return answer is not None and answer.get("Status") in (0, "0")

    async def _push(self, interface: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if self._push_client is None:
            return None
        answer = await self._push_client.push(interface, speak(self.config.profile, interface, payload))
        return None if answer is None else hear(self.config.profile, answer)

    async def _churn(self) -> None:
        """Every ``status_change_interval_s``, move one random idle-ish connector to a new status."""
        connectors = list(self.network.by_connector.values())
        rand = self._churn_rng.random
        while connectors:
            await asyncio.sleep(self.config.status_change_interval_s)
            connector = connectors[int(rand() * len(connectors))]
            if self.sessions.active_on(connector.id) is not None:
                continue  # a simulated session owns this connector's status
            await self._apply_status(connector, churned_status(connector.status, rand()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("tcec-sim: background task failed")
