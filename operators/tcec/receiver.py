"""Aggregator-side T/CEC endpoints: the routes one operator pushes to (spec §1, §5 "O→A").

Mounted by the gateway under ``/push/tcec/{operator_id}/``. Each request is checked in the order
§3.3 prescribes — signature (``Ret`` 4001), then bearer token (4002), then decryption (4003), then
business parameters (4004) — and only then mapped to the domain and handed to the event sink. Every
answer, good or bad, is a signed envelope with HTTP 200 (§2): never a 500, never a stack trace.

Replays are refused too (:mod:`operators.tcec.replay`): right after the signature, a TimeStamp
outside the freshness window is 4001 (a malformed one 4003); after the business check
(:mod:`operators.tcec.push_schema`: this interface's fields, so an envelope re-posted to another
interface is 4004), an envelope already taken is 4001. Every refusal is logged with the operator id.

Tokens we issue live in memory, per adapter, for ``TOKEN_TTL_S``; the profile's ``token_reissue``
says whether asking again while one is valid returns it (``same``) or replaces it (``replace``).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from operators.base import EventSink, PushApp, SharedState
from operators.domain import ConnectorState, OperatorEvent, OrderSummary, Reconciliation, StatusSource
from operators.state import MemoryState
from operators.tcec import codec, push_schema, replay, sessions
from operators.tcec.client import (
    CONTENT_TYPE,
    RET_BAD_ENVELOPE,
    RET_BAD_PARAMS,
    RET_BAD_SIG,
    RET_BAD_TOKEN,
    RET_INTERNAL,
    RET_OK,
)
from operators.tcec.fields import MappingError, field_decimal, field_str, objects, optional_datetime
from operators.tcec.mapping import parse_connector_status_infos
from operators.tcec.profile import Profile

logger = logging.getLogger(__name__)

TOKEN_TTL_S = 7200  # §3.4: "7200 is typical"
# §2.3: the standard wording of each refusal, sent as Msg.
MESSAGES = {
    RET_BAD_SIG: "签名错误",
    RET_BAD_TOKEN: "Token错误",
    RET_BAD_ENVELOPE: "POST参数不合法，缺少必需参数",
    RET_BAD_PARAMS: "请求的业务参数不合法",
    RET_INTERNAL: "系统错误",
}


class _Refusal(Exception):
    """Ends a request with a protocol error ``Ret`` and its standard message; ``reason`` is logged."""

    def __init__(self, ret: int, reason: str = "") -> None:
        super().__init__(MESSAGES[ret])
        self.ret = ret
        self.reason = reason or MESSAGES[ret]


# A push handler: canonical Data in; the events for the sink and the answer Data out.
Answer = dict[str, Any] | Callable[[list[object]], dict[str, Any]]
"""The response Data, or a function of the gateway's replies to the events (reconciliation)."""
Handler = Callable[[Mapping[str, Any]], tuple[list[OperatorEvent], Answer]]


# §5.12 DisputeReason for each of the gateway's dispute reasons.
DISPUTE_REASONS = {"NOT_FOUND": 1, "MONEY": 2, "ENERGY": 3}


