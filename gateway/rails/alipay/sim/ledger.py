"""The Alipay simulator's books: agreements, credit orders, trades and refunds, with Alipay's rules.

Every operation is synchronous, so each request's check-and-change is atomic on the event loop.
A refusal is a :class:`Refusal` with the sub_code the gateway would answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.rails.sim.authcodes import stable_id


def alipay_user_id(login: str) -> str:
    """The simulated Alipay user id (2088 and 12 digits) of a login such as ``alice@example.com``:
    the same id signs in (``alipay.system.oauth.token``) and holds the login's agreement."""
    return stable_id("2088", login)


class Refusal(Exception):
    """A business error: ``code`` 40004 with ``sub_code`` and ``sub_msg``."""

    def __init__(self, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_msg)
        self.sub_code = sub_code
        self.sub_msg = sub_msg


@dataclass(slots=True)
class Agreement:
    credit_agreement_id: str
    out_agreement_no: str
    app_id: str
    user_id: str
    logon_id: str
    status: str = "VALID"


@dataclass(slots=True)
class CreditOrder:
    credit_biz_order_id: str
    out_order_no: str
    app_id: str
    credit_agreement_id: str
    order_amount: Decimal
    subject: str
    status: str = "INIT"
    trade_no: str | None = None
    finish_requests: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Trade:
    trade_no: str
    out_trade_no: str
    app_id: str
    total_amount: Decimal
    subject: str
    status: str = "WAIT_BUYER_PAY"
    credit_biz_order_id: str | None = None
    notify_url: str = ""
    refunds: dict[str, Decimal] = field(default_factory=dict)

    @property
    def refunded(self) -> Decimal:
        return sum(self.refunds.values(), Decimal("0.00"))


