"""A simulated charging session: power curve, SOC, time-of-use pricing, and its T/CEC bodies.

Pure model, no I/O. Timestamps are real epoch seconds (so StartTime/EndTime and the tariff periods
are the wall clock's), while energy accrues ``acceleration`` times faster than real time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from operators.tcec.codec import SHANGHAI
from operators.tcec.sim.network import PolicyPeriod, SimConnector, period_at
from operators.tcec.sim.wire import CENT, fmt_time, money

# StartChargeSeqStat, T/CEC 102.3 §6.
STARTING, CHARGING, STOPPING, ENDED = 1, 2, 3, 4
# StopReason, §6.
STOP_USER, STOP_PLATFORM, STOP_BMS, STOP_FAULT = 0, 1, 2, 3

MAX_STEP_S = 30.0  # integrate the SOC curve in virtual steps of at most this
MAX_STEPS = 2000  # per advance() call; beyond it the steps simply get longer
DEFAULT_BATTERIES_KWH = (50.0, 60.0, 75.0, 80.0)  # passenger cars
DC_TAPER_SOC = 80.0  # DC power tapers linearly from here to 100 % (a typical CC/CV curve)


@dataclass(slots=True)
class Detail:
    """Energy drawn within one contiguous stretch of one tariff period (a §5.9 ChargeDetail)."""

    period: int
    start: float
    end: float
    kwh: float


@dataclass(slots=True)
class ChargeSession:
    seq: str
    connector: SimConnector
    tariff: tuple[PolicyPeriod, ...]
    created_at: float
    acceleration: float
    capacity_kwh: float
    soc: float
    vehicle_max_kw: float
    stat: int = STARTING
    started_at: float | None = None
    ended_at: float | None = None
    last_update: float = 0.0
    power_kw: float = 0.0
    stop_reason: int | None = None
    order_confirmed: bool = False
    details: list[Detail] = field(default_factory=list)

    @classmethod
    def new(
        cls,
        seq: str,
        connector: SimConnector,
        tariff: tuple[PolicyPeriod, ...],
        now: float,
        accel: float,
        batteries_kwh: tuple[float, ...] = DEFAULT_BATTERIES_KWH,
    ) -> ChargeSession:
        # Per-session vehicle, seeded by the session key so a replay charges the same car.
        rng = random.Random(f"tcec-sim-vehicle:{seq}")
        return cls(
            seq=seq,
            connector=connector,
            tariff=tariff,
            created_at=now,
            acceleration=accel,
            capacity_kwh=float(rng.choice(batteries_kwh)),
            soc=float(rng.randint(15, 45)),
            vehicle_max_kw=float(rng.choice((90, 120, 150))) if connector.is_dc else connector.power,
            last_update=now,
        )

    @property
    def is_full(self) -> bool:
        return self.soc >= 100.0

    def begin(self, now: float) -> None:
        self.stat, self.started_at, self.last_update = CHARGING, now, now
        self.power_kw = self._power(self.soc)

    def advance(self, now: float) -> None:
        """Accrue energy from the last update to ``now``, splitting at tariff period boundaries."""
        if self.stat != CHARGING or now <= self.last_update:
            return
        t = self.last_update
        while t < now:
            index, boundary = period_at(self.tariff, t)
            end = min(now, boundary)
            self._add(index, t, end, self._charge((end - t) * self.acceleration))
            t = end
        self.last_update = now

    def finish(self, now: float, reason: int) -> None:
        self.advance(now)
        self.stat, self.ended_at, self.stop_reason, self.power_kw = ENDED, now, reason, 0.0

    def _power(self, soc: float) -> float:
        peak = min(self.connector.power, self.vehicle_max_kw)
        if soc >= 100.0:
            return 0.0
        if self.connector.is_dc and soc > DC_TAPER_SOC:
            return peak * max(0.05, (100.0 - soc) / (100.0 - DC_TAPER_SOC))
        return peak  # AC: the on-board charger draws a constant power until full

    def _charge(self, virtual_s: float) -> float:
        steps = max(1, min(MAX_STEPS, int(virtual_s / MAX_STEP_S) + 1))
        dt_h = virtual_s / steps / 3600.0
        kwh = 0.0
        for _ in range(steps):
            power = self._power(self.soc)
            if power <= 0:
                break
            step_kwh = min(power * dt_h, (100.0 - self.soc) / 100.0 * self.capacity_kwh)
            kwh += step_kwh
            self.soc = min(100.0, self.soc + step_kwh / self.capacity_kwh * 100.0)
        self.power_kw = self._power(self.soc)
        return kwh

    def _add(self, period: int, start: float, end: float, kwh: float) -> None:
        last = self.details[-1] if self.details else None
        if last is not None and last.period == period and last.end == start:
            last.end, last.kwh = end, last.kwh + kwh
        else:
            self.details.append(Detail(period, start, end, kwh))

    # ---- T/CEC bodies -------------------------------------------------------------------------

    def charge_details(self) -> list[dict[str, Any]]:
        """§5.9 ChargeDetails: each priced on its own rounded energy, so totals add up exactly."""
        out = []
        for d in self.details:
            policy = self.tariff[d.period]
            kwh = Decimal(d.kwh).quantize(CENT)
            out.append(
                {
                    "DetailStartTime": fmt_time(d.start),
                    "DetailEndTime": fmt_time(d.end),
                    "ElecPrice": policy.elec_price,
                    "SevicePrice": policy.service_price,
                    "DetailPower": kwh,
                    "DetailElecMoney": money(kwh * policy.elec_price),
                    "DetailSeviceMoney": money(kwh * policy.service_price),
                }
            )
        return out

    def totals(self, details: list[dict[str, Any]]) -> tuple[Decimal, Decimal, Decimal]:
        zero = Decimal("0.00")
        return (
            sum((d["DetailPower"] for d in details), zero),
            sum((d["DetailElecMoney"] for d in details), zero),
            sum((d["DetailSeviceMoney"] for d in details), zero),
        )

    def status_body(self, now: float) -> dict[str, Any]:
        """The shared body of query_equip_charge_status and notification_equip_charge_status."""
        details = self.charge_details()
        kwh, elec, service = self.totals(details)
        charging = self.stat == CHARGING and self.power_kw > 0
        voltage = (330.0 + 1.7 * self.soc if self.connector.is_dc else 220.0) if charging else 0.0
        current = self.power_kw * 1000.0 / voltage if charging else 0.0
        return {
            "StartChargeSeq": self.seq,
            "StartChargeSeqStat": self.stat,
            "ConnectorID": self.connector.id,
            "ConnectorStatus": self.connector.status,
            "CurrentA": round(current, 1),
            "VoltageA": round(voltage, 1),
            "Soc": round(self.soc, 1),
            "StartTime": fmt_time(self.started_at or self.created_at),
            "EndTime": fmt_time(self.ended_at or now),  # §5.9: the time of this sample
            "TotalPower": kwh,
            "ElecMoney": elec,
            "SeviceMoney": service,
            "TotalMoney": elec + service,
            "SumPeriod": len(details),
            "ChargeDetails": details,
        }

    def order_body(self) -> dict[str, Any]:
        """§5.11 notification_charge_order_info: TotalMoney is the sum of the two totals."""
        details = self.charge_details()
        kwh, elec, service = self.totals(details)
        return {
            "StartChargeSeq": self.seq,
            "ConnectorID": self.connector.id,
            "StartTime": fmt_time(self.started_at or self.created_at),
            "EndTime": fmt_time(self.ended_at or self.last_update),
            "TotalPower": kwh,
            "TotalElecMoney": elec,
            "TotalSeviceMoney": service,
            "TotalMoney": elec + service,
            "StopReason": self.stop_reason if self.stop_reason is not None else STOP_PLATFORM,
            "SumPeriod": len(details),
            "ChargeDetails": details,
        }


class SessionBook:
    """Every session the simulator has seen, keyed by StartChargeSeq (the idempotency key)."""

    def __init__(self) -> None:
        self.by_seq: dict[str, ChargeSession] = {}

    def get(self, seq: str) -> ChargeSession | None:
        return self.by_seq.get(seq)

    def add(self, session: ChargeSession) -> None:
        self.by_seq[session.seq] = session

    def active_on(self, connector_id: str) -> ChargeSession | None:
        for session in self.by_seq.values():
            if session.connector.id == connector_id and session.stat != ENDED:
                return session
        return None

    def active(self) -> list[ChargeSession]:
        return [s for s in self.by_seq.values() if s.stat != ENDED]

    def ended_on(self, day: date) -> list[ChargeSession]:
        return [s for s in self.by_seq.values() if s.ended_at is not None and _local_date(s.ended_at) == day]

    def energy_by_connector(self, start: date, end: date) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for s in self.by_seq.values():
            if s.ended_at is not None and start <= _local_date(s.ended_at) <= end:
                kwh = s.totals(s.charge_details())[0]
                out[s.connector.id] = out.get(s.connector.id, Decimal(0)) + kwh
        return out


def _local_date(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, SHANGHAI).date()
