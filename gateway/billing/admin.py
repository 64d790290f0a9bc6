"""Internal tooling on the billing service: resolve a DISPUTED or held bill, refund a payment.

Both are idempotent per (admin key, idempotency key) and bound to their input, and both leave a row
in the ledger's audit log (who, what, which bill or payment, the note, before and after).
"""

from __future__ import annotations

import enum
from decimal import Decimal

from gateway.billing import amounts
from gateway.billing.outcomes import Declined, NotFound, NotPayable
from gateway.billing.rails import RailBilling
from gateway.billing.requests import request_hash
from gateway.rails.port import CreditRail, RailError, RailUnavailable
from gateway.store import BillRecord, KeyConflict, PaymentStatus, RefundRecord, Store
from gateway.store.mismatches import MismatchRecord

MAX_NOTE = 500


class Resolution(enum.Enum):
    """Which figure a resolved dispute settles on."""

    OPERATOR = "OPERATOR"  # what the operator billed
    OURS = "OURS"  # our recomputation from the tariff quoted at start
    CORRECTED = "CORRECTED"  # an amount given with the resolution


class AdminOperations:
    """Mixed into :class:`~gateway.billing.service.BillingService`."""

    store: Store
    currency: str
    rails: RailBilling | None
    _card: CreditRail

    async def resolve_bill(
        self, actor: str, key: str, bill_id: str, resolution: Resolution, amount: Decimal | None, note: str
    ) -> BillRecord | NotFound | NotPayable | KeyConflict | amounts.InvalidAmount:
        if not note.strip() or len(note) > MAX_NOTE:
            return amounts.InvalidAmount("note", f"note must say why, in 1–{MAX_NOTE} characters")
        bill = await self.store.get_bill(bill_id)
        if bill is None:
            return NotFound("no such bill")
        if resolution is Resolution.CORRECTED:
            if amount is None:
                return amounts.InvalidAmount("amount", "a CORRECTED resolution needs the amount")
            if invalid := amounts.check(amount, "amount", upper=amounts.MAX_COST, currency=bill.currency):
                return invalid
            total = amount
        elif resolution is Resolution.OURS:
            if bill.recomputed_total is None:
                return NotPayable("this bill has no recomputed total: resolve it with OPERATOR or CORRECTED")
            total = bill.recomputed_total
        else:
            total = bill.operator_total
        digest = request_hash("resolve", bill_id, resolution.value, amounts.normal(amount), note)
        result = await self.store.resolve_bill(actor, key, digest, bill_id, total, note)
        if result is None:
            return NotFound("no such bill")
        if isinstance(result, str):
            return NotPayable(result)
        if isinstance(result, KeyConflict):  # the key was used for another request: nothing to collect
            return result
        if self.rails is not None:
            await self.rails.collect_resolved(result)  # a credit rail collects the resolved amount
            result = await self.store.get_bill(bill_id) or result
        return result

    async def refund(
        self, actor: str, key: str, payment_id: str, amount: Decimal | None, note: str
    ) -> RefundRecord | NotFound | NotPayable | Declined | KeyConflict | amounts.InvalidAmount:
        """Refund ``amount`` of a settled bill payment (None: all that is left), to where it came from."""
        if not note.strip() or len(note) > MAX_NOTE:
            return amounts.InvalidAmount("note", f"note must say why, in 1–{MAX_NOTE} characters")
        if invalid := amounts.check(amount, "amount", upper=amounts.MAX_COST, currency=self.currency):
            return invalid
        digest = request_hash("refund", payment_id, amounts.normal(amount), note)
        refund = await self.store.begin_refund(actor, key, digest, payment_id, amount, note)
        if refund is None:
            return NotFound("no such payment")
        if isinstance(refund, str):
            return NotPayable(refund, field="amount")
        if isinstance(refund, KeyConflict) or refund.status is not PaymentStatus.PENDING:
            return refund
        payment = await self.store.get_payment(payment_id)
        assert payment is not None and payment.provider_reference is not None
        try:
            reference = await self.rails.refund(payment, refund.id, refund.amount) if self.rails else None
            if reference is None:  # a card payment: its order is named by the payment's id
                await self._card.refund(payment.id, refund.id, refund.amount, note)
                reference = f"{self._card.name}:{refund.id}"
        except RailUnavailable as exc:  # it may have been refunded: the same key retries it, once
            return Declined(f"the payment rail did not answer ({exc}); retry with the same key")
        except RailError as exc:
            await self.store.finish_refund(refund.id, None)
            return Declined(str(exc))
        return await self.store.finish_refund(refund.id, reference)

    async def rail_mismatches(self, open_only: bool = True, limit: int = 100) -> list[MismatchRecord]:
        """What rail reconciliation found and kept, the most recently seen first."""
        return await self.store.mismatches(open_only, limit)

    async def resolve_rail_mismatch(
        self, actor: str, mismatch_id: str, note: str
    ) -> MismatchRecord | NotFound | amounts.InvalidAmount:
        """Close a mismatch with a note (audited); resolving a resolved one changes nothing."""
        if not note.strip() or len(note) > MAX_NOTE:
            return amounts.InvalidAmount("note", f"note must say what was done (1–{MAX_NOTE} characters)")
        found = await self.store.resolve_mismatch(actor, mismatch_id, note)
        return NotFound("no such mismatch") if found is None else found
