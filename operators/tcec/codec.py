"""T/CEC 102.4 envelope codec: AES-128-CBC/PKCS7 + Base64 ``Data`` and HMAC-MD5 signatures.

Pure functions over bytes and dicts, used by both the adapter (aggregator side) and the simulator
(operator side). Known-answer vectors from the spec live in ``tests/operators/tcec/test_codec.py``.
"""

from __future__ import annotations

import binascii
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from operators import jsoncodec

SHANGHAI = ZoneInfo("Asia/Shanghai")
BLOCK = algorithms.AES.block_size // 8  # 16 bytes: PKCS#7 pads to whole AES blocks
# PKCS#7 padding of n bytes is n bytes of value n (1…16): the 16 possible pads, built once.
PADS = tuple(bytes((n,)) * n for n in range(BLOCK + 1))


class CodecError(ValueError):
    """An envelope that cannot be decoded: bad Base64, bad padding, bad JSON, missing fields."""


class SignatureError(CodecError):
    """An envelope whose ``Sig`` does not match its content."""


@dataclass(frozen=True, slots=True)
class Secrets:
    """The three 16-byte secrets of one direction of one partnership (T/CEC 102.4 §3.1)."""

    data_secret: str = field(repr=False)
    data_iv: str = field(repr=False)
    sig_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("data_secret", "data_iv", "sig_secret"):
            if len(getattr(self, name).encode()) != 16:
                raise ValueError(f"{name} must be exactly 16 ASCII bytes")


def encrypt(plaintext: bytes, secrets: Secrets) -> str:
    """AES-128-CBC with PKCS#7 padding, then standard Base64 (§3.2)."""
    pad = BLOCK - len(plaintext) % BLOCK
    ciphertext = _chain(secrets).encrypt(plaintext + PADS[pad])
    return binascii.b2a_base64(ciphertext, newline=False).decode("ascii")


def decrypt(data: str, secrets: Secrets) -> bytes:
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)  # what base64.b64decode(validate=True) calls
    except (binascii.Error, ValueError) as exc:
        raise CodecError("Data is not valid Base64") from exc
    if not raw or len(raw) % BLOCK:
        raise CodecError("Data is not a whole number of AES blocks")
    padded = _chain(secrets).decrypt(raw)
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or not padded.endswith(PADS[pad]):  # the checks of PKCS7.unpadder
        raise CodecError("Data has bad padding (wrong DataSecret or IV?)")
    return padded[:-pad]


def sign(message: str, secrets: Secrets) -> str:
    """HMAC-MD5 of the UTF-8 message, 32 uppercase hex characters (§3.3)."""
    mac = _keyed_md5(secrets.sig_secret).copy()  # a copy of the keyed state: no key set-up per call
    mac.update(message.encode("utf-8"))
    return mac.hexdigest().upper()


def request_sig(operator_id: str, data: str, timestamp: str, seq: str, secrets: Secrets) -> str:
    # T/CEC 102.4: the request signature covers OperatorID + Data + TimeStamp + Seq, in that order.
    return sign(operator_id + data + timestamp + seq, secrets)


def response_sig(ret: int, msg: str, data: str, secrets: Secrets) -> str:
    # T/CEC 102.4: the response signature covers Ret (decimal) + Msg + Data.
    return sign(str(ret) + msg + data, secrets)


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON in which a ``Decimal`` is a number written exactly (``95.40``): T/CEC
    money is BigDecimal-style with its trailing zeros (§9 vector C), and never passes a float."""
    return jsoncodec.dumps(payload)


def loads(raw: bytes | str) -> Any:
    """``json.loads``, the fast way when orjson accepts the text (it then reads it the same way);
    what orjson refuses (NaN, huge integers, lone surrogates, bad UTF-8…) goes to ``json``, which
    accepts or refuses it exactly as before. Numbers stay floats here, unlike
    :func:`operators.jsoncodec.loads` (this is the hot path: whole station lists); money is read
    from them by :func:`operators.tcec.fields.field_decimal`, through the float's shortest repr,
    which gives back the decimal the operator sent for up to 15 significant digits."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def loads_object(raw: bytes) -> dict[str, Any]:
    try:
        value = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError("Data does not decrypt to JSON") from exc
    if not isinstance(value, dict):
        raise CodecError("Data must be a JSON object")
    return value


TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
# The TimeStamp of the current second, formatted once per second rather than once per call.
_this_second: list[tuple[int, str]] = [(-1, "")]


def timestamp(now: datetime | None = None) -> str:
    """§2.1 ``TimeStamp``: ``yyyyMMddHHmmss`` in Beijing time, of ``now`` or of this second."""
    if now is not None:
        return now.astimezone(SHANGHAI).strftime(TIMESTAMP_FORMAT)
    second = int(time.time())
    last = _this_second[0]
    if last[0] != second:
        last = _this_second[0] = (second, datetime.fromtimestamp(second, SHANGHAI).strftime(TIMESTAMP_FORMAT))
    return last[1]


class SeqCounter:
    """T/CEC 102.4 §2.1: ``Seq`` counts messages within one ``TimeStamp`` second, from 0001."""

    def __init__(self) -> None:
        self._second = ""
        self._count = 0

    def next(self, ts: str) -> str:
        if ts != self._second:
            self._second, self._count = ts, 0
        self._count = self._count % 9999 + 1
        return f"{self._count:04d}"


def build_request(
    operator_id: str, payload: dict[str, Any], secrets: Secrets, *, ts: str | None = None, seq: str = "0001"
) -> dict[str, str]:
    """The request envelope for a business payload."""
    data = encrypt(dumps(payload), secrets)
    ts = ts or timestamp()
    return {
        "OperatorID": operator_id,
        "Data": data,
        "TimeStamp": ts,
        "Seq": seq,
        "Sig": request_sig(operator_id, data, ts, seq, secrets),
    }


@dataclass(frozen=True, slots=True)
class Request:
    operator_id: str
    data: dict[str, Any]
    timestamp: str
    seq: str


def envelope_fields(body: Any, names: tuple[str, ...]) -> dict[str, str]:
    """The named string fields of an envelope, or CodecError naming the first missing one."""
    if not isinstance(body, dict):
        raise CodecError("envelope must be a JSON object")
    out = {}
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise CodecError(f"envelope field {name} is missing or not a string")
        out[name] = value
    return out


def verify_request_sig(body: Any, secrets: Secrets) -> dict[str, str]:
    """Check a request envelope's shape and signature; returns its fields. Does not decrypt."""
    fields = envelope_fields(body, ("OperatorID", "Data", "TimeStamp", "Seq", "Sig"))
    expected = request_sig(fields["OperatorID"], fields["Data"], fields["TimeStamp"], fields["Seq"], secrets)
    if not hmac.compare_digest(expected, fields["Sig"]):
        raise SignatureError("request signature does not match")
    return fields


def decode_request_data(fields: dict[str, str], secrets: Secrets) -> Request:
    data = loads_object(decrypt(fields["Data"], secrets))
    return Request(fields["OperatorID"], data, fields["TimeStamp"], fields["Seq"])


def parse_request(body: Any, secrets: Secrets) -> Request:
    """Verify then decrypt a request envelope (signature first, as §3.3 orders it)."""
    return decode_request_data(verify_request_sig(body, secrets), secrets)


def build_response(ret: int, msg: str, payload: dict[str, Any] | None, secrets: Secrets) -> dict[str, Any]:
    data = encrypt(dumps(payload), secrets) if payload is not None else ""
    return {"Ret": ret, "Msg": msg, "Data": data, "Sig": response_sig(ret, msg, data, secrets)}


@dataclass(frozen=True, slots=True)
class Response:
    ret: int
    msg: str
    data: dict[str, Any] | None


