"""The credit rails a deployment configures (``[alipay]``, ``[wechatpay]``, ``[payments]``): checked
when the settings load, built once at start-up over the shared client session.

Notifications come back to ``{public_url}/payments/{rail}/notify``
(:data:`NOTIFY_PATH`), which the application serves.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from gateway.rails import keys
from gateway.rails.alipay.client import AlipayClient, AlipayConfig
from gateway.rails.alipay.rail import AlipayRail
from gateway.rails.port import CreditRail
from gateway.rails.wechatpay.client import WeChatPayClient, WeChatPayConfig
from gateway.rails.wechatpay.rail import WeChatPayRail
from gateway.settings.sections import Settings

NOTIFY_PATH = "/payments/{rail}/notify"
RAILS = ("alipay", "wechatpay")
BUREAU = "bureau"  # the credit bureau decides, the card collects (gateway.rails.bureau): DRIVER=bureau:DRIVER


def notify_url(settings: Settings, rail: str) -> str:
    return settings.public_url + NOTIFY_PATH.format(rail=rail)


def enabled(settings: Settings) -> tuple[str, ...]:
    """The rails the settings turn on."""
    on = {"alipay": bool(settings.alipay.app_id), "wechatpay": bool(settings.wechatpay.mchid)}
    return tuple(rail for rail in RAILS if on[rail])


def enrolments(settings: Settings) -> dict[str, tuple[str, str]]:
    """``[payments] enrolments`` as driver → (rail, account); ValueError naming a bad entry."""
    found: dict[str, tuple[str, str]] = {}
    for entry in settings.payments.enrolments:
        driver, _, target = entry.partition("=")
        rail, _, account = target.partition(":")
        if not (driver and account) or rail not in (*RAILS, BUREAU):
            raise ValueError(
                f"{entry!r} is not DRIVER=RAIL:ACCOUNT with RAIL one of {', '.join((*RAILS, BUREAU))}"
            )
        if rail == BUREAU:
            if not settings.credit.bureau_url:
                raise ValueError(f"{entry!r} names the bureau rail, but credit.bureau_url is not set")
            if account != driver:
                raise ValueError(f"{entry!r}: on the bureau rail the account is the driver id")
        elif rail not in enabled(settings):
            raise ValueError(f"{entry!r} names {rail}, which is not configured")
        if driver in found:
            raise ValueError(f"{driver} is enrolled twice")
        found[driver] = (rail, account)
    return found


def alipay_config(settings: Settings) -> AlipayConfig:
    a = settings.alipay
    for name in ("app_private_key", "alipay_public_key", "zm_service_id"):
        if not getattr(a, name):
            raise ValueError(f"alipay.{name} is required when alipay.app_id is set")
    _loads("alipay.app_private_key", keys.load_private_key, a.app_private_key)
    _loads("alipay.alipay_public_key", keys.load_public_key, a.alipay_public_key)
    return AlipayConfig(
        a.app_id, a.app_private_key, a.alipay_public_key, a.gateway_url, notify_url(settings, "alipay"),
        a.zm_service_id, a.timeout_s,
    )  # fmt: skip


def wechatpay_config(settings: Settings) -> WeChatPayConfig:
    w = settings.wechatpay
    for name in ("appid", "service_id", "merchant_private_key", "merchant_serial_no", "platform_public_key",
                 "platform_public_key_id", "apiv3_key"):  # fmt: skip
        if not getattr(w, name):
            raise ValueError(f"wechatpay.{name} is required when wechatpay.mchid is set")
    _loads("wechatpay.merchant_private_key", keys.load_private_key, w.merchant_private_key)
    _loads("wechatpay.platform_public_key", keys.load_public_key, w.platform_public_key)
    if len(w.apiv3_key.encode()) != 32:
        raise ValueError("wechatpay.apiv3_key must be 32 bytes")
    return WeChatPayConfig(
        w.mchid, w.appid, w.service_id, w.merchant_private_key, w.merchant_serial_no, w.platform_public_key,
        w.platform_public_key_id, w.apiv3_key, w.base_url, notify_url(settings, "wechatpay"), w.timeout_s,
    )  # fmt: skip


def _loads(name: str, load: Callable[[str], object], text: str) -> None:
    try:
        load(text)
    except ValueError as exc:
        raise ValueError(f"{name} is not a usable key: {exc}") from None


def check(settings: Settings) -> None:
    """Everything :func:`build` needs is there and loads; ValueError naming what is not."""
    if "alipay" in enabled(settings):
        alipay_config(settings)
    if "wechatpay" in enabled(settings):
        wechatpay_config(settings)
    enrolments(settings)


def build(settings: Settings, http: aiohttp.ClientSession) -> dict[str, CreditRail]:
    """The configured rails by name, over the application's shared client session."""
    rails: dict[str, CreditRail] = {}
    if "alipay" in enabled(settings):
        rails["alipay"] = AlipayRail(AlipayClient(http, alipay_config(settings)))
    if "wechatpay" in enabled(settings):
        rails["wechatpay"] = WeChatPayRail(WeChatPayClient(http, wechatpay_config(settings)))
    return rails
