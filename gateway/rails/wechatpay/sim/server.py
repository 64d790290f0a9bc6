"""A simulated WeChat Pay API v3 with pay score: a real aiohttp server on loopback.

It checks what WeChat Pay checks — the ``Authorization`` scheme, the merchant's ``mchid`` and
certificate serial, a timestamp within five minutes and the SHA256-RSA signature over
``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n`` — keeps its books in
:class:`~gateway.rails.wechatpay.sim.ledger.WeChatPayLedger`, signs every answer with the platform
key (``Wechatpay-*`` headers) and sends notifications whose ``resource`` is encrypted with the
merchant's APIv3 key (AEAD_AES_256_GCM), redelivered until answered 200/204.

API: ``POST /v3/payscore/serviceorder``, ``GET /v3/payscore/serviceorder?out_order_no=…``,
``POST /v3/payscore/serviceorder/{out_order_no}/complete|cancel|pay``,
``POST /v3/refund/domestic/refunds``, ``GET /v3/refund/domestic/refunds/{out_refund_no}``.
Simulator admin (loopback, no auth): ``GET /_sim/ledger``, ``GET|POST /_sim/faults``,
``GET /_sim/notifications``. With ``collection_failure`` a completed order stays USER_PAYING (WeChat
Pay keeps retrying deductions and notifies nothing) until ``…/pay`` succeeds.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.rails import keys
from gateway.rails.sim.authcodes import AuthCodes, CodeRefused, stable_id
from gateway.rails.sim.control import control_routes, serve, shutdown
from gateway.rails.sim.faults import RailFaults
from gateway.rails.sim.loopback import LoopbackServer
from gateway.rails.sim.notifier import Notifier, Outgoing, Pending
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.ledger import Order, Refund, Refusal, WeChatPayLedger, now_text

SCHEME = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_S = 300
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
Result = tuple[int, dict[str, Any], list[Pending]]
Handler = Callable[[web.Request, dict[str, Any]], Result]


class WeChatPaySimulator:
    """``async with WeChatPaySimulator(config) as sim: sim.base_url``; ``sim.ledger`` is its books."""

    def __init__(self, config: WeChatPaySimConfig) -> None:
        self.config = config
        self.faults: RailFaults = config.faults
        self.ledger = WeChatPayLedger()
        self.calls: Counter[str] = Counter()
        self._platform_key = keys.load_private_key(config.platform_private_key)
        self._merchant_key = keys.load_public_key(config.merchant_public_key)
        self._aes = AESGCM(config.apiv3_key.encode())
        self._server = LoopbackServer("wechatpay-sim", config.host, config.port)
        self._notifier = Notifier(lambda status, _body: status in (200, 204), config.retry_delays)
        self._rng = random.Random(f"wechatpay-sim:{config.seed}")
        self._notify_ids = itertools.count(1)
        self.auth_codes = AuthCodes()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def deliveries(self) -> list[Any]:
        return self._notifier.deliveries

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/payscore/serviceorder", self._api(self._create))
        app.router.add_get("/v3/payscore/serviceorder", self._api(self._query))
        app.router.add_post("/v3/payscore/serviceorder/{out_order_no}/complete", self._api(self._complete))
        app.router.add_post("/v3/payscore/serviceorder/{out_order_no}/cancel", self._api(self._cancel))
        app.router.add_post("/v3/payscore/serviceorder/{out_order_no}/pay", self._api(self._pay))
        app.router.add_post("/v3/refund/domestic/refunds", self._api(self._refund))
        app.router.add_get("/v3/refund/domestic/refunds/{out_refund_no}", self._api(self._query_refund))
        app.router.add_get("/sns/jscode2session", self._jscode2session)  # api.weixin.qq.com's, for sign-in
        app.add_routes(control_routes(self))
        await serve(self._server, self._notifier, app)

    async def stop(self) -> None:
        await shutdown(self._server, self._notifier)

    async def __aenter__(self) -> WeChatPaySimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- the API envelope: faults, authentication, signed answers, notifications ----------------

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            self.calls[f"{request.method} {request.path}"] += 1
            if self.faults.down:
                return self._answer(503, {"code": "SYSTEM_ERROR", "message": "service unavailable"})
            text = await request.text()
            notes: list[Pending] = []
            try:
                self._authenticate(request, text)
                body = json.loads(text) if text else {}
                if not isinstance(body, dict):
                    raise Refusal(400, "PARAM_ERROR", "the body must be a JSON object")
                status, document, notes = handler(request, body)
            except ValueError:
                status, document = 400, {"code": "PARAM_ERROR", "message": "the body is not JSON"}
            except Refusal as exc:
                status, document = exc.status, {"code": exc.code, "message": exc.message}
            copies = 2 if self.faults.duplicate_notifications else 1
            for note in notes:
                if self.faults.notify_before_response:
                    await self._notifier.deliver(note, copies)
                else:
                    self._notifier.send(note, copies)
            if self.faults.latency_ms and await self._server.closed_within(self.faults.latency_ms / 1000):
                return web.Response(status=503)
            if self.faults.timeout_rate and self._rng.random() < self.faults.timeout_rate:
                return await self._server.hang()  # processed, but the answer never arrives
            return self._answer(status, document)

        return serve

    def _authenticate(self, request: web.Request, body: str) -> None:
        scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
        fields = dict(_AUTH_FIELD.findall(rest))
        if scheme != SCHEME or fields.get("mchid") != self.config.mchid:
            raise Refusal(401, "SIGN_ERROR", "missing or unknown Authorization")
        if fields.get("serial_no", "").upper() != self.config.merchant_serial_no.upper():
            raise Refusal(401, "SIGN_ERROR", "serial_no is not the merchant's API certificate")
        timestamp = fields.get("timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
            raise Refusal(401, "SIGN_ERROR", "the timestamp is missing or too far from now")
        message = (
            f"{request.method}\n{request.raw_path}\n{timestamp}\n{fields.get('nonce_str', '')}\n{body}\n"
        )
        try:
            signature = base64.b64decode(fields.get("signature", ""), validate=True)
            self._merchant_key.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise Refusal(
                401, "SIGN_ERROR", "the signature does not verify with the merchant's key"
            ) from None

    def _signed_headers(self, body: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), f"{self._rng.getrandbits(128):032X}"
        message = f"{timestamp}\n{nonce}\n{body}\n".encode()
        signature = self._platform_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.config.platform_public_key_id,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Signature-Type": SCHEME,
        }

    def _answer(self, status: int, document: dict[str, Any]) -> web.Response:
        if status == 204:
            return web.Response(status=204, headers=self._signed_headers(""))
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return web.Response(status=status, text=body, content_type="application/json",
                            headers=self._signed_headers(body))  # fmt: skip

    def _notification(
        self, event_type: str, original_type: str, resource: dict[str, Any], url: str
    ) -> list[Pending]:
        if not url:
            return []
        nonce = "".join(self._rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=12))
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        ciphertext = self._aes.encrypt(nonce.encode(), plaintext, original_type.encode())
        notification_id = f"sim-{next(self._notify_ids):08d}-wxp"
        body = json.dumps(
            {
                "id": notification_id,
                "create_time": now_text(),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": event_type,
                "resource": {
                    "original_type": original_type,
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": original_type,
                    "nonce": nonce,
                },
            },
            separators=(",", ":"),
        )

        def build() -> Outgoing:  # each attempt is signed afresh, as WeChat Pay does
            return Outgoing(body.encode(), {"Content-Type": "application/json", **self._signed_headers(body)})

        return [Pending(notification_id, url, build)]

    # ---- pay-score service orders ----------------------------------------------------------------

    def _order_json(self, order: Order) -> dict[str, Any]:
        document: dict[str, Any] = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "service_id": self.config.service_id,
            "out_order_no": order.out_order_no,
            "service_introduction": order.introduction,
            "state": order.state,
            "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": order.risk_fen},
            "time_range": {"start_time": "OnAccept"},
            "notify_url": order.notify_url,
            "order_id": order.order_id,
            "need_collection": True,
            "openid": order.openid,
        }
        if order.state_description:
            document["state_description"] = order.state_description
        if order.total_fen is not None:
            document |= {"total_amount": order.total_fen, "post_payments": order.post_payments}
            paid = order.transaction_id is not None
            document["collection"] = {
                "state": "USER_PAID" if paid else "USER_PAYING",
                "total_amount": order.total_fen,
                "paying_amount": 0 if paid else order.total_fen,
                "paid_amount": order.paid_fen,
                "details": [{"seq": 1, "amount": order.paid_fen, "paid_type": "NEWTON",
                             "paid_time": order.paid_time, "transaction_id": order.transaction_id}]
                if paid else [],
            }  # fmt: skip
        return document

    def _check_service(self, body: dict[str, Any]) -> None:
        if body.get("service_id") != self.config.service_id or body.get("appid") != self.config.appid:
            raise Refusal(400, "PARAM_ERROR", "service_id or appid is not this merchant's")

    def _create(self, request: web.Request, body: dict[str, Any]) -> Result:
        self._check_service(body)
        if body.get("need_user_confirm") is not False or not isinstance(body.get("openid"), str):
            raise Refusal(
                400, "PARAM_ERROR", "only no-confirm orders (need_user_confirm false, openid) are simulated"
            )
        risk = _fen(body.get("risk_fund"), "amount")
        if not 0 < risk <= self.config.risk_cap:
            raise Refusal(400, "PARAM_ERROR", "risk_fund.amount is not within the service's risk cap")
        out_order_no = _required(body, "out_order_no")
        if out_order_no not in self.ledger.orders and (
            self.faults.decline_credit or body["openid"] in self.config.declined_openids
        ):
            raise Refusal(403, "RULE_LIMIT", "the user's pay score does not qualify for this service")
        order = self.ledger.create(
            out_order_no,
            body["openid"],
            risk,
            str(body.get("service_introduction", "")),
            str(body.get("notify_url", "")),
        )
        return 200, self._order_json(order), []

    def _query(self, request: web.Request, body: dict[str, Any]) -> Result:
        self._check_service(dict(request.query))
        return 200, self._order_json(self.ledger.order(request.query.get("out_order_no", ""))), []

    def _complete(self, request: web.Request, body: dict[str, Any]) -> Result:
        self._check_service(body)
        order = self.ledger.order(request.match_info["out_order_no"])
        total = _fen(body, "total_amount")
        payments = body.get("post_payments")
        if (
            not isinstance(payments, list)
            or sum(_fen(p, "amount") * (_fen(p, "count") if "count" in p else 1) for p in payments) != total
        ):
            raise Refusal(400, "PARAM_ERROR", "total_amount must equal the sum of post_payments")
        notes = self._deduct(order) if self.ledger.complete(order, total, payments) else []
        return 200, self._order_json(order), notes

    def _pay(self, request: web.Request, body: dict[str, Any]) -> Result:
        self._check_service(body)
        order = self.ledger.order(request.match_info["out_order_no"])
        if order.state_description != "MCH_COMPLETE":
            raise Refusal(400, "INVALID_ORDER_STATE", "the order is not waiting to be collected")
        notes = self._deduct(order)
        return 204, {}, notes

    def _deduct(self, order: Order) -> list[Pending]:
        if not self.ledger.deduct(order, succeeds=not self.faults.collection_failure):
            return []
        return self._notification("PAYSCORE.USER_PAID", "payscore", self._order_json(order), order.notify_url)

    def _cancel(self, request: web.Request, body: dict[str, Any]) -> Result:
        self._check_service(body)
        _required(body, "reason")
        order = self.ledger.order(request.match_info["out_order_no"])
        self.ledger.cancel(order)
        return 200, self._order_json(order), []

    # ---- refunds ---------------------------------------------------------------------------------

    def _refund_json(self, refund: Refund) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": refund.transaction_id,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": refund.created,
            "success_time": refund.created,
            "status": refund.status,
            "amount": {
                "total": refund.total_fen,
                "refund": refund.refund_fen,
                "payer_total": refund.total_fen,
                "payer_refund": refund.refund_fen,
                "currency": "CNY",
            },
        }

    def _refund(self, request: web.Request, body: dict[str, Any]) -> Result:
        amount = body.get("amount")
        refund, moved = self.ledger.refund(
            _required(body, "transaction_id"), _required(body, "out_refund_no"), _fen(amount, "refund"),
            _fen(amount, "total"), str(body.get("notify_url", "")),
        )  # fmt: skip
        notes: list[Pending] = []
        if moved:
            resource = self._refund_json(refund) | {
                "mchid": self.config.mchid,
                "refund_status": refund.status,
            }
            notes = self._notification("REFUND.SUCCESS", "refund", resource, refund.notify_url)
        return 200, self._refund_json(refund), notes

    def _query_refund(self, request: web.Request, body: dict[str, Any]) -> Result:
        refund = self.ledger.refunds.get(request.match_info["out_refund_no"])
        if refund is None:
            raise Refusal(404, "RESOURCE_NOT_EXISTS", "no such refund")
        return 200, self._refund_json(refund), []

    # ---- admin -----------------------------------------------------------------------------------

    async def _jscode2session(self, request: web.Request) -> web.Response:
        """code2Session: a login code → the user's openid, once; errcode 40029 / 40163 otherwise."""
        if self.faults.down:
            return web.json_response({"errcode": -1, "errmsg": "system error"})
        q = request.query
        self.calls["jscode2session"] += 1
        if q.get("appid") != self.config.appid or q.get("secret") != DEMO_APP_SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid or secret"})
        try:
            user = self.auth_codes.redeem(self.config.appid, q.get("js_code", ""))
        except CodeRefused as exc:
            errcode, errmsg = (40163, "code been used") if exc.reason == "used" else (40029, "invalid code")
            return web.json_response({"errcode": errcode, "errmsg": errmsg})
        session_key = base64.b64encode(self._rng.randbytes(16)).decode()
        return web.json_response(
            {"openid": wechat_openid(self.config.appid, user), "session_key": session_key}
        )


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise Refusal(400, "PARAM_ERROR", f"{name} is required")
    return value


def _fen(document: Any, name: str) -> int:
    value = document.get(name) if isinstance(document, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Refusal(400, "PARAM_ERROR", f"{name} must be a non-negative integer (fen)")
    return value


DEMO_APP_SECRET = "chargegate-demo-miniprogram-secret"  # the mini program's AppSecret in the simulator


def wechat_openid(appid: str, user: str) -> str:
    """The simulated openid of ``user`` under ``appid`` (an openid that starts with ``o`` is kept)."""
    return user if user.startswith("o") else "o" + stable_id("", appid, user, digits=27)
