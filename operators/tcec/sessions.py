"""T/CEC charging sessions ↔ domain: StartChargeSeq derivation, phases, progress and final orders.

**StartChargeSeq** (§4, §5.7) is our OperatorID plus 18 characters, and it is the operator's
idempotency key for a start. The gateway's session refs are 18 digits (see
:mod:`gateway.charging.ids`), so the seq is simply our OperatorID + the ref: stateless both ways,
which survives restarts and works on every replica. Any other ref is hashed to 18 digits (the same
ref always yields the same seq, so a retried start never opens a second session) and mapped back
through :class:`SessionSeqs`, a bounded in-memory memo filled whenever the adapter derives a seq.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from operators.domain import (
    ConnectorStatus,
    FinalOrder,
    OrderLine,
    SessionPhase,
    SessionProgress,
)
from operators.tcec.fields import (
    field_decimal,
    field_float,
    field_str,
    int_or_none,
    objects,
    optional_datetime,
    parse_datetime,
)
from operators.tcec.mapping import CURRENCY, parse_connector_status

SEQ_SUFFIX_DIGITS = 18


def start_charge_seq(our_operator_id: str, session_ref: str) -> str:
    """Our OperatorID + the 18-digit ref, or + 18 digits of SHA-256(ref): deterministic, 27 chars (§4)."""
    if _is_plain_ref(session_ref):
        return f"{our_operator_id}{session_ref}"
    digest = int.from_bytes(hashlib.sha256(session_ref.encode("utf-8")).digest(), "big")
    return f"{our_operator_id}{digest % 10**SEQ_SUFFIX_DIGITS:0{SEQ_SUFFIX_DIGITS}d}"


class SessionSeqs:
    """session_ref → StartChargeSeq (pure) and back (a bounded memo of the refs we derived)."""

    def __init__(self, our_operator_id: str, capacity: int = 100_000) -> None:
        self._our_operator_id = our_operator_id
        self._capacity = capacity
        self._refs: OrderedDict[str, str] = OrderedDict()

    def seq_for(self, session_ref: str) -> str:
        seq = start_charge_seq(self._our_operator_id, session_ref)
        self._refs[seq] = session_ref
        self._refs.move_to_end(seq)
        while len(self._refs) > self._capacity:
            self._refs.popitem(last=False)
        return seq

    def ref_for(self, seq: str) -> str | None:
        ref = self._refs.get(seq)
        if ref is None and seq.startswith(self._our_operator_id):
            suffix = seq[len(self._our_operator_id) :]
            ref = suffix if _is_plain_ref(suffix) else None
        return ref


def _is_plain_ref(ref: str) -> bool:
    return len(ref) == SEQ_SUFFIX_DIGITS and ref.isascii() and ref.isdigit()


# §6 StartChargeSeqStat. 5 ("unknown") is not here on purpose: see parse_phase.
SESSION_PHASES: Mapping[int, SessionPhase] = MappingProxyType(
    {
        1: SessionPhase.STARTING,
        2: SessionPhase.CHARGING,
        3: SessionPhase.STOPPING,
        4: SessionPhase.COMPLETED,
    }
)

# §6 StopReason; 5–99 are partner-defined and become CUSTOM_<n>.
STOP_REASONS: Mapping[int, str] = MappingProxyType(
    {0: "USER", 1: "AGGREGATOR", 2: "BMS", 3: "CHARGER_FAULT", 4: "DISCONNECTED"}
)


def parse_phase(value: object, *, fallback: SessionPhase) -> SessionPhase:
    """StartChargeSeqStat → phase; 5 ("unknown") and unlisted values give ``fallback``.

    The caller picks the fallback from context, because "unknown" means different things: in a
    start result (§5.8: "4/5 on failure") it is FAILED; after an accepted start command it is still
    STARTING; in a live status it is whatever the connector itself shows (see parse_progress).
    """
    code = int_or_none(value)
    return SESSION_PHASES.get(code, fallback) if code is not None else fallback


def parse_stop_reason(value: object) -> str | None:
    code = int_or_none(value)
    if code is None:
        return None
    return STOP_REASONS.get(code, f"CUSTOM_{code}")


# §5.7 / §5.10 FailReason of a start or stop command; 3 exists only for stop. Others are custom.
START_FAIL_REASONS: Mapping[int, str] = MappingProxyType({1: "device does not exist", 2: "device offline"})
STOP_FAIL_REASONS: Mapping[int, str] = MappingProxyType({**START_FAIL_REASONS, 3: "already stopped"})
ALREADY_STOPPED = 3


def command_failure(data: Mapping[str, Any], *, stop: bool) -> str | None:
    """Why a start/stop reply (or stop-result push) failed, or None when it succeeded.

    A stop that fails because the session already stopped (FailReason 3) counts as success.
    """
    if int_or_none(data.get("SuccStat")) == 0:
        return None
    code = int_or_none(data.get("FailReason"))
    if stop and code == ALREADY_STOPPED:
        return None
    reason = (STOP_FAIL_REASONS if stop else START_FAIL_REASONS).get(code) if code is not None else None
    return reason or f"FailReason {data.get('FailReason')!r}"


def parse_command_reply(
    data: Mapping[str, Any], session_ref: str, connector_id: str, *, stop: bool
) -> SessionProgress:
    """An accepted §5.7 start or §5.10 stop reply: normally STARTING or STOPPING.

    An unknown stat (5) keeps the command's phase, except for a stop refused as "already stopped"
    (FailReason 3), which is COMPLETED unless the reply says otherwise.
    """
    accepted = int_or_none(data.get("SuccStat")) == 0
    if stop:
        fallback = SessionPhase.STOPPING if accepted else SessionPhase.COMPLETED
    else:
        fallback = SessionPhase.STARTING
    return SessionProgress(
        session_ref=session_ref,
        connector_id=str(data.get("ConnectorID") or connector_id),
        phase=parse_phase(data.get("StartChargeSeqStat"), fallback=fallback),
    )


def parse_start_result(data: Mapping[str, Any], session_ref: str) -> SessionProgress:
    """A §5.8 start-result push: 2 is CHARGING; 4 and 5 mean the start failed (FAILED)."""
    stat = int_or_none(data.get("StartChargeSeqStat"))
    failed = stat not in (1, 2, 3)
    ident = data.get("IdentCode")
    return SessionProgress(
        session_ref=session_ref,
        connector_id=field_str(data, "ConnectorID"),
        phase=SessionPhase.FAILED if failed else parse_phase(stat, fallback=SessionPhase.FAILED),
        started_at=optional_datetime(data, "StartTime"),
        failure=f"start failed (StartChargeSeqStat {stat}, IdentCode {ident!r})" if failed else None,
    )


def parse_stop_result(data: Mapping[str, Any], session_ref: str) -> SessionProgress:
    """A §5.10 stop-result push: normally COMPLETED; a failed stop keeps the reported stat."""
    failure = command_failure(data, stop=True)
    ok = failure is None
    return SessionProgress(
        session_ref=session_ref,
        connector_id=field_str(data, "ConnectorID"),
        phase=parse_phase(
            data.get("StartChargeSeqStat"), fallback=SessionPhase.COMPLETED if ok else SessionPhase.CHARGING
        ),
        failure=None if ok else f"stop failed: {failure}",
    )


def parse_progress(data: Mapping[str, Any], session_ref: str) -> SessionProgress:
    """A §5.9 charge status (query response or push) → SessionProgress.

    Stat 5 ("unknown") follows the connector: CHARGING while it reports 3, else STARTING.
    ``EndTime`` is the time of the sample (§5.9), so it becomes ``updated_at``, not ``ended_at``.
    """
    charging = parse_connector_status(data.get("ConnectorStatus", 0)) is ConnectorStatus.CHARGING
    fallback = SessionPhase.CHARGING if charging else SessionPhase.STARTING
    return SessionProgress(
        session_ref=session_ref,
        connector_id=field_str(data, "ConnectorID"),
        phase=parse_phase(data.get("StartChargeSeqStat"), fallback=fallback),
        energy_kwh=field_decimal(data, "TotalPower", Decimal("0")),
        cost=_session_cost(data),
        power_kw=_power_kw(data),
        # §5.9: Soc defaults to 0 when the pile does not know it (AC piles never do).
        soc=field_float(data, "Soc", 0.0) or None,
        started_at=optional_datetime(data, "StartTime"),
        updated_at=optional_datetime(data, "EndTime"),
    )


def _session_cost(data: Mapping[str, Any]) -> Decimal | None:
    if data.get("TotalMoney") is not None:
        return field_decimal(data, "TotalMoney")
    if data.get("ElecMoney") is None and data.get("SeviceMoney") is None:
        return None
    return field_decimal(data, "ElecMoney", Decimal("0")) + field_decimal(data, "SeviceMoney", Decimal("0"))


def _power_kw(data: Mapping[str, Any]) -> float | None:
    # §5.9: phase A carries the DC output too; B and C are absent on DC and single-phase piles.
    watts = sum(field_float(data, f"Voltage{p}", 0.0) * field_float(data, f"Current{p}", 0.0) for p in "ABC")
    return round(watts / 1000, 1) if watts > 0 else None


def parse_order(data: Mapping[str, Any], session_ref: str) -> FinalOrder:
    """A §5.11 charge order → FinalOrder: an ENERGY and a SERVICE line per ChargeDetail.

    Without ChargeDetails the two lines come from the totals.
    """
    lines: list[OrderLine] = []
    for detail in objects(data, "ChargeDetails"):
        start, end = optional_datetime(detail, "DetailStartTime"), optional_datetime(detail, "DetailEndTime")
        energy = field_decimal(detail, "DetailPower", Decimal("0"))
        for kind, money, price in (
            ("ENERGY", "DetailElecMoney", "ElecPrice"),
            ("SERVICE", "DetailSeviceMoney", "SevicePrice"),
        ):
            lines.append(
                OrderLine(
                    kind=kind,
                    amount=field_decimal(detail, money, Decimal("0")),
                    start=start,
                    end=end,
                    energy_kwh=energy,
                    unit_price=field_decimal(detail, price) if detail.get(price) is not None else None,
                )
            )
    energy = field_decimal(data, "TotalPower")
    if not lines:
        lines = [
            OrderLine("ENERGY", field_decimal(data, "TotalElecMoney", Decimal("0")), energy_kwh=energy),
            OrderLine("SERVICE", field_decimal(data, "TotalSeviceMoney", Decimal("0")), energy_kwh=energy),
        ]
    return FinalOrder(
        session_ref=session_ref,
        connector_id=field_str(data, "ConnectorID"),
        currency=CURRENCY,
        started_at=parse_datetime(data.get("StartTime")),
        ended_at=parse_datetime(data.get("EndTime")),
        energy_kwh=energy,
        total=field_decimal(data, "TotalMoney"),
        lines=tuple(lines),
        stop_reason=parse_stop_reason(data.get("StopReason")),
    )
