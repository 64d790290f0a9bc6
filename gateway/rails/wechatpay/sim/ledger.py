"""The WeChat Pay simulator's books: pay-score service orders, their collections and refunds.

Amounts are fen integers, as on the wire. Every operation is synchronous, so each request's
check-and-change is atomic on the event loop. A refusal is a :class:`Refusal` with the HTTP status
and error code WeChat Pay would answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.rails.amounts import from_fen

BEIJING = ZoneInfo("Asia/Shanghai")


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now_text() -> str:
    """RFC 3339 in Beijing time, as WeChat Pay writes its times."""
    return datetime.now(BEIJING).isoformat(timespec="seconds")


@dataclass(slots=True)
class Order:
    out_order_no: str
    order_id: str
    openid: str
    risk_fen: int
    introduction: str
    notify_url: str
    state: str = "DOING"
    state_description: str | None = "USER_CONFIRM"
    total_fen: int | None = None
    post_payments: list[Any] = field(default_factory=list)
    paid_fen: int = 0
    transaction_id: str | None = None
    paid_time: str | None = None


@dataclass(slots=True)
class Refund:
    out_refund_no: str
    refund_id: str
    transaction_id: str
    refund_fen: int
    total_fen: int
    notify_url: str
    status: str = "SUCCESS"
    created: str = field(default_factory=now_text)


class WeChatPayLedger:
    """What the simulated WeChat Pay knows; ``/_sim/ledger`` shows it whole."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.refunds: dict[str, Refund] = {}
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):020d}"

    def create(
        self, out_order_no: str, openid: str, risk_fen: int, introduction: str, notify_url: str
    ) -> Order:
        existing = self.orders.get(out_order_no)
        if existing is not None:
            if (existing.openid, existing.risk_fen) != (openid, risk_fen):
                raise Refusal(400, "INVALID_REQUEST", "out_order_no was used with other parameters")
            return existing
        order = Order(out_order_no, self._id("1000"), openid, risk_fen, introduction, notify_url)
        self.orders[out_order_no] = order
        return order

    def order(self, out_order_no: str) -> Order:
        order = self.orders.get(out_order_no)
        if order is None:
            raise Refusal(404, "ORDER_NOT_EXIST", "no such service order")
        return order

    def complete(self, order: Order, total_fen: int, post_payments: list[Any]) -> bool:
        """End the service: a total of 0 ends it (DONE), otherwise it waits to be collected.
        Whether this call completed it (False for a repeat)."""
        if order.total_fen is not None:
            if order.total_fen != total_fen:
                raise Refusal(400, "INVALID_ORDER_STATE", "the order was completed with another amount")
            return False
        if order.state != "DOING":
            raise Refusal(400, "INVALID_ORDER_STATE", f"the order is {order.state}")
        if total_fen > order.risk_fen:
            raise Refusal(400, "PARAM_ERROR", "total_amount exceeds the order's risk amount")
        order.total_fen, order.post_payments = total_fen, post_payments
        order.state, order.state_description = ("DONE", None) if total_fen == 0 else ("DOING", "MCH_COMPLETE")
        return True

    def deduct(self, order: Order, succeeds: bool) -> bool:
        """Try to take a completed order's total; whether money moved now."""
        if order.state_description != "MCH_COMPLETE" or not succeeds or order.total_fen is None:
            return False
        order.paid_fen, order.transaction_id, order.paid_time = order.total_fen, self._id("4200"), now_text()
        order.state, order.state_description = "DONE", None
        return True

    def cancel(self, order: Order) -> None:
        if order.state == "REVOKED":
            return
        if order.state != "DOING" or order.state_description != "USER_CONFIRM":
            raise Refusal(400, "INVALID_ORDER_STATE", "only an order in service can be cancelled")
        order.state, order.state_description = "REVOKED", None

    def refund(
        self, transaction_id: str, out_refund_no: str, refund_fen: int, total_fen: int, url: str
    ) -> tuple[Refund, bool]:
        """Refund once per ``out_refund_no``; the refund and whether money moved now."""
        existing = self.refunds.get(out_refund_no)
        if existing is not None:
            if (existing.transaction_id, existing.refund_fen) != (transaction_id, refund_fen):
                raise Refusal(400, "INVALID_REQUEST", "out_refund_no was used with other parameters")
            return existing, False
        order = next((o for o in self.orders.values() if o.transaction_id == transaction_id), None)
        if order is None:
            raise Refusal(404, "RESOURCE_NOT_EXISTS", "no such transaction")
        if total_fen != order.paid_fen:
            raise Refusal(400, "PARAM_ERROR", "amount.total is not the transaction's amount")
        if refund_fen <= 0 or self.refunded(transaction_id) + refund_fen > order.paid_fen:
            raise Refusal(403, "NOT_ENOUGH", "the refund exceeds what is left to refund")
        refund = Refund(out_refund_no, self._id("5030"), transaction_id, refund_fen, total_fen, url)
        self.refunds[out_refund_no] = refund
        return refund, True

    def refunded(self, transaction_id: str) -> int:
        return sum(r.refund_fen for r in self.refunds.values() if r.transaction_id == transaction_id)

    def to_json(self) -> dict[str, Any]:
        """Everything, with the money actually collected and refunded in yuan (what a test counts)."""
        collected = sum(o.paid_fen for o in self.orders.values())
        refunded = sum(r.refund_fen for r in self.refunds.values())
        return {
            "orders": [{n: getattr(o, n) for n in o.__slots__} for o in self.orders.values()],
            "refunds": [{n: getattr(r, n) for n in r.__slots__} for r in self.refunds.values()],
            "collected": str(from_fen(collected)),
            "refunded": str(from_fen(refunded)),
        }
