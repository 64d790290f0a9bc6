"""Pay score (支付分) service orders: authorise a risk amount, complete with the final amount, cancel,
query, and refund what was collected.

No-confirm orders (``need_user_confirm`` false, with the driver's ``openid``): the score decides at
creation, so a session can start at once. Completing with a total above zero makes WeChat Pay
deduct it (``collection.state`` USER_PAYING → USER_PAID, notified as ``PAYSCORE.USER_PAID``); a
total of zero ends the order with nothing collected. Refunds go through the v3 refund API against
the collection's ``transaction_id``. Paths and fields as in ``wechatpayv3``'s ``payscore`` module.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlencode

from gateway.rails.amounts import to_fen
from gateway.rails.wechatpay import parse
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.models import Refund, ServiceOrder


def _order_path(out_order_no: str, action: str) -> str:
    return f"/v3/payscore/serviceorder/{quote(out_order_no, safe='')}/{action}"


async def create(
    client: WeChatPayClient, out_order_no: str, openid: str, risk_amount: Decimal, introduction: str
) -> ServiceOrder:
    """Open an order for at most ``risk_amount``; :class:`WeChatPayCreditDeclined` if the score says no."""
    config = client.config
    body = {
        "out_order_no": out_order_no,
        "appid": config.appid,
        "service_id": config.service_id,
        "service_introduction": introduction,
        "time_range": {"start_time": "OnAccept"},
        "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": to_fen(risk_amount)},
        "need_user_confirm": False,
        "openid": openid,
        "notify_url": config.notify_url,
    }
    return parse.service_order(await client.request("POST", "/v3/payscore/serviceorder", body))


async def complete(client: WeChatPayClient, out_order_no: str, amount: Decimal, item: str) -> ServiceOrder:
    """End the service with the final ``amount`` (at most the risk amount); WeChat Pay then collects it."""
    fen = to_fen(amount)
    body = {
        "appid": client.config.appid,
        "service_id": client.config.service_id,
        "post_payments": [{"name": item, "amount": fen, "count": 1}],
        "total_amount": fen,
        "profit_sharing": False,
    }
    return parse.service_order(await client.request("POST", _order_path(out_order_no, "complete"), body))


async def cancel(client: WeChatPayClient, out_order_no: str, reason: str) -> ServiceOrder:
    """Revoke an order that has not been completed: nothing is collected."""
    body = {"appid": client.config.appid, "service_id": client.config.service_id, "reason": reason}
    return parse.service_order(await client.request("POST", _order_path(out_order_no, "cancel"), body))


async def collect_again(client: WeChatPayClient, out_order_no: str) -> ServiceOrder:
    """Ask WeChat Pay to retry the deduction of a completed order that is still USER_PAYING."""
    body = {"appid": client.config.appid, "service_id": client.config.service_id}
    await client.request("POST", _order_path(out_order_no, "pay"), body)
    return await query(client, out_order_no)


async def query(client: WeChatPayClient, out_order_no: str) -> ServiceOrder:
    config = client.config
    params = urlencode({"service_id": config.service_id, "appid": config.appid, "out_order_no": out_order_no})
    return parse.service_order(await client.request("GET", f"/v3/payscore/serviceorder?{params}"))


async def refund(
    client: WeChatPayClient,
    transaction_id: str,
    out_refund_no: str,
    amount: Decimal,
    total: Decimal,
    reason: str,
) -> Refund:
    """Refund part or all of a collection; the same ``out_refund_no`` never refunds twice."""
    body = {
        "transaction_id": transaction_id,
        "out_refund_no": out_refund_no,
        "reason": reason,
        "notify_url": client.config.notify_url,
        "amount": {"refund": to_fen(amount), "total": to_fen(total), "currency": "CNY"},
    }
    return parse.refund(await client.request("POST", "/v3/refund/domestic/refunds", body))


async def query_refund(client: WeChatPayClient, out_refund_no: str) -> Refund:
    path = f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}"
    return parse.refund(await client.request("GET", path))