class TcecReceiver:
    """The push endpoints of one T/CEC operator, and the tokens we issue to it."""

    def __init__(
        self,
        *,
        operator_id: str,
        operator_secret: str,
        secrets: codec.Secrets,
        profile: Profile,
        sink: EventSink,
        seqs: sessions.SessionSeqs,
        state: SharedState | None = None,
        push_window_s: float = replay.DEFAULT_WINDOW_S,
        now: Callable[[], datetime] = lambda: datetime.now(codec.SHANGHAI),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._operator_id = operator_id
        self._operator_secret = operator_secret
        self._secrets = secrets
        self._profile = profile
        self._sink = sink
        self._seqs = seqs
        self._clock = clock
        self._tokens: dict[str, float] = {}  # token → monotonic expiry
        self._guard = replay.ReplayGuard(operator_id, state or MemoryState(), push_window_s, now)

    def push_app(self) -> PushApp:
        """One route per push interface, mounted by the gateway at ``/push/tcec/{operator_id}``."""
        handlers: dict[str, Handler] = {
            "query_token": self._issue_token,
            "notification_stationStatus": self._station_status,
            "notification_start_charge_result": self._start_result,
            "notification_equip_charge_status": self._charge_status,
            "notification_stop_charge_result": self._stop_result,
            "notification_charge_order_info": self._charge_order,
            "check_charge_orders": self._check_orders,
        }
        routes = [
            Route(f"/{interface}", self._endpoint(interface, handler), methods=["POST"])
            for interface, handler in handlers.items()
        ]
        return PushApp(f"/push/tcec/{self._operator_id}", Router(routes))

    # --- query_token (§3.4) -------------------------------------------------------------------------

    def _issue_token(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        fail = 0
        if data.get("OperatorID") != self._operator_id:
            fail = 1  # §3.4 FailReason 1: no such operator
        elif not hmac.compare_digest(str(data.get("OperatorSecret", "")), self._operator_secret):
            fail = 2  # §3.4 FailReason 2: wrong secret
        if fail:
            refused = {"SuccStat": 1, "AccessToken": "", "TokenAvailableTime": 0, "FailReason": fail}
            return [], {"OperatorID": self._operator_id} | refused
        now = self._clock()
        self._tokens = {token: expiry for token, expiry in self._tokens.items() if expiry > now}
        if self._profile.token_reissue == "same" and self._tokens:
            token, expiry = max(self._tokens.items(), key=lambda item: item[1])
            ttl = max(1, int(expiry - now))
        else:
            token, ttl = secrets.token_hex(24), TOKEN_TTL_S
            self._tokens = {token: now + ttl}
        return [], {
            "OperatorID": self._operator_id,
            "SuccStat": 0,
            "AccessToken": token,
            "TokenAvailableTime": ttl,
            "FailReason": 0,
        }

    # --- every endpoint ------------------------------------------------------------------------------

    def _endpoint(self, interface: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        # query_token is the one call made without a bearer token (§2).
        needs_token = interface != "query_token"

        async def endpoint(request: Request) -> Response:
            taken: dict[str, str] | None = None
            try:
                authorization = request.headers.get("Authorization", "") if needs_token else None
                fields, data = self._decode(await request.body(), authorization=authorization)
                try:
                    push_schema.validate(interface, data)
                except MappingError as exc:
                    raise _Refusal(RET_BAD_PARAMS, str(exc)) from exc
                if not await self._guard.first_sight(fields):
                    raise _Refusal(RET_BAD_SIG, f"replayed envelope (TimeStamp {fields['TimeStamp']})")
                taken = fields
                try:
                    events, answer = handler(data)
                except MappingError as exc:
                    raise _Refusal(RET_BAD_PARAMS, str(exc)) from exc
                replies = [await self._sink(self._operator_id, event) for event in events]
                if callable(answer):  # an answer that depends on what the gateway replied
                    answer = answer(replies)
            except _Refusal as refusal:
                if taken is not None:  # refused after all: nothing changed, a corrected re-send may come
                    await self._guard.forget(taken)
                logger.warning(
                    "refused %s push from operator %s: Ret %d, %s",
                    *(interface, self._operator_id, refusal.ret, refusal.reason),
                )
                return self._answer(refusal.ret, MESSAGES[refusal.ret], None)
            except Exception:  # a failing sink must not become an HTTP 500: §2.3 Ret 500, retry later
                logger.exception("handling %s push from operator %s failed", interface, self._operator_id)
                if taken is not None:
                    await self._guard.forget(taken)
                return self._answer(RET_INTERNAL, MESSAGES[RET_INTERNAL], None)
            return self._answer(RET_OK, "", answer)

        return endpoint

    # --- notifications -------------------------------------------------------------------------------

    def _station_status(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        now = datetime.now(codec.SHANGHAI)
        infos = parse_connector_status_infos(data)
        if not infos:
            raise MappingError("no ConnectorStatusInfo")
        events: list[OperatorEvent] = [
            ConnectorState(cid, status, now, StatusSource.PUSH) for cid, status in infos
        ]
        return events, {"Status": 0}

    def _session_push(
        self, data: Mapping[str, Any], parse: Callable[[Mapping[str, Any], str], OperatorEvent]
    ) -> tuple[list[OperatorEvent], str]:
        seq = field_str(data, "StartChargeSeq")
        ref = self._seqs.ref_for(seq)
        if ref is None:
            # Not derived by this adapter since it started (restart, other replica): the gateway's
            # reconciliation re-registers it through session_status. See operators.tcec.sessions.
            logger.warning("push for unknown StartChargeSeq %s from %s", seq, self._operator_id)
            parse(data, seq)  # still validate, so a malformed push gets 4004
            return [], seq
        return [parse(data, ref)], seq

    def _start_result(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        events, seq = self._session_push(data, sessions.parse_start_result)
        return events, {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}

    def _charge_status(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        events, seq = self._session_push(data, sessions.parse_progress)
        return events, {"StartChargeSeq": seq, "SuccStat": 0}

    def _stop_result(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        events, seq = self._session_push(data, sessions.parse_stop_result)
        return events, {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}

    def _charge_order(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], dict[str, Any]]:
        events, seq = self._session_push(data, sessions.parse_order)
        # §5.11: the operator re-pushes until ConfirmResult 0, so an order we cannot yet attribute
        # is answered 1 and arrives again once the session is known.
        confirm = 0 if events else 1
        return events, {
            "StartChargeSeq": seq,
            "ConnectorID": data.get("ConnectorID"),
            "ConfirmResult": confirm,
        }

    def _check_orders(self, data: Mapping[str, Any]) -> tuple[list[OperatorEvent], Answer]:
        """§5.12 reconciliation: the gateway compares each order with its ledger; we answer with
        the orders it disputes (DisputeReason 1 no such order, 2 money, 3 energy)."""
        summaries = tuple(
            OrderSummary(
                session_ref=self._seqs.ref_for(seq),
                operator_ref=seq,
                energy_kwh=field_decimal(order, "TotalPower"),
                total=field_decimal(order, "TotalMoney"),
            )
            for order in objects(data, "ChargeOrders")
            for seq in [field_str(order, "StartChargeSeq")]
        )
        request = Reconciliation(
            optional_datetime(data, "StartTime"), optional_datetime(data, "EndTime"), summaries
        )

        def answer(replies: list[object]) -> dict[str, Any]:
            disputes = [d for reply in replies if isinstance(reply, tuple) for d in reply]
            return {
                "CheckOrderSeq": field_str(data, "CheckOrderSeq"),
                "StartTime": data.get("StartTime"),
                "EndTime": data.get("EndTime"),
                "TotalDisputeOrder": len(disputes),
                "TotalDisputePower": sum((d.energy_kwh for d in disputes), Decimal(0)),
                "TotalDisputeMoney": sum((d.total for d in disputes), Decimal(0)),
                "DisputeOrders": [
                    {
                        "StartChargeSeq": d.operator_ref,
                        "TotalPower": d.energy_kwh,
                        "TotalMoney": d.total,
                        "DisputeReason": DISPUTE_REASONS[d.reason],
                    }
                    for d in disputes
                ],
            }

        return [request], answer

    # --- envelope -----------------------------------------------------------------------------------

    def _decode(self, raw: bytes, *, authorization: str | None) -> tuple[dict[str, str], dict[str, Any]]:
        """The verified envelope fields and decrypted, normalised ``Data``, or a :class:`_Refusal`.

        ``authorization`` is the request's header; None skips the token check (``query_token``).
        """
        try:
            body = json.loads(raw)
            fields = codec.verify_request_sig(body, self._secrets)
        except codec.SignatureError as exc:
            raise _Refusal(RET_BAD_SIG, str(exc)) from exc
        except (ValueError, UnicodeDecodeError) as exc:  # bad JSON, missing envelope field
            raise _Refusal(RET_BAD_ENVELOPE, str(exc)) from exc
        if fields["OperatorID"] != self._operator_id:
            raise _Refusal(RET_BAD_SIG, f"signed by {fields['OperatorID']}")  # not this route's operator
        try:
            self._guard.check_fresh(fields["TimeStamp"])
        except replay.StaleEnvelope as exc:  # §2.3: 4001 "fix keys/clock"; unreadable: 4003
            raise _Refusal(RET_BAD_ENVELOPE if exc.malformed else RET_BAD_SIG, str(exc)) from exc
        if authorization is not None and not self._token_valid(authorization):
            raise _Refusal(RET_BAD_TOKEN)
        try:
            data = codec.decode_request_data(fields, self._secrets).data
        except codec.CodecError as exc:
            raise _Refusal(RET_BAD_ENVELOPE, str(exc)) from exc
        return fields, self._profile.normalise(data)

    def _token_valid(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return expiry is not None and expiry > self._clock()

    def _answer(self, ret: int, msg: str, payload: dict[str, Any] | None) -> Response:
        body = codec.build_response(ret, msg, self._profile.emit(payload) if payload else None, self._secrets)
        return Response(codec.dumps(body), media_type=CONTENT_TYPE)