class AlipayLedger:
    """What the simulated Alipay knows; the ``/_sim/ledger`` endpoint shows it whole."""

    def __init__(self) -> None:
        self.agreements: dict[str, Agreement] = {}
        self.orders: dict[str, CreditOrder] = {}
        self.trades: dict[str, Trade] = {}
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):020d}"

    # ---- Zhima pay-after-use ---------------------------------------------------------------------

    def sign(self, app_id: str, out_agreement_no: str, logon_id: str) -> Agreement:
        """The user signs (their confirmation in the Alipay app is instant here); idempotent. The
        agreement's ``user_id`` is the login's Alipay user id, the one sign-in answers."""
        for agreement in self.agreements.values():
            if agreement.app_id == app_id and agreement.out_agreement_no == out_agreement_no:
                return agreement
        agreement = Agreement(self._id("ZMOP"), out_agreement_no, app_id, alipay_user_id(logon_id), logon_id)
        self.agreements[agreement.credit_agreement_id] = agreement
        return agreement

    def agreement(self, app_id: str, credit_agreement_id: str, out_agreement_no: str) -> Agreement:
        for agreement in self.agreements.values():
            if agreement.app_id == app_id and (
                agreement.credit_agreement_id == credit_agreement_id
                or (out_agreement_no and agreement.out_agreement_no == out_agreement_no)
            ):
                return agreement
        raise Refusal("AGREEMENT_NOT_EXIST", "no such agreement")

    def open_order(
        self, app_id: str, credit_agreement_id: str, out_order_no: str, amount: Decimal, subject: str
    ) -> CreditOrder:
        agreement = self.agreement(app_id, credit_agreement_id, "")
        if agreement.status != "VALID":
            raise Refusal("AGREEMENT_STATUS_ERROR", "the agreement is not valid")
        existing = self._order_by_out_no(app_id, out_order_no)
        if existing is not None:
            if existing.credit_agreement_id != credit_agreement_id or existing.order_amount != amount:
                raise Refusal("OUT_ORDER_NO_REPEAT", "out_order_no was used with other parameters")
            return existing
        order = CreditOrder(self._id("ZMCB"), out_order_no, app_id, credit_agreement_id, amount, subject)
        self.orders[order.credit_biz_order_id] = order
        return order

    def order(self, app_id: str, credit_biz_order_id: str, out_order_no: str) -> CreditOrder:
        order = self.orders.get(credit_biz_order_id) or self._order_by_out_no(app_id, out_order_no)
        if order is None or order.app_id != app_id:
            raise Refusal("ORDER_NOT_EXIST", "no such credit order")
        return order

    def finish(self, app_id: str, credit_biz_order_id: str, out_request_no: str) -> CreditOrder:
        """Close an uncollected order; a finished one stays finished; repeats change nothing."""
        order = self.order(app_id, credit_biz_order_id, "")
        if out_request_no not in order.finish_requests and order.status == "INIT":
            if order.trade_no and self.trades[order.trade_no].status == "WAIT_BUYER_PAY":
                raise Refusal("ORDER_IS_PAYING", "a withholding on this order is in progress")
            order.status = "TRADE_CLOSED"
        order.finish_requests.add(out_request_no)
        return order

    def _order_by_out_no(self, app_id: str, out_order_no: str) -> CreditOrder | None:
        if not out_order_no:
            return None
        return next(
            (o for o in self.orders.values() if o.app_id == app_id and o.out_order_no == out_order_no), None
        )

    # ---- trades ----------------------------------------------------------------------------------

    def withhold(
        self,
        app_id: str,
        credit_biz_order_id: str,
        out_trade_no: str,
        amount: Decimal,
        subject: str,
        url: str,
    ) -> Trade:
        """Start collecting against a credit order; :meth:`settle` decides the outcome."""
        existing = self._trade_by_out_no(app_id, out_trade_no)
        if existing is not None:
            raise Refusal(*_REUSED[existing.status])
        order = self.order(app_id, credit_biz_order_id, "")
        if order.status != "INIT":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", f"the credit order is {order.status}")
        if order.trade_no and self.trades[order.trade_no].status in ("WAIT_BUYER_PAY", "TRADE_SUCCESS"):
            raise Refusal("ACQ.TRADE_HAS_SUCCESS", "the credit order is already being collected")
        if amount <= 0 or amount > order.order_amount:
            raise Refusal("ACQ.TOTAL_FEE_EXCEED", "the amount is not within the order's risk amount")
        trade = Trade(self._id("2026"), out_trade_no, app_id, amount, subject, notify_url=url)
        trade.credit_biz_order_id = order.credit_biz_order_id
        order.trade_no = trade.trade_no
        self.trades[trade.trade_no] = trade
        return trade

    def precreate(self, app_id: str, out_trade_no: str, amount: Decimal, subject: str, url: str) -> Trade:
        existing = self._trade_by_out_no(app_id, out_trade_no)
        if existing is not None:
            if existing.total_amount != amount or existing.credit_biz_order_id is not None:
                raise Refusal("ACQ.CONTEXT_INCONSISTENT", "out_trade_no was used with other parameters")
            return existing
        if amount <= 0:
            raise Refusal("ACQ.TOTAL_FEE_EXCEED", "the amount must be positive")
        trade = Trade(self._id("2026"), out_trade_no, app_id, amount, subject, notify_url=url)
        self.trades[trade.trade_no] = trade
        return trade

    def settle(self, trade: Trade, paid: bool) -> None:
        """The outcome of a waiting trade: paid (money taken) or closed (nothing taken)."""
        if trade.status != "WAIT_BUYER_PAY":
            return
        trade.status = "TRADE_SUCCESS" if paid else "TRADE_CLOSED"
        if trade.credit_biz_order_id is not None and paid:
            self.orders[trade.credit_biz_order_id].status = "TRADE_FINISHED"

    def trade(self, app_id: str, trade_no: str, out_trade_no: str) -> Trade:
        trade = self.trades.get(trade_no) or self._trade_by_out_no(app_id, out_trade_no)
        if trade is None or trade.app_id != app_id:
            raise Refusal("ACQ.TRADE_NOT_EXIST", "no such trade")
        return trade

    def refund(self, trade: Trade, amount: Decimal, out_request_no: str) -> bool:
        """Refund once per ``out_request_no``; whether money moved (False for a repeat)."""
        if out_request_no in trade.refunds:
            if trade.refunds[out_request_no] != amount:
                raise Refusal("ACQ.CONTEXT_INCONSISTENT", "out_request_no was used with another amount")
            return False
        if trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED") or (
            trade.status == "TRADE_CLOSED" and not trade.refunds
        ):
            raise Refusal("ACQ.TRADE_STATUS_ERROR", f"the trade is {trade.status}")
        if amount <= 0 or trade.refunded + amount > trade.total_amount:
            raise Refusal("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "the refund exceeds what is left to refund")
        trade.refunds[out_request_no] = amount
        if trade.refunded == trade.total_amount:
            trade.status = "TRADE_CLOSED"  # Alipay closes a fully refunded trade
        return True

    def _trade_by_out_no(self, app_id: str, out_trade_no: str) -> Trade | None:
        if not out_trade_no:
            return None
        return next(
            (t for t in self.trades.values() if t.app_id == app_id and t.out_trade_no == out_trade_no), None
        )

    # ---- totals ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Everything, with the money actually collected and refunded (what a test counts)."""
        paid = [t for t in self.trades.values() if t.status == "TRADE_SUCCESS" or t.refunds]
        return {
            "agreements": [_plain(a) for a in self.agreements.values()],
            "orders": [_plain(o) for o in self.orders.values()],
            "trades": [_plain(t) | {"refunded": str(t.refunded)} for t in self.trades.values()],
            "collected": str(sum((t.total_amount for t in paid), Decimal("0.00"))),
            "refunded": str(sum((t.refunded for t in paid), Decimal("0.00"))),
        }


_REUSED = {
    "WAIT_BUYER_PAY": ("ACQ.TRADE_HAS_SUCCESS", "a trade with this out_trade_no is being collected"),
    "TRADE_SUCCESS": ("ACQ.TRADE_HAS_SUCCESS", "a trade with this out_trade_no was paid"),
    "TRADE_FINISHED": ("ACQ.TRADE_HAS_FINISHED", "a trade with this out_trade_no is finished"),
    "TRADE_CLOSED": ("ACQ.TRADE_HAS_CLOSE", "a trade with this out_trade_no is closed"),
}


def _plain(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in record.__slots__:
        value = getattr(record, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, set):
            value = sorted(value)
        elif isinstance(value, dict):
            value = {k: str(v) for k, v in value.items()}
        out[name] = value
    return out
