"""Admin-scope mutations (internal tooling): resolve a DISPUTED or held bill, refund a payment.

Only an API key with the ``admin`` scope may call them (checked before execution and again here);
the key's id is the actor in the ledger's audit trail and scopes the idempotency keys.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway import billing as b
from gateway.billing.admin import Resolution
from gateway.security.apikeys import Scope
from gateway.security.authz import principal_of
from resolvers import charging_types as ct
from resolvers import ids
from resolvers.money_errors import MAX_KEY, money_error

ResolutionEnum = strawberry.enum(Resolution, name="DisputeResolution")


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
    resolution: ResolutionEnum  # type: ignore[valid-type]
    note: str = strawberry.field(description="Why: kept in the ledger's audit trail.")
    idempotency_key: str
    amount: Decimal | None = strawberry.field(default=None, description="The corrected total (CORRECTED).")


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    note: str = strawberry.field(description="Why: kept in the ledger's audit trail.")
    idempotency_key: str
    amount: Decimal | None = strawberry.field(default=None, description="Leave out to refund what is left.")


def _actor(info: Info, key: str) -> str:
    principal = principal_of(getattr(info.context, "request", None))
    if principal.key is None or not principal.allows(Scope.ADMIN):
        raise GraphQLError("this needs an API key with the admin scope", extensions={"code": "FORBIDDEN"})
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise GraphQLError(f"idempotencyKey must be 1–{MAX_KEY} printable characters",
                           extensions={"code": "BAD_USER_INPUT"})  # fmt: skip
    return f"admin:{principal.key.id}"


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
        return ct.bill(result) if isinstance(result, b.BillRecord) else money_error(result)  # type: ignore[return-value]

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
        return money_error(result)  # type: ignore[return-value]
