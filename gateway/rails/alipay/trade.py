"""``alipay.trade.*``: withholding against a credit order, wallet top-ups by QR code, queries, refunds.

``alipay.trade.pay`` against a Zhima credit order uses the order id as ``auth_code``, scene
``ZHIMA_CREDIT_CODE`` and product ``GENERAL_WITHHOLDING``, asynchronously (``is_async_pay``): the
answer says the withholding was accepted; the outcome (TRADE_SUCCESS or TRADE_CLOSED) comes by
notification and :func:`query`. Refunds are idempotent per ``out_request_no``.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.rails.alipay import parse
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.models import PayAccepted, Precreated, Refund, Trade, TradeStatus
from gateway.rails.amounts import yuan_text

PAY = "alipay.trade.pay"
PRECREATE = "alipay.trade.precreate"
QUERY = "alipay.trade.query"
REFUND = "alipay.trade.refund"


async def pay_credit_order(
    client: AlipayClient, credit_biz_order_id: str, out_trade_no: str, amount: Decimal, subject: str
) -> PayAccepted:
    """Collect ``amount`` against a credit order (at most its risk amount)."""
    node = await client.call(
        PAY,
        {
            "out_trade_no": out_trade_no,
            "auth_code": credit_biz_order_id,
            "total_amount": yuan_text(amount),
            "subject": subject,
            "scene": "ZHIMA_CREDIT_CODE",
            "product_code": "GENERAL_WITHHOLDING",
            "is_async_pay": True,
            "extend_params": {"creditTradeScene": "CREDIT_PAY_UNCERTAIN_FEE"},
        },
        notify=True,
    )
    return PayAccepted(
        trade_no=parse.text(node, "trade_no"),
        out_trade_no=parse.text(node, "out_trade_no"),
        total_amount=parse.amount(node, "total_amount"),
    )


async def precreate(client: AlipayClient, out_trade_no: str, amount: Decimal, subject: str) -> Precreated:
    """A QR-code trade for a wallet top-up; paid when the driver scans it."""
    node = await client.call(
        PRECREATE,
        {"out_trade_no": out_trade_no, "total_amount": yuan_text(amount), "subject": subject},
        notify=True,
    )
    return Precreated(out_trade_no=parse.text(node, "out_trade_no"), qr_code=parse.text(node, "qr_code"))


async def query(client: AlipayClient, *, out_trade_no: str = "", trade_no: str = "") -> Trade:
    biz = {"out_trade_no": out_trade_no} if out_trade_no else {"trade_no": trade_no}
    node = await client.call(QUERY, biz)
    return Trade(
        trade_no=parse.text(node, "trade_no"),
        out_trade_no=parse.text(node, "out_trade_no"),
        status=parse.status(TradeStatus, node.get("trade_status")),
        total_amount=parse.amount(node, "total_amount"),
    )


async def refund(
    client: AlipayClient, trade_no: str, amount: Decimal, out_request_no: str, reason: str
) -> Refund:
    """Refund part or all of a paid trade; the same ``out_request_no`` never refunds twice."""
    node = await client.call(
        REFUND,
        {
            "trade_no": trade_no,
            "refund_amount": yuan_text(amount),
            "out_request_no": out_request_no,
            "refund_reason": reason,
        },
    )
    return Refund(
        trade_no=parse.text(node, "trade_no"),
        out_trade_no=parse.text(node, "out_trade_no"),
        refund_fee=parse.amount(node, "refund_fee"),
        fund_change=node.get("fund_change") == "Y",
    )
