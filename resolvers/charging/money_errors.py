"""The billing service's refusals as the GraphQL error types every money mutation shares."""

from __future__ import annotations

from typing import overload

from gateway import billing as b
from resolvers.charging import types as ct

MAX_KEY = 128
MoneyError = (
    ct.IdempotencyConflict | ct.InvalidInput | ct.InsufficientFunds | ct.PaymentDeclined | ct.NotFound
)


def invalid_amount(amount: b.InvalidAmount) -> ct.InvalidInput:
    return ct.InvalidInput(message=amount.message, field=amount.field)


def conflict(key: str) -> ct.IdempotencyConflict:
    return ct.IdempotencyConflict(
        message=f"idempotencyKey {key!r} was used before with a different input; nothing was done"
    )


# One overload per refusal: a caller passing the refusals its service call can answer gets the
# union of their GraphQL types, which its result union must hold.
@overload
def money_error(refusal: b.KeyConflict) -> ct.IdempotencyConflict: ...
@overload
def money_error(refusal: b.InvalidAmount | b.NotPayable) -> ct.InvalidInput: ...
@overload
def money_error(refusal: b.Insufficient) -> ct.InsufficientFunds: ...
@overload
def money_error(refusal: b.Declined) -> ct.PaymentDeclined: ...
@overload
def money_error(refusal: b.NotFound | b.Denied) -> ct.NotFound: ...
def money_error(refusal: b.Refusal) -> MoneyError:
    """A billing refusal as its GraphQL error type."""
    if isinstance(refusal, b.KeyConflict):
        return conflict(refusal.key)
    if isinstance(refusal, b.InvalidAmount):
        return invalid_amount(refusal)
    if isinstance(refusal, b.NotPayable):
        return ct.InvalidInput(message=refusal.message, field=refusal.field)
    if isinstance(refusal, b.Insufficient):
        return ct.InsufficientFunds(
            message="the wallet does not cover this bill: top up or pay with the provider",
            balance=ct.ledger_money(refusal.available, refusal.currency),
            required=ct.ledger_money(refusal.required, refusal.currency),
        )
    if isinstance(refusal, b.Declined):
        return ct.PaymentDeclined(message=refusal.message)
    return ct.NotFound(message=getattr(refusal, "message", "not found"))
