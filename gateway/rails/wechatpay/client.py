"""WeChat Pay API v3, from our side: one signed, verified JSON request per call.

Requests carry the merchant's ``Authorization`` signature; a 2xx answer must carry the platform's
signature (:mod:`gateway.rails.wechatpay.signing`), a 4xx answer becomes
:class:`WeChatPayRefused` (a wrongly signed one :class:`WeChatPayBadSignature`), anything else
:class:`WeChatPayUnavailable`. Transport failures are translated in :func:`_transport_errors`.

Not ``wechatpayv3``'s ``AsyncWeChatPay``: it opens its own httpx client, fetches platform
certificates on start and has no per-call deadline; we use its signing primitives and post through
the application's shared aiohttp session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.rails import keys
from gateway.rails.wechatpay import signing
from gateway.rails.wechatpay.errors import (
    CREDIT_DECLINED_CODES,
    WeChatPayBadSignature,
    WeChatPayCreditDeclined,
    WeChatPayRefused,
    WeChatPayUnavailable,
)

PRODUCTION_BASE_URL = "https://api.mch.weixin.qq.com"
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class WeChatPayConfig:
    """What WeChat Pay gives a merchant (docs/payments.md says where to find each)."""

    mchid: str
    appid: str
    service_id: str
    merchant_private_key: str
    merchant_serial_no: str
    platform_public_key: str
    platform_public_key_id: str
    apiv3_key: str
    base_url: str = PRODUCTION_BASE_URL
    notify_url: str = ""
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("the WeChat Pay APIv3 key must be 32 bytes")
        if not (self.mchid and self.merchant_serial_no and self.platform_public_key_id):
            raise ValueError("mchid, merchant_serial_no and platform_public_key_id must be set")
        if self.timeout_s <= 0:
            raise ValueError("wechatpay timeout_s must be positive")


class WeChatPayClient:
    """Signs, sends and verifies API v3 calls through the shared ``ClientSession``."""

    def __init__(self, http: aiohttp.ClientSession, config: WeChatPayConfig) -> None:
        self.config = config
        self._http = http
        self._key = keys.load_private_key(config.merchant_private_key)
        self.platform_key = keys.load_public_key(config.platform_public_key)

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The verified JSON answer of a 2xx call (``{}`` for 204); raises the adapter's errors otherwise."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body is not None else ""
        headers = {
            "Authorization": signing.authorization(
                method, path, text, self.config.mchid, self.config.merchant_serial_no, self._key
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.config.platform_public_key_id,
        }
        url = self.config.base_url.rstrip("/") + path
        with _transport_errors(self.config.timeout_s):
            async with (
                asyncio.timeout(self.config.timeout_s),
                self._http.request(
                    method, url, data=text.encode() if text else None, headers=headers, allow_redirects=False
                ) as resp,
            ):
                status = resp.status
                answer = await resp.content.read(MAX_BODY_BYTES + 1)
                answer_headers = {k: v for k, v in resp.headers.items() if k.lower().startswith("wechatpay-")}
        return self.parse_answer(status, answer_headers, answer)

    def parse_answer(self, status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """An answer → its verified JSON, or the adapter's error (the answer half of the boundary)."""
        if status >= 500:
            raise WeChatPayUnavailable("down", f"WeChat Pay answered HTTP {status}")
        if len(body) > MAX_BODY_BYTES:
            raise WeChatPayUnavailable("bad_answer", "WeChat Pay's answer is too large")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeChatPayUnavailable("bad_answer", "WeChat Pay's answer is not UTF-8") from None
        normal = {_canonical(k): v for k, v in headers.items()}
        signed = signing.verify_headers(normal, text, self.platform_key, self.config.platform_public_key_id)
        if not signed and (200 <= status < 300 or "Wechatpay-Signature" in normal):
            raise WeChatPayBadSignature(f"WeChat Pay's HTTP {status} answer is not validly signed")
        try:
            document = json.loads(text) if text else {}
        except ValueError:
            raise WeChatPayUnavailable("bad_answer", "WeChat Pay's answer is not JSON") from None
        if not isinstance(document, dict):
            raise WeChatPayUnavailable("bad_answer", "WeChat Pay's answer is not a JSON object")
        if 200 <= status < 300:
            return document
        if 400 <= status < 500:
            code, message = str(document.get("code", "")), str(document.get("message", ""))
            error = WeChatPayCreditDeclined if code in CREDIT_DECLINED_CODES else WeChatPayRefused
            raise error(status, code, message)
        raise WeChatPayUnavailable("bad_answer", f"WeChat Pay answered HTTP {status}")


def _canonical(name: str) -> str:
    """``wechatpay-serial`` → ``Wechatpay-Serial`` (header names are case-insensitive)."""
    return "-".join(part.capitalize() for part in name.split("-"))


@contextlib.contextmanager
def _transport_errors(timeout_s: float) -> Iterator[None]:
    """aiohttp and timeout errors → :class:`WeChatPayUnavailable` (the transport half of the boundary)."""
    try:
        yield
    except TimeoutError:
        raise WeChatPayUnavailable("timeout", f"WeChat Pay did not answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise WeChatPayUnavailable("down", f"WeChat Pay unreachable ({type(exc).__name__})") from None