def parse_response(body: Any, secrets: Secrets) -> Response:
    """Verify and decrypt a response envelope. ``data`` is None when ``Data`` is empty."""
    if not isinstance(body, dict):
        raise CodecError("response envelope must be a JSON object")
    ret = body.get("Ret")
    if isinstance(ret, str) and ret.lstrip("-").isdigit():
        ret = int(ret)
    if not isinstance(ret, int) or isinstance(ret, bool):
        raise CodecError("response field Ret is missing or not an integer")
    msg = body.get("Msg") or ""
    data = body.get("Data") or ""
    sig = body.get("Sig")
    if not isinstance(msg, str) or not isinstance(data, str) or not isinstance(sig, str):
        raise CodecError("response fields Msg, Data and Sig must be strings")
    if not hmac.compare_digest(response_sig(ret, msg, data, secrets), sig):
        raise SignatureError("response signature does not match")
    return Response(ret, msg, loads_object(decrypt(data, secrets)) if data else None)


@lru_cache(maxsize=256)
def _keyed_md5(sig_secret: str) -> hmac.HMAC:
    # Never updated itself: sign() works on copies. hmac.digest(key, msg, "md5") would look MD5 up
    # in OpenSSL and key a fresh context on every call (~10 us per signature on a busy loop).
    return hmac.new(sig_secret.encode(), digestmod="md5")


class _CbcChain:
    """Long-lived AES-128-CBC contexts for one (DataSecret, DataIV), in one thread.

    Creating an encryptor or decryptor makes OpenSSL look the cipher up and set up the key schedule
    every time, which costs more than the AES work on a T/CEC message (~15 us per context on a busy
    event loop against ~1 us for a status answer). A CBC context that is never finalised keeps its
    last ciphertext block ``L`` as the chaining value: it processes the next message as if ``L``
    were its IV. Each message is put back on the real IV by XOR-ing its first block with
    ``IV ^ L``: encryption feeds ``P1 ^ IV ^ L`` so that ``C1 = E(P1 ^ IV)``; decryption turns
    ``D(C1) ^ L`` into ``D(C1) ^ IV = P1``. Every later block chains exactly as in a fresh context
    (the spec's vectors and a test against fresh contexts pin the bytes). Only whole blocks go in
    (the caller pads, or checks the length), so the contexts never buffer anything.
    """

    __slots__ = ("_decryptor", "_encryptor", "_iv", "_decrypt_mask", "_encrypt_mask")

    def __init__(self, data_secret: str, data_iv: str) -> None:
        cipher = Cipher(algorithms.AES(data_secret.encode()), modes.CBC(data_iv.encode()))
        self._encryptor: CipherContext = cipher.encryptor()
        self._decryptor: CipherContext = cipher.decryptor()
        self._iv = int.from_bytes(data_iv.encode(), "big")
        self._encrypt_mask = self._decrypt_mask = 0  # IV ^ L; L is the IV itself in a fresh context

    def encrypt(self, padded: bytes) -> bytes:
        first = (int.from_bytes(padded[:BLOCK], "big") ^ self._encrypt_mask).to_bytes(BLOCK, "big")
        out = self._encryptor.update(first + padded[BLOCK:])
        self._encrypt_mask = self._iv ^ int.from_bytes(out[-BLOCK:], "big")
        return out

    def decrypt(self, raw: bytes) -> bytes:
        out = self._decryptor.update(raw)
        first = (int.from_bytes(out[:BLOCK], "big") ^ self._decrypt_mask).to_bytes(BLOCK, "big")
        self._decrypt_mask = self._iv ^ int.from_bytes(raw[-BLOCK:], "big")
        return first + out[BLOCK:]


MAX_CHAINS = 256  # per thread; a partner's secrets change rarely, a full table just starts afresh
_chains = threading.local()  # a context carries state between messages: one set per thread


def _chain(secrets: Secrets) -> _CbcChain:
    table: dict[tuple[str, str], _CbcChain] | None = getattr(_chains, "table", None)
    if table is None:
        table = _chains.table = {}
    key = (secrets.data_secret, secrets.data_iv)
    chain = table.get(key)
    if chain is None:
        if len(table) >= MAX_CHAINS:
            table.clear()
        chain = table[key] = _CbcChain(*key)
    return chain
