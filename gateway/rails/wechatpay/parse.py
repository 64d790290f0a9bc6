"""API v3 JSON → the adapter's models (pure, table-driven)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from gateway.rails.amounts import from_fen
from gateway.rails.wechatpay.errors import WeChatPayUnavailable
from gateway.rails.wechatpay.models import (
    Collection,
    CollectionState,
    OrderState,
    Refund,
    RefundStatus,
    ServiceOrder,
)

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Enum)


def status(kind: type[E], value: object) -> E:
    try:
        return kind(value)
    except ValueError:
        log.warning("unknown WeChat Pay %s %r", kind.__name__, value)
        return kind["UNKNOWN"]


def _text(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise WeChatPayUnavailable("bad_answer", f"WeChat Pay's answer lacks {name}")
    return value


def _fen(doc: Any, name: str) -> Decimal:
    try:
        return from_fen(doc.get(name) if isinstance(doc, Mapping) else None)
    except ValueError:
        raise WeChatPayUnavailable("bad_answer", f"WeChat Pay's {name} is not an amount in fen") from None


def service_order(doc: Mapping[str, Any]) -> ServiceOrder:
    collection = doc.get("collection")
    paid = None
    if isinstance(collection, Mapping):
        details = collection.get("details") or []
        transaction = next((d.get("transaction_id") for d in details if isinstance(d, Mapping)), None)
        paid = Collection(
            state=status(CollectionState, collection.get("state")),
            total_amount=_fen(collection, "total_amount"),
            paid_amount=_fen(collection, "paid_amount") if "paid_amount" in collection else Decimal("0.00"),
            transaction_id=transaction if isinstance(transaction, str) else None,
        )
    return ServiceOrder(
        out_order_no=_text(doc, "out_order_no"),
        order_id=_text(doc, "order_id"),
        state=status(OrderState, doc.get("state")),
        state_description=doc.get("state_description") or None,
        risk_amount=_fen(doc.get("risk_fund"), "amount"),
        total_amount=_fen(doc, "total_amount") if "total_amount" in doc else None,
        collection=paid,
    )


def refund(doc: Mapping[str, Any]) -> Refund:
    amount = doc.get("amount")
    return Refund(
        out_refund_no=_text(doc, "out_refund_no"),
        refund_id=_text(doc, "refund_id"),
        transaction_id=_text(doc, "transaction_id"),
        status=status(RefundStatus, doc.get("status", doc.get("refund_status"))),
        refund=_fen(amount, "refund"),
        total=_fen(amount, "total"),
    )
