"""The simulator's Commands Receiver and charging sessions (OCPI 2.2.1 §13, §9, §10).

START_SESSION answers a CommandResponse at once, then posts the CommandResult to ``response_url``
after ``command_delay_s``; an accepted start PUTs a PENDING Session, PATCHes it ACTIVE and the EVSE
CHARGING, and every ``push_interval_s`` advances it (energy from a power curve, SOC, cost from the
tariff engine) and PATCHes a new charging period. STOP_SESSION completes it, frees the EVSE and
POSTs a CDR whose totals come from the same engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any, Protocol

from aiohttp import web

from operators.ocpi import codec, mapping, tariff
from operators.ocpi.messages import ChargingPeriod, StartSession, StopSession
from operators.ocpi.models import Connector, Tariff
from operators.ocpi.sim.config import OcpiFaults, OcpiSimulatorConfig
from operators.ocpi.sim.replies import ocpi_response

logger = logging.getLogger(__name__)
CENT = Decimal("0.0001")  # OCPI numbers carry 4 decimals (§16.1)
BATTERY_KWH = 64.0


@dataclass
class _Live:
    session: dict[str, Any]
    max_kw: float
    soc: float
    tariff: Tariff | None
    clock: datetime  # simulated time of the last tick (energy follows it)
    wall: datetime  # real time of the last tick (what is reported: never ahead of the receiver's clock)
    task: asyncio.Task[None] | None = None
    periods: list[dict[str, Any]] = field(default_factory=list)


class SessionsHost(Protocol):
    """What the sessions need from the simulator (``server.OcpiSimulator``): its network, its dice,
    background tasks and the way to the eMSP."""

    config: OcpiSimulatorConfig
    faults: OcpiFaults
    locations: dict[str, dict[str, Any]]
    tariffs: dict[str, dict[str, Any]]
    rng: Random

    def spawn(self, coro: Awaitable[None]) -> None: ...

    async def send(self, method: str, url: str, body: Any) -> int | None: ...

    async def push(self, method: str, module: str, path: str, body: Any) -> int | None: ...

    async def set_evse_status(self, location_id: str, evse_uid: str, status: str) -> int | None: ...


class SimSessions:
    def __init__(self, sim: SessionsHost) -> None:
        self.sim = sim
        self.sessions: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []
        self.live: dict[str, _Live] = {}

    async def command(self, request: web.Request) -> web.Response:
        name = request.match_info["command"]
        try:
            body = codec.loads(await request.read())
            if name == "START_SESSION":
                return await self._start(codec.from_json(StartSession, body))
            if name == "STOP_SESSION":
                return await self._stop(codec.from_json(StopSession, body))
        except codec.ModelError as exc:
            return ocpi_response(None, 2001, str(exc), http_status=400)
        return self._response("NOT_SUPPORTED")

    def _response(self, result: str) -> web.Response:
        return ocpi_response({"result": result, "timeout": self.sim.config.command_timeout_s})

    async def _start(self, cmd: StartSession) -> web.Response:
        loc = self.sim.locations.get(cmd.location_id)
        if loc is None:
            return ocpi_response(None, 2003, "unknown location")  # §13.4.1
        evse = next((e for e in loc["evses"] if e["uid"] == cmd.evse_uid), None)
        conn = next((c for c in evse["connectors"] if c["id"] == cmd.connector_id), None) if evse else None
        if evse is None or conn is None:
            return ocpi_response(None, 2001, "unknown EVSE or connector")
        if self.sim.faults.command_response != "ACCEPTED":
            return self._response(self.sim.faults.command_response)
        self.sim.spawn(self._start_later(cmd, loc, evse, conn))
        return self._response("ACCEPTED")

    async def _start_later(self, cmd: StartSession, loc: dict, evse: dict, conn: dict) -> None:
        await asyncio.sleep(self.sim.config.command_delay_s)
        result = self.sim.faults.command_result
        if result == "ACCEPTED" and evse["status"] != "AVAILABLE":
            result = (
                "EVSE_INOPERATIVE" if evse["status"] in ("OUTOFORDER", "INOPERATIVE") else "EVSE_OCCUPIED"
            )
        if result is None:
            return  # scenario: the result is never sent; the eMSP gives up after ``timeout``
        await self.sim.send("POST", cmd.response_url, {"result": result})
        if result != "ACCEPTED":
            return
        now = datetime.now(UTC)
        cfg = self.sim.config
        session = {
            "country_code": cfg.country_code,
            "party_id": cfg.party_id,
            "id": f"S{len(self.sessions) + 1:06d}",
            "start_date_time": codec.format_datetime(now),
            "kwh": Decimal("0"),
            "cdr_token": {
                "country_code": cmd.token.country_code,
                "party_id": cmd.token.party_id,
                "uid": cmd.token.uid,
                "type": cmd.token.type,
                "contract_id": cmd.token.contract_id,
            },
            "auth_method": "COMMAND",
            "location_id": loc["id"],
            "evse_uid": evse["uid"],
            "connector_id": conn["id"],
            "currency": next(iter(self.sim.tariffs.values()))["currency"],
            "status": "PENDING",
            "last_updated": codec.format_datetime(now),
        }
        if cmd.authorization_reference:
            session["authorization_reference"] = cmd.authorization_reference
        tariff_id = next(iter(conn.get("tariff_ids", [])), None)
        raw_tariff = self.sim.tariffs.get(tariff_id) if tariff_id else None
        live = _Live(
            session=session,
            max_kw=mapping.max_power_kw(codec.from_json(Connector, conn)),
            soc=20 + self.sim.rng.random() * 30,
            tariff=codec.from_json(Tariff, raw_tariff) if raw_tariff else None,
            clock=now,
            wall=now,
        )
        self.sessions.append(session)
        self.live[session["id"]] = live
        path = f"/{cfg.country_code}/{cfg.party_id}/{session['id']}"
        await self.sim.push("PUT", "sessions", path, session)
        session.update(status="ACTIVE", last_updated=codec.format_datetime(now))
        await self.sim.push(
            "PATCH", "sessions", path, {"status": "ACTIVE", "last_updated": session["last_updated"]}
        )
        await self.sim.set_evse_status(loc["id"], evse["uid"], "CHARGING")
        live.task = asyncio.ensure_future(self._run(live))
        self.sim.spawn(live.task)

    async def _run(self, live: _Live) -> None:
        while True:
            await asyncio.sleep(self.sim.config.push_interval_s)
            await self._tick(live)

    def _power_kw(self, live: _Live) -> float:
        # A plausible curve: full power up to 80% SOC, then tapering to 10% of it at 100%.
        if live.soc >= 100:
            return 0.0
        return live.max_kw * (1.0 if live.soc < 80 else max(0.1, (100 - live.soc) / 20))

    async def _tick(self, live: _Live, final: bool = False) -> None:
        step_s = self.sim.config.push_interval_s * self.sim.config.time_acceleration  # simulated
        now = live.clock + timedelta(seconds=step_s)
        if final:
            now = max(live.clock, datetime.now(UTC))
        hours = (now - live.clock).total_seconds() / 3600
        if hours <= 0:
            return
        power = self._power_kw(live)
        kwh = power * hours
        live.soc = min(100.0, live.soc + kwh / BATTERY_KWH * 100)
        dims = [{"type": "ENERGY", "volume": _num(kwh)}, {"type": "TIME", "volume": _num(hours)}]
        dims += [
            {"type": "POWER", "volume": _num(power)},
            {"type": "STATE_OF_CHARGE", "volume": _num(live.soc)},
        ]
        # Timestamps are the wall clock's, as on the T/CEC simulator: an accelerated clock must not
        # report periods or updates in the future.
        wall = max(live.wall, datetime.now(UTC))
        period: dict[str, Any] = {"start_date_time": codec.format_datetime(live.wall), "dimensions": dims}
        if live.tariff is not None:
            period["tariff_id"] = live.tariff.id
        live.periods.append(period)
        live.clock, live.wall = now, wall
        session = live.session
        session["kwh"] = _num(float(session["kwh"]) + kwh)
        session["charging_periods"] = live.periods
        price = self._cost(live, wall)
        if price is not None:
            session["total_cost"] = {
                "excl_vat": price.excl_vat.quantize(CENT),
                "incl_vat": price.incl_vat.quantize(CENT),
            }
        session["last_updated"] = codec.format_datetime(wall)
        patch = {"kwh": session["kwh"], "charging_periods": [period], "last_updated": session["last_updated"]}
        if "total_cost" in session:
            patch["total_cost"] = session["total_cost"]
        cfg = self.sim.config
        await self.sim.push("PATCH", "sessions", f"/{cfg.country_code}/{cfg.party_id}/{session['id']}", patch)

    def _cost(self, live: _Live, end: datetime) -> tariff.Cost | None:
        if live.tariff is None:
            return None
        periods = [codec.from_json(ChargingPeriod, p) for p in live.periods]
        tz = self.sim.locations[live.session["location_id"]]["time_zone"]
        return tariff.cost(live.tariff, periods, end, tz)

    async def _stop(self, cmd: StopSession) -> web.Response:
        live = self.live.get(cmd.session_id)
        if live is None or live.session["status"] != "ACTIVE":
            return self._response("UNKNOWN_SESSION")
        if self.sim.faults.command_response != "ACCEPTED":
            return self._response(self.sim.faults.command_response)
        self.sim.spawn(self._stop_later(cmd, live))
        return self._response("ACCEPTED")

    async def _stop_later(self, cmd: StopSession, live: _Live) -> None:
        await asyncio.sleep(self.sim.config.command_delay_s)
        result = self.sim.faults.command_result
        if result is None:
            return
        await self.sim.send("POST", cmd.response_url, {"result": result})
        if result != "ACCEPTED":
            return
        if live.task is not None:
            live.task.cancel()
        await self._tick(live, final=True)
        session = live.session
        session.update(status="COMPLETED", end_date_time=session["last_updated"])
        cfg = self.sim.config
        patch = {
            "status": "COMPLETED",
            "end_date_time": session["end_date_time"],
            "last_updated": session["last_updated"],
        }
        await self.sim.push("PATCH", "sessions", f"/{cfg.country_code}/{cfg.party_id}/{session['id']}", patch)
        await self.sim.set_evse_status(session["location_id"], session["evse_uid"], "AVAILABLE")
        cdr = self._cdr(live)
        self.cdrs.append(cdr)
        await self.sim.push("POST", "cdrs", "", cdr)

    def _cdr(self, live: _Live) -> dict[str, Any]:
        s = live.session
        loc = self.sim.locations[s["location_id"]]
        evse = next(e for e in loc["evses"] if e["uid"] == s["evse_uid"])
        conn = next(c for c in evse["connectors"] if c["id"] == s["connector_id"])
        start, end = codec.parse_datetime(s["start_date_time"]), codec.parse_datetime(s["end_date_time"])
        cdr: dict[str, Any] = {
            "country_code": s["country_code"],
            "party_id": s["party_id"],
            "id": f"CDR-{s['id']}",
            "start_date_time": s["start_date_time"],
            "end_date_time": s["end_date_time"],
            "session_id": s["id"],
            "cdr_token": s["cdr_token"],
            "auth_method": s["auth_method"],
            "cdr_location": {
                **{
                    k: loc[k]
                    for k in ("id", "name", "address", "city", "postal_code", "country", "coordinates")
                },
                "evse_uid": evse["uid"],
                "evse_id": evse["evse_id"],
                "connector_id": conn["id"],
                "connector_standard": conn["standard"],
                "connector_format": conn["format"],
                "connector_power_type": conn["power_type"],
            },
            "currency": s["currency"],
            "charging_periods": live.periods,
            "total_energy": s["kwh"],
            "total_time": _num((end - start).total_seconds() / 3600),
            "total_parking_time": Decimal("0"),
            "last_updated": s["end_date_time"],
        }
        if s.get("authorization_reference"):
            cdr["authorization_reference"] = s["authorization_reference"]
        price = self._cost(live, end)
        if live.tariff is not None:
            cdr["tariffs"] = [codec.to_json(live.tariff)]
        total = _price(Decimal(0), Decimal(0))
        if price is not None:
            for dimension, key in (
                ("FLAT", "total_fixed_cost"),
                ("ENERGY", "total_energy_cost"),
                ("TIME", "total_time_cost"),
                ("PARKING_TIME", "total_parking_cost"),
            ):
                excl, incl = price.dimension(dimension)
                if excl:
                    cdr[key] = _price(excl, incl)
                    total = {k: total[k] + cdr[key][k] for k in total}
        # The sum of the rounded parts, so the CDR adds up (the sim tariffs have no min/max price).
        cdr["total_cost"] = total
        return cdr


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 4)))


def _price(excl: Decimal, incl: Decimal) -> dict[str, Decimal]:
    return {"excl_vat": excl.quantize(CENT), "incl_vat": incl.quantize(CENT)}
