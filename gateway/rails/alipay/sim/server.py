"""A simulated Alipay open platform: a real aiohttp server on loopback serving ``POST /gateway.do``.

It checks what the real gateway checks — a known ``app_id``, ``sign_type`` RSA2 and the RSA2
signature over the sorted parameters with the app's uploaded public key — keeps its books in
:class:`~gateway.rails.alipay.sim.ledger.AlipayLedger`, signs every answer's ``*_response`` node
with its own key and sends signed ``trade_status_sync`` notifications to each call's ``notify_url``
until they are acknowledged with ``success``. Faults: :class:`~gateway.rails.sim.faults.RailFaults`.

Methods: ``zhima.credit.payafteruse.creditagreement.sign|query``,
``zhima.credit.payafteruse.creditbizorder.order|finish|query``,
``alipay.trade.pay|precreate|query|refund``. Simulator admin (loopback, no auth):
``GET /_sim/ledger`` (the books, with totals collected and refunded), ``GET|POST /_sim/faults``,
``GET /_sim/notifications`` (every delivery attempt), ``POST /_sim/trades/{out_trade_no}/pay``
(the driver scans a precreated top-up QR code and pays).
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.rails import keys
from gateway.rails.alipay import signing
from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.ledger import AlipayLedger, Refusal, Trade, alipay_user_id
from gateway.rails.amounts import parse_yuan, yuan_text
from gateway.rails.sim.authcodes import AuthCodes, CodeRefused, stable_id
from gateway.rails.sim.control import control_routes, serve, shutdown
from gateway.rails.sim.faults import RailFaults
from gateway.rails.sim.loopback import LoopbackServer
from gateway.rails.sim.notifier import Notifier, Outgoing, Pending

BEIJING = ZoneInfo("Asia/Shanghai")
Params = dict[str, str]
Biz = dict[str, Any]


class BadRequest(Exception):
    """A protocol error: ``code`` 40002 (or 40001) with ``sub_code``."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40002") -> None:
        super().__init__(sub_msg)
        self.code, self.sub_code, self.sub_msg = code, sub_code, sub_msg


