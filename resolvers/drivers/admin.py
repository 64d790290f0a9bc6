"""Admin-scope fields (internal tooling): resolve a DISPUTED or held bill, refund a payment, read and
resolve what rail reconciliation found.

Only an API key with the ``admin`` scope may call them (checked before execution and again here);
the key's id is the actor in the ledger's audit trail and scopes the idempotency keys.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway import billing as b
from gateway.billing.admin import Resolution
from gateway.security.apikeys import Scope
from gateway.security.authz import principal_of
from resolvers import ids
from resolvers.charging import types as ct
from resolvers.charging.money_errors import MAX_KEY, money_error

ResolutionEnum: TypeAlias = Resolution  # strawberry.enum returns the class it registers
strawberry.enum(ResolutionEnum, name="DisputeResolution")
MISMATCHES_MAX = 500


@strawberry.type(
    description="A credit rail's order that disagrees with the ledger, found by reconciliation and "
    "kept until resolved (by a person with a note, or by reconciliation once it agrees again)."
)
class RailMismatch:
    id: strawberry.ID = strawberry.field(description="Global ID of the finding.")
    rail: str = strawberry.field(description="The rail: alipay or wechatpay.")
    reference: str = strawberry.field(description="The order's reference on the rail: the session's id.")
    kind: str = strawberry.field(
        description="AMOUNT, UNBOOKED_COLLECTION, MISSING_COLLECTION, PENDING, UNREACHABLE or "
        "COLLECTION_FAILED (every attempt failed: the bill stays UNPAID)."
    )
    ours: Decimal | None = strawberry.field(description="What the ledger booked as collected (CNY).")
    theirs: Decimal | None = strawberry.field(description="What the rail says it collected (CNY).")
    detail: str = strawberry.field(description="The rail's order state or error, for a person.")
    first_seen_at: datetime = strawberry.field(description="When reconciliation first found it.")
    last_seen_at: datetime = strawberry.field(description="When reconciliation last found it.")
    resolved_at: datetime | None = strawberry.field(description="When it was resolved; null while open.")
    resolved_by: str | None = strawberry.field(
        description="Who resolved it: admin:<key id>, or reconciliation when it went away by itself."
    )
    resolution: str | None = strawberry.field(description="The resolution's note (also in the audit trail).")


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else amount.quantize(Decimal("0.01"))  # the rails are CNY


def mismatch(record: b.MismatchRecord) -> RailMismatch:
    return RailMismatch(
        id=strawberry.ID(ids.encode("RailMismatch", record.id)), rail=record.rail, reference=record.reference,
        kind=record.kind, ours=_cents(record.ours), theirs=_cents(record.theirs), detail=record.detail,
        first_seen_at=record.first_seen_at, last_seen_at=record.last_seen_at, resolved_at=record.resolved_at,
        resolved_by=record.resolved_by, resolution=record.resolution,
    )  # fmt: skip


ResolveRailMismatchResult = Annotated[
    RailMismatch | ct.NotFound | ct.InvalidInput, strawberry.union("ResolveRailMismatchResult")
]


@strawberry.input(description="Close a rail mismatch with a note; resolving a resolved one changes nothing.")
class ResolveRailMismatchInput:
    mismatch_id: strawberry.ID = strawberry.field(description="The mismatch's global ID.")
    note: str = strawberry.field(description="What was done about it: kept in the ledger's audit trail.")


@strawberry.type
class Refund:
    id: strawberry.ID
    amount: ct.t.Money
    status: ct.PaymentStatus
    provider_reference: str | None


ResolveBillResult = Annotated[
    ct.Bill | ct.NotFound | ct.InvalidInput | ct.IdempotencyConflict, strawberry.union("ResolveBillResult")
]
RefundPaymentResult = Annotated[
    Refund | ct.NotFound | ct.InvalidInput | ct.PaymentDeclined | ct.IdempotencyConflict,
    strawberry.union("RefundPaymentResult"),
]


@strawberry.input
class ResolveBillInput:
    bill_id: strawberry.ID
    resolution: ResolutionEnum
    note: str = strawberry.field(description="Why: kept in the ledger's audit trail.")
    idempotency_key: str
    amount: Decimal | None = strawberry.field(default=None, description="The corrected total (CORRECTED).")


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    note: str = strawberry.field(description="Why: kept in the ledger's audit trail.")
    idempotency_key: str
    amount: Decimal | None = strawberry.field(default=None, description="Leave out to refund what is left.")


def _admin(info: Info) -> str:
    principal = principal_of(getattr(info.context, "request", None))
    if principal.key is None or not principal.allows(Scope.ADMIN):
        raise GraphQLError("this needs an API key with the admin scope", extensions={"code": "FORBIDDEN"})
    return f"admin:{principal.key.id}"


def _actor(info: Info, key: str) -> str:
    actor = _admin(info)
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise GraphQLError(f"idempotencyKey must be 1–{MAX_KEY} printable characters",
                           extensions={"code": "BAD_USER_INPUT"})  # fmt: skip
    return actor


def _native(global_id: str, kind: str) -> str | None:
    decoded = ids.decode(global_id)
    return decoded[1][0] if decoded and decoded[0] == kind and len(decoded[1]) == 1 else None


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        description="Admin: settle a DISPUTED bill, or one held for review past its cap, on a figure, "
        "with a note. Idempotent."
    )
    async def resolve_bill(self, info: Info, input: ResolveBillInput) -> ResolveBillResult:
        actor = _actor(info, input.idempotency_key)
        bill_id = _native(str(input.bill_id), "Bill")
        if bill_id is None:
            return ct.NotFound(message="no such bill")
        billing = info.context.runtime.sessions.billing
        result = await billing.resolve_bill(
            actor, input.idempotency_key, bill_id, input.resolution, input.amount, input.note
        )
        return ct.bill(result) if isinstance(result, b.BillRecord) else money_error(result)

    @strawberry.mutation(
        description="Admin: refund a settled payment in part or whole, with a note. Idempotent."
    )
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPaymentResult:
        actor = _actor(info, input.idempotency_key)
        payment_id = _native(str(input.payment_id), "Payment")
        if payment_id is None:
            return ct.NotFound(message="no such payment")
        billing = info.context.runtime.sessions.billing
        result = await billing.refund(actor, input.idempotency_key, payment_id, input.amount, input.note)
        if isinstance(result, b.RefundRecord):
            return Refund(
                id=ids.encode("Refund", result.id),
                amount=ct.ledger_money(result.amount, result.currency),
                status=result.status,
                provider_reference=result.provider_reference,
            )
        return money_error(result)

    @strawberry.mutation(
        description="Admin: resolve a rail reconciliation mismatch with a note (audited). Idempotent: "
        "a resolved mismatch is returned as it was resolved."
    )
    async def resolve_rail_mismatch(
        self, info: Info, input: ResolveRailMismatchInput
    ) -> ResolveRailMismatchResult:
        actor = _admin(info)
        mismatch_id = _native(str(input.mismatch_id), "RailMismatch")
        if mismatch_id is None:
            return ct.NotFound(message="no such mismatch")
        billing = info.context.runtime.sessions.billing
        result = await billing.resolve_rail_mismatch(actor, mismatch_id, input.note)
        return mismatch(result) if isinstance(result, b.MismatchRecord) else money_error(result)


@strawberry.type
class AdminQuery:
    @strawberry.field(
        description="Admin: what rail reconciliation found (chargegate ledger rails shows the same), the "
        "most recently seen first."
    )
    async def rail_mismatches(
        self,
        info: Info,
        open: Annotated[bool, strawberry.argument(description="Only those not resolved yet.")] = True,
        first: Annotated[
            int, strawberry.argument(description=f"At most this many (1–{MISMATCHES_MAX}).")
        ] = 50,
    ) -> list[RailMismatch]:
        _admin(info)
        if not 1 <= first <= MISMATCHES_MAX:
            raise GraphQLError(f"first must be 1–{MISMATCHES_MAX}", extensions={"code": "BAD_USER_INPUT"})
        billing = info.context.runtime.sessions.billing
        return [mismatch(r) for r in await billing.rail_mismatches(open, first)]
