"""Verification of Alipay's asynchronous notifications (``trade_status_sync`` form POSTs).

Alipay signs every field except ``sign`` and ``sign_type`` (sorted ``k=v`` joined by ``&``) with
its RSA2 key; the merchant answers the plain body ``success`` once it has applied the notification,
and Alipay redelivers until it does — so the same ``notify_id`` can arrive more than once.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.rails.alipay import parse, signing
from gateway.rails.alipay.errors import AlipayBadSignature
from gateway.rails.alipay.models import Notification, TradeStatus

ACKNOWLEDGEMENT = "success"  # the body Alipay expects once a notification is applied


def verify_notification(form: Mapping[str, str], alipay_key: rsa.RSAPublicKey, app_id: str) -> Notification:
    """A verified notification, or :class:`AlipayBadSignature` (also for another app's notification)."""
    signature = form.get("sign", "")
    if form.get("sign_type") != "RSA2" or not signing.verify(
        alipay_key, signing.sign_content(form, signing.NOTIFICATION_UNSIGNED), signature
    ):
        raise AlipayBadSignature("the notification's RSA2 signature does not verify")
    if form.get("app_id") != app_id:
        raise AlipayBadSignature("the notification is for another app")
    return Notification(
        notify_id=parse.text(form, "notify_id"),
        notify_type=parse.text(form, "notify_type"),
        out_trade_no=parse.text(form, "out_trade_no"),
        trade_no=parse.text(form, "trade_no"),
        trade_status=parse.status(TradeStatus, form.get("trade_status")),
        total_amount=parse.amount(form, "total_amount"),
        refund_fee=parse.optional_amount(form, "refund_fee"),
        out_biz_no=parse.optional_text(form, "out_biz_no"),
    )
