"""Verification and decryption of WeChat Pay's notifications (JSON POSTs to the ``notify_url``).

The platform signs ``TIMESTAMP\\nNONCE\\nBODY\\n`` (headers ``Wechatpay-*``); the business content
is the ``resource``, encrypted with AEAD_AES_256_GCM under the merchant's APIv3 key. The merchant
answers HTTP 200 or 204 once applied, and WeChat Pay redelivers until it does — the same ``id`` can
arrive more than once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from gateway.rails.wechatpay import parse, signing
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.errors import WeChatPayBadSignature, WeChatPayUnavailable
from gateway.rails.wechatpay.models import Notification


def verify_notification(client: WeChatPayClient, headers: Mapping[str, str], body: bytes) -> Notification:
    """A verified, decrypted notification; :class:`WeChatPayBadSignature` for anything else."""
    config = client.config
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WeChatPayBadSignature("the notification is not UTF-8") from None
    normal = {"-".join(p.capitalize() for p in k.split("-")): v for k, v in headers.items()}
    if not signing.verify_headers(normal, text, client.platform_key, config.platform_public_key_id):
        raise WeChatPayBadSignature("the notification's signature does not verify")
    try:
        document = json.loads(text)
    except ValueError:
        raise WeChatPayBadSignature("the notification is not JSON") from None
    resource = signing.decrypt_resource(document.get("resource"), config.apiv3_key)
    if resource is None:
        raise WeChatPayBadSignature("the notification's resource does not decrypt with our APIv3 key")
    event_type = str(document.get("event_type", ""))
    try:
        if event_type.startswith("PAYSCORE."):
            return Notification(str(document.get("id", "")), event_type, order=parse.service_order(resource))
        if event_type.startswith("REFUND."):
            return Notification(str(document.get("id", "")), event_type, refund=parse.refund(resource))
    except WeChatPayUnavailable as exc:
        raise WeChatPayBadSignature(f"the notification's resource is malformed: {exc}") from None
    return Notification(str(document.get("id", "")), event_type)