class AlipaySimulator:
    """``async with AlipaySimulator(config) as sim: sim.gateway_url``; ``sim.ledger`` is its books."""

    def __init__(self, config: AlipaySimConfig) -> None:
        self.config = config
        self.faults: RailFaults = config.faults
        self.ledger = AlipayLedger()
        self.calls: Counter[str] = Counter()
        self._key = keys.load_private_key(config.alipay_private_key)
        self._apps = {app_id: keys.load_public_key(pem) for app_id, pem in config.apps.items()}
        self._server = LoopbackServer("alipay-sim", config.host, config.port)
        self._notifier = Notifier(lambda status, body: status == 200 and body.strip() == b"success",
                                  config.retry_delays)  # fmt: skip
        self._rng = random.Random(f"alipay-sim:{config.seed}")
        self._notify_ids = itertools.count(1)
        self._methods: dict[str, Callable[[str, Biz, Params], tuple[Biz, list[Pending]]]] = {
            "zhima.credit.payafteruse.creditagreement.sign": self._sign,
            "zhima.credit.payafteruse.creditagreement.query": self._query_agreement,
            "zhima.credit.payafteruse.creditbizorder.order": self._order,
            "zhima.credit.payafteruse.creditbizorder.finish": self._finish,
            "zhima.credit.payafteruse.creditbizorder.query": self._query_order,
            "alipay.trade.pay": self._pay,
            "alipay.trade.precreate": self._precreate,
            "alipay.trade.query": self._query_trade,
            "alipay.trade.refund": self._refund,
            "alipay.system.oauth.token": self._oauth_token,  # sign-in (gateway.identity)
        }
        self.auth_codes = AuthCodes()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def gateway_url(self) -> str:
        return f"{self._server.base_url}/gateway.do"

    @property
    def deliveries(self) -> list[Any]:
        return self._notifier.deliveries

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/gateway.do", self._gateway)
        app.router.add_post("/_sim/trades/{out_trade_no}/pay", self._buyer_pays)
        app.add_routes(control_routes(self))
        await serve(self._server, self._notifier, app)

    async def stop(self) -> None:
        await shutdown(self._server, self._notifier)

    async def __aenter__(self) -> AlipaySimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- the gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.Response:
        if self.faults.down:
            return web.Response(status=503, text="service unavailable")
        params: Params = dict(request.query)
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        method = params.get("method", "")
        self.calls[method] += 1
        node_key = signing.response_key(method) if method in self._methods else "error_response"
        notifications: list[Pending] = []
        try:
            app_id, biz = self._authenticate(params)
            node, notifications = self._methods[method](app_id, biz, params)
            node = {"code": "10000", "msg": "Success", **node}
        except BadRequest as exc:
            node = {
                "code": exc.code,
                "msg": "Invalid Arguments",
                "sub_code": exc.sub_code,
                "sub_msg": exc.sub_msg,
            }
        except Refusal as exc:
            node = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": exc.sub_code,
                "sub_msg": exc.sub_msg,
            }
        copies = 2 if self.faults.duplicate_notifications else 1
        for note in notifications:
            if self.faults.notify_before_response:
                await self._notifier.deliver(note, copies)
            else:
                self._notifier.send(note, copies)
        if self.faults.latency_ms and await self._server.closed_within(self.faults.latency_ms / 1000):
            return web.Response(status=503, text="shutting down")
        if self.faults.timeout_rate and self._rng.random() < self.faults.timeout_rate:
            return await self._server.hang()  # processed, but the answer never arrives
        body = signing.signed_response(self._key, node_key, node)
        return web.Response(text=body, content_type="application/json", charset="utf-8")

    def _authenticate(self, params: Params) -> tuple[str, Biz]:
        """The checks the open platform makes before it looks at the business content."""
        if params.get("method") not in self._methods:
            raise BadRequest("isv.invalid-method", "unknown method")
        app_id = params.get("app_id", "")
        if app_id not in self._apps:
            raise BadRequest("isv.invalid-app-id", "unknown app_id")
        if params.get("sign_type") != "RSA2":
            raise BadRequest("isv.invalid-signature-type", "sign_type must be RSA2")
        if not params.get("sign"):
            raise BadRequest("isv.missing-signature", "sign is missing")
        if not signing.verify(self._apps[app_id], signing.sign_content(params), params["sign"]):
            raise BadRequest("isv.invalid-signature", "the signature does not verify with the app's key")
        try:
            datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
            biz = json.loads(params.get("biz_content") or "{}")  # oauth.token carries none
        except ValueError:
            raise BadRequest("isv.invalid-parameter", "timestamp or biz_content is malformed") from None
        if not isinstance(biz, dict):
            raise BadRequest("isv.invalid-parameter", "biz_content must be a JSON object")
        return app_id, biz

    # ---- methods: (app_id, biz, params) → (response node, notifications) ------------------------

    def _sign(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        agreement = self.ledger.sign(
            app_id, _required(biz, "out_agreement_no"), _required(biz, "external_logon_id")
        )
        return {
            "credit_agreement_id": agreement.credit_agreement_id,
            "out_agreement_no": agreement.out_agreement_no,
        }, []

    def _oauth_token(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        """alipay.system.oauth.token: a mini program's auth code → the user's id (single use)."""
        if params.get("grant_type") != "authorization_code":
            raise BadRequest("isv.invalid-parameter", "grant_type must be authorization_code")
        try:
            user = self.auth_codes.redeem(app_id, params.get("code", ""))
        except CodeRefused:
            raise BadRequest("isv.code-invalid", "授权码code无效") from None  # used, expired or unknown alike
        user_id = user if user.startswith("2088") else alipay_user_id(user)
        token = stable_id("authusrB", user_id, str(self._rng.random()))
        return {"user_id": user_id, "access_token": token, "expires_in": 1296000, "re_expires_in": 2592000,
                "refresh_token": token.replace("authusrB", "authusrR")}, []  # fmt: skip

    def _query_agreement(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        agreement = self.ledger.agreement(
            app_id, str(biz.get("credit_agreement_id", "")), str(biz.get("out_agreement_no", ""))
        )
        return {
            "credit_agreement_id": agreement.credit_agreement_id,
            "out_agreement_no": agreement.out_agreement_no,
            "agreement_status": agreement.status,
            "alipay_user_id": agreement.user_id,
        }, []

    def _order(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        agreement = self.ledger.agreement(app_id, _required(biz, "credit_agreement_id"), "")
        if self.faults.decline_credit or agreement.logon_id in self.config.declined_users:
            raise Refusal("ZHIMA_CREDIT_RISK_REJECT", "Zhima credit declined the order")
        order = self.ledger.open_order(
            app_id, agreement.credit_agreement_id, _required(biz, "out_order_no"),
            _amount(biz, "order_amount"), str(biz.get("subject", "")),
        )  # fmt: skip
        return {
            "credit_biz_order_id": order.credit_biz_order_id,
            "out_order_no": order.out_order_no,
            "order_status": order.status,
        }, []

    def _finish(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        order = self.ledger.finish(
            app_id, _required(biz, "credit_biz_order_id"), _required(biz, "out_request_no")
        )
        return {
            "credit_biz_order_id": order.credit_biz_order_id,
            "out_request_no": biz["out_request_no"],
            "order_status": order.status,
        }, []

    def _query_order(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        order = self.ledger.order(
            app_id, str(biz.get("credit_biz_order_id", "")), str(biz.get("out_order_no", ""))
        )
        node: Biz = {
            "credit_biz_order_id": order.credit_biz_order_id,
            "out_order_no": order.out_order_no,
            "order_status": order.status,
            "credit_agreement_id": order.credit_agreement_id,
        }
        if order.status == "TRADE_FINISHED" and order.trade_no:
            node |= {
                "trade_no": order.trade_no,
                "total_amount": yuan_text(self.ledger.trades[order.trade_no].total_amount),
            }
        return node, []

    def _pay(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        if biz.get("scene") != "ZHIMA_CREDIT_CODE" or biz.get("product_code") != "GENERAL_WITHHOLDING":
            raise BadRequest("isv.invalid-parameter", "only Zhima credit withholding is simulated")
        trade = self.ledger.withhold(
            app_id, _required(biz, "auth_code"), _required(biz, "out_trade_no"),
            _amount(biz, "total_amount"), str(biz.get("subject", "")), params.get("notify_url", ""),
        )  # fmt: skip
        self.ledger.settle(trade, paid=not self.faults.collection_failure)
        node = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "total_amount": yuan_text(trade.total_amount),
        }
        return node, self._trade_notification(trade)

    def _precreate(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        trade = self.ledger.precreate(
            app_id, _required(biz, "out_trade_no"), _amount(biz, "total_amount"),
            str(biz.get("subject", "")), params.get("notify_url", ""),
        )  # fmt: skip
        return {"out_trade_no": trade.out_trade_no, "qr_code": f"{self.base_url}/qr/{trade.trade_no}"}, []

    def _query_trade(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        trade = self.ledger.trade(app_id, str(biz.get("trade_no", "")), str(biz.get("out_trade_no", "")))
        return {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": yuan_text(trade.total_amount),
        }, []

    def _refund(self, app_id: str, biz: Biz, params: Params) -> tuple[Biz, list[Pending]]:
        trade = self.ledger.trade(app_id, str(biz.get("trade_no", "")), str(biz.get("out_trade_no", "")))
        out_request_no = _required(biz, "out_request_no")
        moved = self.ledger.refund(trade, _amount(biz, "refund_amount"), out_request_no)
        node = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "refund_fee": yuan_text(trade.refunded),
            "fund_change": "Y" if moved else "N",
        }
        return node, self._trade_notification(trade, out_request_no) if moved else []

    # ---- notifications and admin ---------------------------------------------------------------

    def _trade_notification(self, trade: Trade, refund_request: str | None = None) -> list[Pending]:
        if not trade.notify_url:
            return []
        now = datetime.now(UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        form = {
            "notify_id": f"sim{next(self._notify_ids):016d}",
            "notify_type": "trade_status_sync",
            "notify_time": now,
            "app_id": trade.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": yuan_text(trade.total_amount),
            "subject": trade.subject,
        }
        if refund_request is not None:
            form |= {"out_biz_no": refund_request, "refund_fee": yuan_text(trade.refunded), "gmt_refund": now}
        form["sign"] = signing.sign(self._key, signing.sign_content(form, signing.NOTIFICATION_UNSIGNED))
        outgoing = Outgoing(
            _form_body(form), {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        )
        return [Pending(form["notify_id"], trade.notify_url, lambda: outgoing)]

    async def _buyer_pays(self, request: web.Request) -> web.Response:
        out_trade_no = request.match_info["out_trade_no"]
        trade = next((t for t in self.ledger.trades.values() if t.out_trade_no == out_trade_no), None)
        if trade is None or trade.credit_biz_order_id is not None or trade.status != "WAIT_BUYER_PAY":
            return web.json_response({"error": "no precreated trade waiting for payment"}, status=404)
        self.ledger.settle(trade, paid=not self.faults.collection_failure)
        copies = 2 if self.faults.duplicate_notifications else 1
        for note in self._trade_notification(trade):
            await self._notifier.deliver(note, copies)
        return web.json_response({"trade_no": trade.trade_no, "trade_status": trade.status})


def _form_body(form: Params) -> bytes:
    return urlencode(form).encode()


def _required(biz: Biz, name: str) -> str:
    value = biz.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest("isv.missing-parameter", f"{name} is required")
    return value


def _amount(biz: Biz, name: str) -> Decimal:
    try:
        return parse_yuan(biz.get(name))
    except ValueError:
        raise BadRequest("isv.invalid-parameter", f"{name} must be a yuan amount like 12.50") from None
