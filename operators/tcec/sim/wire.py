"""Wire helpers for the T/CEC simulator: exact-decimal JSON, envelopes, Ret codes and time formats.

The crypto is :mod:`operators.tcec.codec`'s; this module only adds what the operator side needs on
top of it: money serialised as exact 2-dp JSON numbers (T/CEC 102 §4 expects a BigDecimal-style
``95.40``, not a float), the per-second ``Seq`` counter of §2.1 and the §2.3 return codes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from operators.tcec import codec

RET_BUSY = -1
RET_OK = 0
RET_BAD_SIG = 4001
RET_BAD_TOKEN = 4002
RET_BAD_ENVELOPE = 4003
RET_BAD_PARAMS = 4004
RET_INTERNAL = 500

# T/CEC 102.4 §2.3: the standard wording of each return code, used as Msg.
RET_MESSAGES: dict[int, str] = {
    RET_BUSY: "系统繁忙",
    RET_OK: "",
    RET_BAD_SIG: "签名错误",
    RET_BAD_TOKEN: "Token错误",
    RET_BAD_ENVELOPE: "POST参数不合法，缺少必需参数",
    RET_BAD_PARAMS: "请求的业务参数不合法",
    RET_INTERNAL: "系统错误",
}

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

CENT = Decimal("0.01")
PRICE_UNIT = Decimal("0.0001")


class BusinessParamError(ValueError):
    """The decrypted Data is well-formed JSON but its parameters are invalid (Ret 4004)."""


dumps = codec.dumps  # money as exact JSON numbers (``95.40``)


def build_response(ret: int, payload: dict[str, Any] | None, secrets: codec.Secrets, msg: str = "") -> dict:
    """A signed response envelope (§2.2); ``payload`` None gives the empty ``Data`` of most errors."""
    data = codec.encrypt(dumps(payload), secrets) if payload is not None else ""
    return {"Ret": ret, "Msg": msg, "Data": data, "Sig": codec.response_sig(ret, msg, data, secrets)}


def build_request(
    operator_id: str, payload: dict[str, Any], secrets: codec.Secrets, seq: codec.SeqCounter
) -> dict[str, str]:
    """A signed request envelope for a push (O→A), with exact decimals in ``Data``."""
    data = codec.encrypt(dumps(payload), secrets)
    ts = codec.timestamp()
    n = seq.next(ts)
    return {
        "OperatorID": operator_id,
        "Data": data,
        "TimeStamp": ts,
        "Seq": n,
        "Sig": codec.request_sig(operator_id, data, ts, n, secrets),
    }


def fmt_time(epoch: float) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Asia/Shanghai (§4)."""
    return datetime.fromtimestamp(epoch, codec.SHANGHAI).strftime(DATETIME_FORMAT)


def parse_time(text: str) -> float:
    """Epoch seconds of a ``yyyy-MM-dd HH:mm:ss`` Asia/Shanghai time, or BusinessParamError."""
    try:
        return datetime.strptime(text, DATETIME_FORMAT).replace(tzinfo=codec.SHANGHAI).timestamp()
    except ValueError as exc:
        raise BusinessParamError(f"时间格式错误: {text!r}") from exc


def parse_date(text: str) -> date:
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError as exc:
        raise BusinessParamError(f"日期格式错误: {text!r}") from exc


def money(value: Decimal) -> Decimal:
    """Yuan rounded to cents, as every total in §4 is."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def required_str(data: dict[str, Any], name: str, max_len: int = 64) -> str:
    """A required non-empty string business field; 4004 when it is missing or malformed."""
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # §4: be liberal, partners send ids as numbers
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BusinessParamError(f"缺少或非法参数 {name}")
    return value
