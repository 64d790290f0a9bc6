"""WeChat Pay score behind the credit-rail port: one no-confirm service order per reference.

Mapping: authorise → create (``out_order_no`` = reference, ``risk_fund`` = the risk amount);
complete → complete with the final amount (WeChat Pay then deducts it; attempt > 1 also asks it
to retry the deduction); cancel → cancel; refund → the v3 refund of the order's transaction
(``out_refund_no`` = refund reference); query → query. WeChat Pay's errors become the port's in
:func:`_port_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from decimal import Decimal

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
from gateway.rails.wechatpay import payscore
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.errors import (
    WeChatPayBadSignature,
    WeChatPayCreditDeclined,
    WeChatPayRefused,
    WeChatPayUnavailable,
)
from gateway.rails.wechatpay.models import CollectionState, ServiceOrder
from gateway.rails.wechatpay.models import OrderState as WxState
from gateway.rails.wechatpay.notify import verify_notification

ZERO = Decimal("0.00")


def order_of(order: ServiceOrder) -> RailOrder:
    """A service order → the port's view (pure)."""
    collection = order.collection
    if order.state in (WxState.REVOKED, WxState.EXPIRED):
        return RailOrder(order.out_order_no, OrderState.CANCELLED, ZERO, order.order_id)
    if collection is not None and collection.state is CollectionState.USER_PAID:
        return RailOrder(
            order.out_order_no, OrderState.COLLECTED, collection.paid_amount, collection.transaction_id
        )
    if order.state is WxState.DONE:  # completed with 0: nothing to collect
        return RailOrder(order.out_order_no, OrderState.CANCELLED, ZERO, order.order_id)
    if collection is not None:
        return RailOrder(order.out_order_no, OrderState.COLLECTING, ZERO, order.order_id)
    if order.state in (WxState.CREATED, WxState.DOING):
        return RailOrder(order.out_order_no, OrderState.AUTHORISED, ZERO, order.order_id)
    return RailOrder(order.out_order_no, OrderState.UNKNOWN, ZERO, order.order_id)


class WeChatPayRail:
    """The port over a :class:`WeChatPayClient`; holds no state, so a restart loses nothing."""

    name = "wechatpay"
    acknowledgement = Acknowledgement(204)
    identity = "wechat"

    def __init__(self, client: WeChatPayClient) -> None:
        self._client = client

    async def holder(self, account: str) -> str:
        """The openid under our appid is the WeChat user itself (sign-in answers the same openid)."""
        return account

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        with _port_errors():
            return order_of(
                await payscore.create(self._client, check_reference(reference), account, risk_amount, subject)
            )

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        if amount == 0:
            return await self.cancel(reference, "nothing to collect")
        with _port_errors():
            order = order_of(
                await payscore.complete(self._client, check_reference(reference), amount, subject)
            )
            if attempt > 1 and order.state is OrderState.COLLECTING:
                order = order_of(await payscore.collect_again(self._client, reference))
        return order

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        current = await self.query(reference)
        if current.state is OrderState.CANCELLED:
            return current
        if current.state is not OrderState.AUTHORISED:
            raise RailRefused("ALREADY_COMPLETED", "the order was completed; refund it instead")
        with _port_errors():
            return order_of(await payscore.cancel(self._client, reference, reason))

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        current = await self.query(reference)
        if current.state is not OrderState.COLLECTED or current.provider_reference is None:
            raise RailRefused("NOT_COLLECTED", "the order has not collected anything to refund")
        with _port_errors():
            done = await payscore.refund(
                self._client, current.provider_reference, check_reference(refund_reference), amount,
                current.collected, reason,
            )  # fmt: skip
        return done.refund

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        with _port_errors():
            return order_of(await payscore.query(self._client, check_reference(reference)))

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        try:
            note = verify_notification(self._client, headers, body)
        except WeChatPayBadSignature as exc:
            raise RailBadNotification(f"not a valid WeChat Pay notification: {exc}") from None
        if note.order is not None and note.event_type == "PAYSCORE.USER_PAID":
            paid = order_of(note.order)
            return RailEvent(note.id, EventKind.COLLECTED, paid.reference, paid.collected)
        if note.refund is not None and note.event_type == "REFUND.SUCCESS":
            return RailEvent(note.id, EventKind.REFUNDED, refund_reference=note.refund.out_refund_no)
        reference = note.order.out_order_no if note.order is not None else None
        return RailEvent(note.id, EventKind.OTHER, reference)


@contextlib.contextmanager
def _port_errors() -> Iterator[None]:
    """WeChat Pay's errors → the port's (the one place they are translated)."""
    try:
        yield
    except WeChatPayCreditDeclined as exc:
        raise RailDeclined(str(exc)) from exc
    except WeChatPayRefused as exc:
        raise RailRefused(exc.code, str(exc)) from exc
    except WeChatPayUnavailable as exc:
        raise RailUnavailable(exc.reason, str(exc)) from exc
    except WeChatPayBadSignature as exc:  # an answer we cannot trust: its outcome is unknown
        raise RailUnavailable("bad_signature", str(exc)) from exc
