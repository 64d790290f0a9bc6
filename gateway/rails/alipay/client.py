"""The open platform's gateway, from our side: one signed ``call`` per API method.

Every call is a form POST of the common parameters and ``biz_content`` to ``gateway.do``, signed
RSA2 with the app's private key; the answer's ``<method>_response`` node must carry Alipay's RSA2
signature (an unsigned answer is accepted only when it is a refusal, which moves no money).
Transport failures are translated in :func:`_transport_errors`, answers in :func:`parse_response`.

Not the official SDK's ``DefaultAlipayClient``: it is blocking (``http.client``, no event loop) and
has no per-call deadline; we post through the application's shared aiohttp session instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from gateway.rails import keys
from gateway.rails.alipay import signing
from gateway.rails.alipay.errors import (
    CREDIT_DECLINED_SUB_CODES,
    AlipayBadSignature,
    AlipayCreditDeclined,
    AlipayRefused,
    AlipayUnavailable,
)

log = logging.getLogger(__name__)

PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
SUCCESS = "10000"
MAX_BODY_BYTES = 256 * 1024
BEIJING = ZoneInfo("Asia/Shanghai")  # the open platform's ``timestamp`` is Beijing time


@dataclass(frozen=True, slots=True)
class AlipayConfig:
    """What the open platform gives a merchant (docs/payments.md says where to find each).

    Keys are PEM or the bare base64 bodies the console shows.
    """

    app_id: str
    app_private_key: str
    alipay_public_key: str
    gateway_url: str = PRODUCTION_GATEWAY
    notify_url: str = ""
    zm_service_id: str = ""
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ValueError("alipay app_id must not be empty")
        if self.timeout_s <= 0:
            raise ValueError("alipay timeout_s must be positive")


def utcnow() -> datetime:
    return datetime.now(UTC)


class AlipayClient:
    """Signs, posts and verifies open-platform calls through the shared ``ClientSession``."""

    def __init__(
        self, http: aiohttp.ClientSession, config: AlipayConfig, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.config = config
        self._http = http
        self._key = keys.load_private_key(config.app_private_key)
        self._alipay_key = keys.load_public_key(config.alipay_public_key)
        self._clock = clock

    @property
    def alipay_public_key(self) -> Any:
        return self._alipay_key

    def signed_params(
        self,
        method: str,
        biz: Mapping[str, Any] | None,
        notify: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The form a call posts: common parameters, ``biz_content`` (unless None, as for
        ``alipay.system.oauth.token``, whose ``extra`` parameters sit beside the common ones) and ``sign``."""
        params = {
            "app_id": self.config.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": self._clock().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            **(extra or {}),
        }
        if biz is not None:
            params["biz_content"] = json.dumps(biz, ensure_ascii=False, separators=(",", ":"))
        if notify and self.config.notify_url:
            params["notify_url"] = self.config.notify_url
        params["sign"] = signing.sign(self._key, signing.sign_content(params))
        return params

    async def call(
        self,
        method: str,
        biz: Mapping[str, Any] | None,
        notify: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The verified response node of a successful call; raises the adapter's errors otherwise."""
        form = self.signed_params(method, biz, notify, extra)
        with _transport_errors(self.config.timeout_s):
            async with (
                asyncio.timeout(self.config.timeout_s),
                self._http.post(
                    self.config.gateway_url, data=form, params={"charset": "utf-8"}, allow_redirects=False
                ) as resp,
            ):
                status = resp.status
                body = await resp.content.read(MAX_BODY_BYTES + 1)
        return parse_response(method, status, body, self._alipay_key)


@contextlib.contextmanager
def _transport_errors(timeout_s: float) -> Iterator[None]:
    """aiohttp and timeout errors → :class:`AlipayUnavailable` (the transport half of the boundary)."""
    try:
        yield
    except TimeoutError:
        raise AlipayUnavailable("timeout", f"Alipay did not answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise AlipayUnavailable("down", f"Alipay unreachable ({type(exc).__name__})") from None


def parse_response(method: str, status: int, body: bytes, alipay_key: Any) -> dict[str, Any]:
    """An answer → its verified node, or the adapter's error (the answer half of the boundary)."""
    if status != 200:
        raise AlipayUnavailable("down", f"Alipay answered HTTP {status} to {method}")
    if len(body) > MAX_BODY_BYTES:
        raise AlipayUnavailable("bad_answer", f"Alipay's answer to {method} is too large")
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
    except ValueError:
        raise AlipayUnavailable("bad_answer", f"Alipay's answer to {method} is not JSON") from None
    found = signing.response_node(text, signing.response_key(method)) or signing.response_node(
        text, "error_response"
    )
    if not isinstance(document, dict) or found is None:
        raise AlipayUnavailable("bad_answer", f"Alipay's answer to {method} has no response node")
    node_text, node = found
    signature = document.get("sign")
    signed = isinstance(signature, str) and signing.verify(alipay_key, node_text, signature)
    if signature is not None and not signed:
        raise AlipayBadSignature(f"Alipay's answer to {method} has a wrong signature")
    code = str(node.get("code", ""))
    if code == SUCCESS:
        if not signed:
            raise AlipayBadSignature(f"Alipay's answer to {method} is not signed")
        return node
    sub_code, sub_msg = str(node.get("sub_code", "")), str(node.get("sub_msg", ""))
    error = AlipayCreditDeclined if sub_code in CREDIT_DECLINED_SUB_CODES else AlipayRefused
    raise error(method, code, sub_code, sub_msg)
