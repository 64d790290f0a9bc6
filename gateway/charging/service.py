"""The session service: start, stop and follow charging sessions, and bill them exactly once.

Rules that keep money safe:
- The session row (with the driver's idempotency key) is written *before* the operator is called;
  the same key returns the same session and never calls the operator twice.
- Operator reports are merged monotonically by the ledger; every inbound push is stored in the
  inbox before it is applied and acknowledged, and a redelivered final order creates no second bill.
- A timeout on start leaves the session STARTING: the operator may have started it, so the
  reconciliation loop asks the operator instead of guessing.
- Every money decision (the credit check and reservation at start, the bill, its settlement) is the
  billing service's (:mod:`gateway.billing`); this service only tells it what happened.
- A capped session is stopped before its next report could pass the cap (:mod:`.caps`, :mod:`.watch`).
- COMPLETED means ended *and billed*: when the operator reports the end, the session stays STOPPING
  (with ``ended_at``) until its final order is booked, and then shows the billed energy and cost.
- Every ended session says why (``end_reason``), set once by whichever end is recorded first.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from gateway.billing import BillingService, KeyConflict, SessionStart
from gateway.catalogue.stations import Catalogue
from gateway.charging import ending
from gateway.charging.broker import SessionBroker
from gateway.charging.ids import new_session_id
from gateway.charging.watch import CapWatch
from gateway.clock import bounded_order, bounded_progress, utc_now
from gateway.currency import limit_to_minor
from gateway.rails.bureau.decision import Denied, PaymentMode
from gateway.settings.sections import LedgerSettings
from gateway.store import Page, SessionClose, SessionEndReason, SessionRecord, Store, progress_fields
from gateway.store.codec import tariff_to_json
from gateway.store.quotes import QuoteRecord
from operators.base import Operator, OperatorError, OperatorRejected, OperatorTimeout
from operators.domain import (
    Capability,
    ConnectorStatus,
    Dispute,
    FinalOrder,
    Reconciliation,
    SessionPhase,
    SessionProgress,
)

log = logging.getLogger(__name__)

STARTABLE = frozenset({ConnectorStatus.AVAILABLE, ConnectorStatus.OCCUPIED})
LIVE = (SessionPhase.STARTING, SessionPhase.CHARGING, SessionPhase.STOPPING)
ENERGY_TOLERANCE_KWH = Decimal("0.01")  # T/CEC energy has two decimals (§4)


@dataclass(frozen=True, slots=True)
class Refused:
    """An expected refusal: ``kind`` is the GraphQL error type (ConnectorUnavailable, NotFound, …)."""

    kind: str
    message: str
    operator_id: str | None = None


StartOutcome = SessionRecord | Denied | Refused | KeyConflict


class SessionService:
    def __init__(
        self,
        store: Store,
        catalogue: Catalogue,
        operators: dict[str, Operator],
        billing: BillingService,
        settings: LedgerSettings,
        currency: str,
    ) -> None:
        self.store = store
        self.broker = SessionBroker()
        self._catalogue = catalogue
        self._operators = operators
        self.billing = billing
        self._settings = settings
        self.currency = currency
        self._stopping: set[str] = set()
        self._watch = CapWatch(self._check_limits, settings.progress_poll_s)

    async def aclose(self) -> None:
        """Stop watching capped sessions (the reconciliation loop resumes them after a restart)."""
        await self._watch.aclose()

    # -- commands ------------------------------------------------------------------------------

    async def start(
        self,
        driver_id: str,
        operator_id: str,
        connector_id: str,
        idempotency_key: str,
        requested_mode: PaymentMode | None = None,
        max_cost: Decimal | None = None,
        max_energy_kwh: Decimal | None = None,
        quote: QuoteRecord | None = None,
    ) -> StartOutcome:
        """``quote``, already checked usable (:mod:`gateway.billing.quoting`), gives the session its tariff
        snapshot, so the bill is computed from the quoted prices."""
        request = SessionStart(
            operator_id, connector_id, None, self.currency, None, new_session_id(), requested_mode, max_cost,
            max_energy_kwh, quote.id if quote else None,
        )  # fmt: skip
        existing = await self.billing.started(driver_id, idempotency_key, request)
        if existing is not None:
            return existing  # the same key never starts a second session (another request: a conflict)
        found = self._catalogue.connector(operator_id, connector_id)
        op = self._operators.get(operator_id)
        if found is None or op is None:
            return Refused("NotFound", "no such connector")
        station, _ = found
        if Capability.REMOTE_START_STOP not in op.info.capabilities:
            return Refused("ConnectorUnavailable", "this operator does not support remote start")
        try:
            states, tariffs = await asyncio.gather(
                op.connector_statuses([station.id]), op.tariffs([connector_id])
            )
        except OperatorError as exc:
            return Refused("OperatorUnavailable", exc.message, operator_id)
        state = states.get(connector_id)
        if state is None or state.status not in STARTABLE:
            status = state.status.value if state else "UNKNOWN"
            return Refused("ConnectorUnavailable", f"the connector is {status}, not ready to charge")
        tariff = tariffs.get(connector_id)
        request = replace(request, station_id=station.id)
        if quote is not None:
            request = replace(request, currency=quote.currency, tariff_json=quote.tariff_json)
        elif tariff is not None:
            request = replace(request, currency=tariff.currency, tariff_json=tariff_to_json(tariff))
        opened = await self.billing.open_session(driver_id, idempotency_key, request)
        if not isinstance(opened, tuple):
            return opened  # denied, or the key was used for another request meanwhile
        session, created = opened
        if quote is not None and not await self.store.claim_quote(quote.id, session.id):
            await self._fail(session, "the quote was used by another session")  # a race for one quote
            return Refused("QuoteUsed", "the quote was used by another session")
        if not created:
            return session  # a concurrent request with the same key won the race
        await self.store.add_session_event(
            session.id, "START_REQUESTED", {"mode": session.payment_mode.value}
        )
        try:
            progress = await op.start_session(session.id, connector_id)
        except OperatorTimeout:
            log.warning("start of session %s timed out; reconciliation will ask %s", session.id, operator_id)
            return session
        except OperatorRejected as exc:
            await self._fail(session, exc.message)
            return Refused("ConnectorUnavailable", exc.message, operator_id)
        except OperatorError as exc:
            await self._fail(session, exc.message)
            return Refused("OperatorUnavailable", exc.message, operator_id)
        return await self.apply_progress(operator_id, progress) or session

    async def stop(self, driver_id: str, session_id: str) -> SessionRecord | Refused:
        session = await self.store.get_session_for_driver(driver_id, session_id)
        if session is None:
            return Refused("NotFound", "no such charging session")
        if session.terminal or session.ended_at is not None:
            return session  # ended already (perhaps awaiting its final order)
        return await self._stop(session, SessionEndReason.DRIVER_STOP)

    async def _stop(self, session: SessionRecord, reason: SessionEndReason) -> SessionRecord | Refused:
        op = self._operators.get(session.operator_id)
        if op is None:
            return Refused("OperatorUnavailable", "operator not configured", session.operator_id)
        # Written first: the operator's end (even its final order) may arrive before its reply.
        await self.store.add_session_event(session.id, "STOP_REQUESTED", {"reason": reason.value})
        try:
            progress = await op.stop_session(session.id, session.connector_id)
        except OperatorError as exc:
            await self.store.add_session_event(session.id, "STOP_REFUSED", {"error": exc.message})
            return Refused("OperatorUnavailable", exc.message, session.operator_id)
        return await self.apply_progress(session.operator_id, progress, end_reason=reason) or session

    async def _requested_end(self, session_id: str) -> SessionEndReason | None:
        """Why the gateway last asked the operator to end the session, unless that was refused."""
        for event in reversed(await self.store.session_events(session_id)):
            if event.kind == "STOP_REFUSED":
                return None
            if event.kind == "STOP_REQUESTED" and isinstance(event.data, dict) and "reason" in event.data:
                return SessionEndReason(event.data["reason"])
        return None

    async def _fail(self, session: SessionRecord, reason: str) -> None:
        updated = await self.store.apply_progress(
            session.id, status=SessionPhase.FAILED, failure=reason, end_reason=SessionEndReason.START_FAILED
        )
        await self.billing.release(session.id)
        if updated:
            self.broker.publish(updated)

    async def session_for(self, driver_id: str, session_id: str) -> SessionRecord | None:
        """The session if it is this driver's; None otherwise (callers cannot probe others' ids)."""
        return await self.store.get_session_for_driver(driver_id, session_id)

    async def history(self, driver_id: str, first: int, after: str | None) -> Page[SessionRecord]:
        """The driver's sessions, newest first; raises ``InvalidCursor`` for a foreign ``after``."""
        return await self.store.list_sessions(driver_id, first, after)

    # -- what operators report -----------------------------------------------------------------

    async def apply_progress(
        self, operator_id: str, progress: SessionProgress, end_reason: SessionEndReason | None = None
    ) -> SessionRecord | None:
        """Merge an operator's report; ``end_reason`` when the gateway itself asked for the end."""
        session = await self.store.get_session(progress.session_ref)
        if session is None or session.operator_id != operator_id:
            log.warning("progress for unknown session %s from %s ignored", progress.session_ref, operator_id)
            return None
        fields = progress_fields(bounded_progress(progress, utc_now()))
        if progress.cost is not None:
            fields["cost"] = progress.cost.quantize(Decimal("0.0001"))
        if progress.phase is SessionPhase.COMPLETED:
            # Ended, not yet billed: COMPLETED waits for the final order (apply_order).
            fields["status"] = SessionPhase.STOPPING
            fields["ended_at"] = fields["ended_at"] or utc_now()
        elif progress.phase is SessionPhase.FAILED:
            end_reason = end_reason or ending.of_failure(session)
        updated = await self.store.apply_progress(session.id, **fields, end_reason=end_reason)
        if updated is None:
            return None
        if updated.status is SessionPhase.FAILED:
            await self.billing.release(session.id)  # no bill will come: free what it reserved
        if updated.version != session.version:
            self.broker.publish(updated)
        await self._enforce_limits(session, updated)
        return updated

    async def _enforce_limits(self, before: SessionRecord, session: SessionRecord) -> None:
        """Stop a session before its next report could pass its cap, budget or energy limit."""
        if session.status is not SessionPhase.CHARGING or session.id in self._stopping:
            self._watch.forget(session.id)
            return
        found = self._catalogue.connector(session.operator_id, session.connector_id)
        decided = self._watch.observe(before, session, found[1].max_power_kw if found else None)
        if decided.stop is None:
            return
        self._stopping.add(session.id)
        self._watch.forget(session.id)
        reason = await self._limit_reason(session, decided.stop)
        log.info("stopping session %s before it passes its limit: %s", session.id, reason.value)
        await self.store.add_session_event(session.id, "LIMIT_REACHED", {"limit": reason.value})
        outcome = await self._stop(session, reason)
        if isinstance(outcome, Refused):
            self._stopping.discard(session.id)  # try again on the next report

    async def _limit_reason(self, session: SessionRecord, limit: str) -> SessionEndReason:
        if limit == "energy":
            return SessionEndReason.ENERGY_LIMIT
        if session.payment_mode is PaymentMode.PREPAID and session.max_cost is not None:
            balance = await self.store.wallet_balance(session.driver_id, session.currency)
            if session.max_cost >= limit_to_minor(balance, session.currency):
                return SessionEndReason.BALANCE  # the wallet, not a lower maxCost of the driver's
        return SessionEndReason.COST_CAP

    async def _check_limits(self, session_id: str) -> None:
        """The cap watch's check: the operator's state of the session now, observed as a report."""
        session = await self.store.get_session(session_id)
        op = self._operators.get(session.operator_id) if session else None
        if session is None or op is None or session.status is not SessionPhase.CHARGING:
            self._watch.forget(session_id)
            return
        try:
            progress = await op.session_status(session_id)
        except OperatorError as exc:
            log.info("cap check of %s: %s", session_id, exc.message)
            await self._enforce_limits(session, session)  # plan again from the projection
            return
        await self.apply_progress(session.operator_id, progress)

    async def apply_order(self, operator_id: str, order: FinalOrder, raw: str) -> None:
        """Record the final order, bill it once, settle prepaid bills from the wallet.

        Raises LookupError for a session we do not know, so the operator re-sends the order later.
        """
        inbox, _ = await self.store.record_inbound(operator_id, "final_order", order.session_ref, raw)
        if inbox.applied_at is not None:
            return  # a redelivery of an order already billed
        session = await self.store.get_session(order.session_ref)
        if session is None or session.operator_id != operator_id:
            raise LookupError(f"final order for unknown session {order.session_ref}")
        order = bounded_order(order, utc_now())
        reason = await self._requested_end(session.id) or ending.from_operator(order.stop_reason)
        fault = f"the operator ended it: {order.stop_reason}" if reason is SessionEndReason.FAULT else None
        close = SessionClose(order.energy_kwh, order.started_at, order.ended_at, reason, fault)
        booking = await self.billing.settle(session, order, close)  # the session shows what it was billed
        bill, updated = booking.bill, booking.session
        await self.store.add_session_event(session.id, "BILLED", {"bill": bill.id, "total": str(bill.total)})
        await self.store.mark_applied(inbox.id)
        self._stopping.discard(session.id)
        if updated:
            self.broker.publish(updated)

    async def check_orders(self, operator_id: str, request: Reconciliation) -> tuple[Dispute, ...]:
        """Compare the operator's orders for a period with our bills; what we dispute, and why."""
        refs = [o.session_ref for o in request.orders if o.session_ref]
        bills = await self.store.bills_for_sessions(refs)
        disputes = []
        for order in request.orders:
            ref = order.session_ref
            bill = bills.get(ref) if ref else None
            session = await self.store.get_session(ref) if ref and bill else None
            if bill is None or session is None or session.operator_id != operator_id:
                disputes.append(Dispute(order.operator_ref, "NOT_FOUND", Decimal(0), Decimal(0)))
            elif bill.operator_total != order.total:
                disputes.append(Dispute(order.operator_ref, "MONEY", session.energy_kwh, bill.operator_total))
            elif abs(session.energy_kwh - order.energy_kwh) > ENERGY_TOLERANCE_KWH:
                disputes.append(
                    Dispute(order.operator_ref, "ENERGY", session.energy_kwh, bill.operator_total)
                )
        if disputes:
            log.warning("reconciliation with %s: %d of %d orders disputed", operator_id, len(disputes),
                        len(request.orders))  # fmt: skip
        return tuple(disputes)

    # -- background duties ---------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Ask the operators about every session not yet finished (after a restart, or quiet pushes)."""
        for session in await self.store.sessions_in_states(LIVE):
            op = self._operators.get(session.operator_id)
            if op is None:
                continue
            try:
                progress = await op.session_status(session.id)
            except OperatorError as exc:
                log.info("reconcile %s: %s", session.id, exc.message)
                continue
            await self.apply_progress(session.operator_id, progress)

    async def run(self) -> None:
        """Reconcile now and then every ``progress_poll_s``; mark overdue bills; until cancelled."""
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await self.reconcile()
            await self.billing.reconcile_payments()
            if loop.time() - last_sweep >= self._settings.overdue_sweep_s or last_sweep == 0.0:
                marked = await self.store.mark_overdue(datetime.now(UTC))
                if marked:
                    log.info("%d bills are now overdue", marked)
                last_sweep = loop.time()
            await asyncio.sleep(self._settings.progress_poll_s)


def order_raw(order: FinalOrder) -> str:
    """A faithful JSON record of a final order for the inbox (the adapter has verified its origin)."""
    return json.dumps(
        {
            "session": order.session_ref,
            "connector": order.connector_id,
            "currency": order.currency,
            "start": order.started_at.isoformat(),
            "end": order.ended_at.isoformat(),
            "energy": str(order.energy_kwh),
            "total": str(order.total),
            "lines": [[line.kind, str(line.amount)] for line in order.lines],
            "stop": order.stop_reason,
        },
        ensure_ascii=False,
    )
