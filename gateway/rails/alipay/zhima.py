"""Zhima (Sesame) credit pay-after-use: a driver's agreement, and one credit order per session.

The flow (``zhima.credit.payafteruse.*``): the driver signs an agreement once
(``creditagreement.sign``, confirmed in the Alipay app); each session opens a credit order for a
risk amount (``creditbizorder.order``); the session's final amount is collected against the order
with ``alipay.trade.pay`` (:mod:`gateway.rails.alipay.trade`), which finishes it; an order that
collects nothing is closed with ``creditbizorder.finish``. Field names follow the official SDK's
models (``ZhimaCreditPayafteruseCreditbizorderOrderModel`` and siblings).
"""

from __future__ import annotations

from decimal import Decimal

from gateway.rails.alipay import parse
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.models import Agreement, AgreementStatus, CreditOrder, CreditOrderStatus
from gateway.rails.amounts import yuan_text

SIGN = "zhima.credit.payafteruse.creditagreement.sign"
QUERY_AGREEMENT = "zhima.credit.payafteruse.creditagreement.query"
ORDER = "zhima.credit.payafteruse.creditbizorder.order"
FINISH = "zhima.credit.payafteruse.creditbizorder.finish"
QUERY_ORDER = "zhima.credit.payafteruse.creditbizorder.query"


async def sign_agreement(client: AlipayClient, out_agreement_no: str, external_logon_id: str) -> Agreement:
    """Ask the driver (``external_logon_id``: their Alipay login) to sign; the agreement as it stands."""
    node = await client.call(
        SIGN,
        {
            "out_agreement_no": out_agreement_no,
            "zm_service_id": client.config.zm_service_id,
            "external_logon_id": external_logon_id,
        },
        notify=True,
    )
    return await query_agreement(client, credit_agreement_id=parse.text(node, "credit_agreement_id"))


async def query_agreement(
    client: AlipayClient, *, credit_agreement_id: str = "", out_agreement_no: str = ""
) -> Agreement:
    biz = {"credit_agreement_id": credit_agreement_id} if credit_agreement_id else {}
    if out_agreement_no:
        biz["out_agreement_no"] = out_agreement_no
    node = await client.call(QUERY_AGREEMENT, biz)
    return Agreement(
        credit_agreement_id=parse.text(node, "credit_agreement_id"),
        out_agreement_no=parse.text(node, "out_agreement_no"),
        status=parse.status(AgreementStatus, node.get("agreement_status")),
        alipay_user_id=parse.optional_text(node, "alipay_user_id"),
    )


async def open_order(
    client: AlipayClient, credit_agreement_id: str, out_order_no: str, risk_amount: Decimal, subject: str
) -> CreditOrder:
    """Open a credit order for at most ``risk_amount``; idempotent per ``out_order_no``.

    Raises :class:`~gateway.rails.alipay.errors.AlipayCreditDeclined` when Zhima says no.
    """
    node = await client.call(
        ORDER,
        {
            "credit_agreement_id": credit_agreement_id,
            "out_order_no": out_order_no,
            "order_amount": yuan_text(risk_amount),
            "amount_type": "RISK_AMOUNT",
            "subject": subject,
            "order_title": subject,
        },
        notify=True,
    )
    return CreditOrder(
        credit_biz_order_id=parse.text(node, "credit_biz_order_id"),
        out_order_no=parse.text(node, "out_order_no"),
        status=parse.status(CreditOrderStatus, node.get("order_status", "INIT")),
    )


async def finish_order(
    client: AlipayClient, credit_biz_order_id: str, out_request_no: str, fulfilled: bool, remark: str
) -> CreditOrderStatus:
    """End an order without (further) collection: ``fulfilled`` False cancels an uncollected one."""
    node = await client.call(
        FINISH,
        {
            "credit_biz_order_id": credit_biz_order_id,
            "out_request_no": out_request_no,
            "is_fulfilled": "true" if fulfilled else "false",
            "remark": remark,
        },
    )
    return parse.status(CreditOrderStatus, node.get("order_status"))


async def query_order(
    client: AlipayClient, *, out_order_no: str = "", credit_biz_order_id: str = ""
) -> CreditOrder:
    biz = {"out_order_no": out_order_no} if out_order_no else {"credit_biz_order_id": credit_biz_order_id}
    node = await client.call(QUERY_ORDER, biz)
    return CreditOrder(
        credit_biz_order_id=parse.text(node, "credit_biz_order_id"),
        out_order_no=parse.text(node, "out_order_no"),
        status=parse.status(CreditOrderStatus, node.get("order_status")),
        total_amount=parse.optional_amount(node, "total_amount"),
        trade_no=parse.optional_text(node, "trade_no"),
    )
