"""API v3 signatures: ``Authorization: WECHATPAY2-SHA256-RSA2048 ...`` on requests, the
``Wechatpay-*`` headers on answers and notifications, and AES-256-GCM notification resources.

The primitives are ``wechatpayv3``'s (``build_authorization``, ``rsa_verify``, ``aes_decrypt``):
a request signs ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` with the merchant key; an answer
or notification is signed ``TIMESTAMP\\nNONCE\\nBODY\\n`` with the platform key, whose id comes in
``Wechatpay-Serial``. What the SDK leaves to its caller is added here: the serial must be the
configured platform key's, and the timestamp within five minutes (WeChat Pay's advice against
replays).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3.utils import aes_decrypt, build_authorization, rsa_verify

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_S = 300


def authorization(
    method: str, path: str, body: str, mchid: str, serial_no: str, key: rsa.RSAPrivateKey
) -> str:
    """The ``Authorization`` header of one request (``path`` with its query string, ``body`` as sent)."""
    return build_authorization(path, method, mchid, serial_no, key, data=body or None)


def verify_headers(
    headers: Mapping[str, str],
    body: str,
    platform_key: rsa.RSAPublicKey,
    platform_key_id: str,
    now: float | None = None,
) -> bool:
    """Whether ``body`` carries the platform's fresh, valid signature in ``headers``."""
    timestamp = headers.get("Wechatpay-Timestamp", "")
    if (
        headers.get("Wechatpay-Serial") != platform_key_id
        or headers.get("Wechatpay-Signature-Type", SIGNATURE_TYPE) != SIGNATURE_TYPE
        or not timestamp.isdigit()
        or abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW_S
    ):
        return False
    nonce, signature = headers.get("Wechatpay-Nonce", ""), headers.get("Wechatpay-Signature", "")
    return bool(rsa_verify(timestamp, nonce, body, signature, platform_key))


def decrypt_resource(resource: Any, apiv3_key: str) -> dict[str, Any] | None:
    """A notification's ``resource`` (AEAD_AES_256_GCM with the APIv3 key) → its JSON, or None."""
    if not isinstance(resource, dict) or resource.get("algorithm") != "AEAD_AES_256_GCM":
        return None
    try:
        text = aes_decrypt(
            nonce=str(resource["nonce"]),
            ciphertext=str(resource["ciphertext"]),
            associated_data=str(resource.get("associated_data") or ""),
            apiv3_key=apiv3_key,
        )
        document = json.loads(text) if text is not None else None
    except (KeyError, ValueError):  # also base64 errors
        return None
    return document if isinstance(document, dict) else None
