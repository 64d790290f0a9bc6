"""Alipay pay-after-use behind the credit-rail port: one Zhima credit order per reference.

Mapping: authorise → ``creditbizorder.order`` (``out_order_no`` = reference); complete →
``alipay.trade.pay`` against the order (``out_trade_no`` = reference, or ``reference_N`` for
attempt N after a failed collection); cancel → ``creditbizorder.finish`` (not fulfilled); refund →
``alipay.trade.refund`` (``out_request_no`` = refund reference); query → ``creditbizorder.query``
and ``alipay.trade.query``. Alipay's errors become the port's in :func:`_port_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

from gateway.rails.alipay import notify, trade, zhima
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.errors import (
    AlipayBadSignature,
    AlipayCreditDeclined,
    AlipayRefused,
    AlipayUnavailable,
)
from gateway.rails.alipay.models import CreditOrder, CreditOrderStatus, TradeStatus
from gateway.rails.port import (
    Acknowledgement,
    EventKind,
    OrderState,
    RailBadNotification,
    RailDeclined,
    RailEvent,
    RailOrder,
    RailRefused,
    RailUnavailable,
    check_reference,
)

ZERO = Decimal("0.00")
_SENT_BEFORE = frozenset({"ACQ.TRADE_HAS_SUCCESS", "ACQ.TRADE_HAS_CLOSE", "ACQ.TRADE_HAS_FINISHED"})
_TRADE_STATE = {
    TradeStatus.WAIT_BUYER_PAY: OrderState.COLLECTING,
    TradeStatus.TRADE_SUCCESS: OrderState.COLLECTED,
    TradeStatus.TRADE_FINISHED: OrderState.COLLECTED,
    TradeStatus.TRADE_CLOSED: OrderState.FAILED,
}


def out_trade_no(reference: str, attempt: int) -> str:
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return check_reference(reference) if attempt == 1 else f"{check_reference(reference)}_{attempt}"


def reference_of(trade_no: str) -> str:
    return trade_no.split("_", 1)[0]


class AlipayRail:
    """The port over an :class:`AlipayClient`; holds no state, so a restart loses nothing."""

    name = "alipay"
    acknowledgement = Acknowledgement(200, notify.ACKNOWLEDGEMENT)
    identity = "alipay"

    def __init__(self, client: AlipayClient) -> None:
        self._client = client

    async def holder(self, account: str) -> str:
        """The Alipay user id that signed the agreement ``account``."""
        with _port_errors():
            agreement = await zhima.query_agreement(self._client, credit_agreement_id=account)
        if not agreement.alipay_user_id:
            raise RailRefused("AGREEMENT_NOT_EXIST", "Alipay did not say who holds the agreement")
        return agreement.alipay_user_id

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        with _port_errors():
            order = await zhima.open_order(
                self._client, account, check_reference(reference), risk_amount, subject
            )
        return RailOrder(reference, OrderState.AUTHORISED, ZERO, order.credit_biz_order_id)

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        if amount == 0:
            return await self.cancel(reference, "nothing to collect")
        order = await self._order(reference)
        if order.status is CreditOrderStatus.TRADE_CLOSED:
            raise RailRefused("ORDER_CLOSED", "the order was cancelled; nothing can be collected")
        if order.status is not CreditOrderStatus.INIT:  # collected already: a repeat
            return await self.query(reference, attempt)
        with _port_errors():
            try:
                await trade.pay_credit_order(
                    self._client, order.credit_biz_order_id, out_trade_no(reference, attempt), amount, subject
                )
            except AlipayRefused as exc:
                if exc.sub_code not in _SENT_BEFORE:  # a repeat after a timeout or restart: query below
                    raise
        return await self.query(reference, attempt)

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        order = await self._order(reference)
        if order.status is CreditOrderStatus.TRADE_FINISHED:
            raise RailRefused("ALREADY_COLLECTED", "the order has collected; refund it instead")
        with _port_errors():
            await zhima.finish_order(self._client, order.credit_biz_order_id, f"{reference}C", False, reason)
        return await self.query(reference)

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        order = await self._order(reference)
        if order.status is not CreditOrderStatus.TRADE_FINISHED or order.trade_no is None:
            raise RailRefused("NOT_COLLECTED", "the order has not collected anything to refund")
        with _port_errors():
            await trade.refund(
                self._client, order.trade_no, amount, check_reference(refund_reference), reason
            )
        return amount

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        order = await self._order(reference)
        if order.status is CreditOrderStatus.TRADE_FINISHED:
            return RailOrder(reference, OrderState.COLLECTED, order.total_amount or ZERO, order.trade_no)
        if order.status is CreditOrderStatus.TRADE_CLOSED:
            return RailOrder(reference, OrderState.CANCELLED, ZERO, order.credit_biz_order_id)
        if order.status is CreditOrderStatus.UNKNOWN:
            return RailOrder(reference, OrderState.UNKNOWN, ZERO, order.credit_biz_order_id)
        with _port_errors():
            try:
                found = await trade.query(self._client, out_trade_no=out_trade_no(reference, attempt))
            except AlipayRefused as exc:
                if exc.sub_code != "ACQ.TRADE_NOT_EXIST":
                    raise
                return RailOrder(reference, OrderState.AUTHORISED, ZERO, order.credit_biz_order_id)
        state = _TRADE_STATE.get(found.status, OrderState.UNKNOWN)
        collected = found.total_amount if state is OrderState.COLLECTED else ZERO
        return RailOrder(reference, state, collected, found.trade_no)

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            note = notify.verify_notification(
                form, self._client.alipay_public_key, self._client.config.app_id
            )
        except (AlipayBadSignature, AlipayUnavailable, UnicodeDecodeError) as exc:
            raise RailBadNotification(f"not a valid Alipay notification: {exc}") from None
        reference = reference_of(note.out_trade_no)
        if note.out_biz_no is not None:
            return RailEvent(note.notify_id, EventKind.REFUNDED, reference, refund_reference=note.out_biz_no)
        if note.trade_status in (TradeStatus.TRADE_SUCCESS, TradeStatus.TRADE_FINISHED):
            return RailEvent(note.notify_id, EventKind.COLLECTED, reference, note.total_amount)
        if note.trade_status is TradeStatus.TRADE_CLOSED:
            return RailEvent(note.notify_id, EventKind.COLLECTION_FAILED, reference)
        return RailEvent(note.notify_id, EventKind.OTHER, reference)

    async def _order(self, reference: str) -> CreditOrder:
        with _port_errors():
            return await zhima.query_order(self._client, out_order_no=check_reference(reference))


@contextlib.contextmanager
def _port_errors() -> Iterator[None]:
    """Alipay's errors → the port's (the one place they are translated)."""
    try:
        yield
    except AlipayCreditDeclined as exc:
        raise RailDeclined(str(exc)) from exc
    except AlipayRefused as exc:
        raise RailRefused(exc.sub_code or exc.code, str(exc)) from exc
    except AlipayUnavailable as exc:
        raise RailUnavailable(exc.reason, str(exc)) from exc
    except AlipayBadSignature as exc:  # an answer we cannot trust: its outcome is unknown
        raise RailUnavailable("bad_signature", str(exc)) from exc
