"""The simulator's T/CEC 102.3 charging interfaces and the asynchronous session lifecycle (spec §7).

``query_*`` methods answer synchronously; everything the spec makes asynchronous (start result,
progress, stop result, final order) runs in one background task per session and reaches the
aggregator through the ``push`` callable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from operators.tcec.sim.network import CHARGING as CONNECTOR_CHARGING
from operators.tcec.sim.network import IDLE, OCCUPIED, OFFLINE, Network, SimConnector
from operators.tcec.sim.sessions import (
    CHARGING,
    DEFAULT_BATTERIES_KWH,
    ENDED,
    STARTING,
    STOP_BMS,
    STOP_PLATFORM,
    STOPPING,
    ChargeSession,
    SessionBook,
)
from operators.tcec.sim.wire import BusinessParamError, fmt_time, required_str

log = logging.getLogger(__name__)

Push = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]
SetStatus = Callable[[SimConnector, int], Awaitable[bool]]
Spawn = Callable[[Coroutine[Any, Any, None]], None]

# query_start_charge FailReason (§5.7): 1 no such device, 2 offline, 3–99 custom.
START_NO_DEVICE, START_OFFLINE, START_BUSY = 1, 2, 3
# query_stop_charge FailReason (§5.10): 1 no such device, 3 already stopped, 4 (custom) no such order.
STOP_NO_DEVICE, STOP_ALREADY, STOP_NO_ORDER = 1, 3, 4
# query_equip_auth FailReason (§5.5): 2 device check failed; 3, 4 custom.
AUTH_CHECK_FAILED, AUTH_NO_DEVICE, AUTH_BUSY = 2, 3, 4


@dataclass(frozen=True, slots=True)
class ChargingTimings:
    """How fast the simulated world moves (real seconds)."""

    push_interval_s: float = 30.0
    acceleration: float = 1.0
    start_delay_s: float = 0.5
    unplug_delay_s: float = 5.0
    order_retry_s: float = 5.0
    order_max_attempts: int = 5
    batteries_kwh: tuple[float, ...] = DEFAULT_BATTERIES_KWH  # vehicles that come to charge


class ChargingDesk:
    def __init__(
        self,
        operator_id: str,
        network: Network,
        timings: ChargingTimings,
        push: Push,
        set_status: SetStatus,
        spawn: Spawn,
    ) -> None:
        self._operator_id = operator_id
        self._network = network
        self._timings = timings
        self._push = push
        self._set_status = set_status
        self._spawn = spawn
        self._stop_events: dict[str, asyncio.Event] = {}
        self._check_seq = 0
        self.book = SessionBook()

    # ---- A→O interfaces ------------------------------------------------------------------------

    def query_equip_auth(self, data: dict[str, Any]) -> dict[str, Any]:
        seq = required_str(data, "EquipAuthSeq")
        connector_id = required_str(data, "ConnectorID")
        out = {"EquipAuthSeq": seq, "ConnectorID": connector_id}
        connector = self._network.by_connector.get(connector_id)
        if connector is None:
            return out | {"SuccStat": 1, "FailReason": AUTH_NO_DEVICE}
        # The simulated driver always plugs in, so idle (1) and plugged (2) both pass §5.5's check.
        if connector.status not in (IDLE, OCCUPIED):
            reason = AUTH_BUSY if connector.status == CONNECTOR_CHARGING else AUTH_CHECK_FAILED
            return out | {"SuccStat": 1, "FailReason": reason}
        return out | {"SuccStat": 0, "FailReason": 0}

    def query_start_charge(self, data: dict[str, Any]) -> dict[str, Any]:
        seq = required_str(data, "StartChargeSeq")
        connector_id = required_str(data, "ConnectorID")
        out = {"StartChargeSeq": seq, "ConnectorID": connector_id}
        existing = self.book.get(seq)
        if existing is not None:
            # §7: a repeated StartChargeSeq never starts a second session; report the first one.
            return out | {"StartChargeSeqStat": existing.stat, "SuccStat": 0, "FailReason": 0}
        connector = self._network.by_connector.get(connector_id)
        reason = 0
        if connector is None:
            reason = START_NO_DEVICE
        elif connector.status == OFFLINE:
            reason = START_OFFLINE
        elif connector.status not in (IDLE, OCCUPIED) or self.book.active_on(connector_id):
            reason = START_BUSY
        if reason or connector is None:
            return out | {"StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": reason}
        tariff = self._network.station_of(connector).tariff
        session = ChargeSession.new(
            seq, connector, tariff, time.time(), self._timings.acceleration, self._timings.batteries_kwh
        )
        self.book.add(session)
        self._stop_events[seq] = asyncio.Event()
        self._spawn(self._lifecycle(session))
        return out | {"StartChargeSeqStat": STARTING, "SuccStat": 0, "FailReason": 0}

    def query_equip_charge_status(self, data: dict[str, Any]) -> dict[str, Any]:
        session = self.book.get(required_str(data, "StartChargeSeq"))
        if session is None:
            raise BusinessParamError("StartChargeSeq 不存在")
        now = time.time()
        session.advance(now)
        return session.status_body(now)

    def query_stop_charge(self, data: dict[str, Any]) -> dict[str, Any]:
        seq = required_str(data, "StartChargeSeq")
        connector_id = required_str(data, "ConnectorID")
        out: dict[str, Any] = {"StartChargeSeq": seq}
        session = self.book.get(seq)
        if connector_id not in self._network.by_connector:
            return out | {"StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": STOP_NO_DEVICE}
        if session is None or session.connector.id != connector_id:
            return out | {"StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": STOP_NO_ORDER}
        if session.stat in (STOPPING, ENDED):
            return out | {"StartChargeSeqStat": session.stat, "SuccStat": 1, "FailReason": STOP_ALREADY}
        session.advance(time.time())  # energy stops accruing at the stop command
        session.stat = STOPPING
        self._stop_events[seq].set()
        return out | {"StartChargeSeqStat": STOPPING, "SuccStat": 0, "FailReason": 0}

    # ---- O→A lifecycle -------------------------------------------------------------------------

    async def _lifecycle(self, s: ChargeSession) -> None:
        stop = self._stop_events[s.seq]
        t = self._timings
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), t.start_delay_s)
        if s.stat == STARTING:
            s.begin(time.time())
            await self._set_status(s.connector, CONNECTOR_CHARGING)
        ok = s.stat == CHARGING
        await self._push(
            "notification_start_charge_result",
            {
                "StartChargeSeq": s.seq,
                # §5.8: 2 on success; 4 (ended) when stopped before the car ever drew power.
                "StartChargeSeqStat": CHARGING if ok else ENDED,
                "ConnectorID": s.connector.id,
                "StartTime": fmt_time(s.started_at or s.created_at),
                "IdentCode": "",
            },
        )
        reason = STOP_PLATFORM
        while s.stat == CHARGING:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), t.push_interval_s)
            if s.stat != CHARGING:
                break
            now = time.time()
            s.advance(now)
            if s.is_full:
                reason = STOP_BMS  # §6 StopReason 2: the car's BMS ended the charge
                break
            await self._push("notification_equip_charge_status", s.status_body(now))
        s.finish(time.time(), reason)
        await self._push(
            "notification_stop_charge_result",
            {"StartChargeSeq": s.seq, "StartChargeSeqStat": ENDED, "ConnectorID": s.connector.id,
             "SuccStat": 0, "FailReason": 0},
        )  # fmt: skip
        await self._set_status(s.connector, OCCUPIED)  # §7: plugged, not charging
        self._spawn(self._unplug_later(s.connector))
        await self._push_order(s)

    async def _push_order(self, s: ChargeSession) -> None:
        """§5.11: re-push the final order until ConfirmResult=0, bounded, with doubling back-off."""
        t = self._timings
        for attempt in range(t.order_max_attempts):
            answer = await self._push("notification_charge_order_info", s.order_body())
            if answer is not None and answer.get("ConfirmResult") in (0, "0"):
                s.order_confirmed = True
                return
            if attempt + 1 < t.order_max_attempts:
                await asyncio.sleep(t.order_retry_s * 2**attempt)
        log.warning("tcec-sim: order %s not confirmed after %d pushes", s.seq, t.order_max_attempts)

    async def _unplug_later(self, connector: SimConnector) -> None:
        await asyncio.sleep(self._timings.unplug_delay_s)
        if connector.status == OCCUPIED and self.book.active_on(connector.id) is None:
            await self._set_status(connector, IDLE)

    async def send_check_charge_orders(self, day: date) -> dict[str, Any] | None:
        """§5.12 reconciliation of the sessions that ended on ``day``; the aggregator's answer."""
        sessions = self.book.ended_on(day)
        orders: list[dict[str, Any]] = []
        for s in sessions:
            kwh, elec, service = s.totals(s.charge_details())
            orders.append({"StartChargeSeq": s.seq, "TotalPower": kwh, "TotalMoney": elec + service})
        self._check_seq += 1
        return await self._push(
            "check_charge_orders",
            {
                # §4: 27 chars = our OperatorID + 18 unique chars (here the date and a counter).
                "CheckOrderSeq": f"{self._operator_id}{day:%Y%m%d}{self._check_seq:010d}",
                "StartTime": f"{day:%Y-%m-%d} 00:00:00",
                "EndTime": f"{day:%Y-%m-%d} 23:59:59",
                "OrderCount": len(orders),
                "TotalOrderPower": sum((o["TotalPower"] for o in orders), Decimal("0.00")),
                "TotalOrderMoney": sum((o["TotalMoney"] for o in orders), Decimal("0.00")),
                "ChargeOrders": orders,
            },
        )
