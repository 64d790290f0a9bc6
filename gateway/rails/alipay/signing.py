"""The open platform's RSA2 signature: SHA256withRSA (PKCS#1 v1.5) over sorted ``key=value`` pairs.

Requests: every parameter except ``sign`` and empty values, sorted by key, joined as
``k1=v1&k2=v2`` — ``biz_content`` is one such value, the JSON text as sent. Answers: the exact text
of the ``<method>_response`` node (``.`` → ``_``), as it appears in the body. Notifications: like
requests, without ``sign`` and ``sign_type``.

Hand-written rather than the official SDK's ``SignatureUtils``: that module signs with the
pure-Python ``rsa`` package and expects PKCS#1 key bodies; ``cryptography`` does the same
SHA256withRSA in C for any key form. tests/rails/test_alipay_sdk.py holds the two to each other.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REQUEST_UNSIGNED = frozenset({"sign"})
NOTIFICATION_UNSIGNED = frozenset({"sign", "sign_type"})
_DECODER = json.JSONDecoder()


def sign_content(params: Mapping[str, str], unsigned: Collection[str] = REQUEST_UNSIGNED) -> str:
    """The text that is signed: sorted ``k=v`` pairs joined by ``&``, without ``unsigned`` or empty values."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in unsigned and v != "")


def sign(key: rsa.RSAPrivateKey, content: str) -> str:
    """Base64 SHA256withRSA signature of ``content`` (UTF-8)."""
    return base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: rsa.RSAPublicKey, content: str, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s SHA256withRSA signature of ``content``."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def response_key(method: str) -> str:
    """``alipay.trade.query`` → ``alipay_trade_query_response``."""
    return method.replace(".", "_") + "_response"


def response_node(text: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """The exact text of the top-level ``key`` object in ``text`` and its parsed value, or None."""
    match = re.search(rf'"{re.escape(key)}"\s*:\s*(?=\{{)', text)
    if match is None:
        return None
    try:
        node, end = _DECODER.raw_decode(text, match.end())
    except ValueError:
        return None
    return (text[match.end() : end], node) if isinstance(node, dict) else None


def signed_response(key: rsa.RSAPrivateKey, node_key: str, node: Mapping[str, Any]) -> str:
    """A response body as the gateway writes it: the node, then ``sign`` over the node's exact text."""
    node_text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    signature = sign(key, node_text)
    return f'{{"{node_key}":{node_text},"sign":"{signature}"}}'
