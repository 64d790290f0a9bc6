"""The billing service's refusals as the GraphQL error types every money mutation shares."""

from __future__ import annotations

from gateway import billing as b
from resolvers.charging import types as ct

MAX_KEY = 128


def invalid_amount(amount: b.InvalidAmount) -> ct.InvalidInput:
    return ct.InvalidInput(message=amount.message, field=amount.field)


def conflict(key: str) -> ct.IdempotencyConflict:
    return ct.IdempotencyConflict(
        message=f"idempotencyKey {key!r} was used before with a different input; nothing was done"
    )


def money_error(refusal: b.Refusal) -> ct.Bill | ct.NotFound | ct.InsufficientFunds | ct.PaymentDeclined:
    """A billing refusal as its GraphQL error type."""
    if isinstance(refusal, b.KeyConflict):
        return conflict(refusal.key)  # type: ignore[return-value]
    if isinstance(refusal, b.InvalidAmount):
        return invalid_amount(refusal)  # type: ignore[return-value]
    if isinstance(refusal, b.NotPayable):
        return ct.InvalidInput(message=refusal.message, field=refusal.field)  # type: ignore[return-value]
    if isinstance(refusal, b.Insufficient):
        return ct.InsufficientFunds(
            message="the wallet does not cover this bill: top up or pay with the provider",
            balance=ct.ledger_money(refusal.available, refusal.currency),
            required=ct.ledger_money(refusal.required, refusal.currency),
        )
    if isinstance(refusal, b.Declined):
        return ct.PaymentDeclined(message=refusal.message)
    return ct.NotFound(message=getattr(refusal, "message", "not found"))
