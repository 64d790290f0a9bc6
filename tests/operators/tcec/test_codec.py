"""The T/CEC envelope codec against the published known-answer vectors (docs: specs' §9 vectors A–D).

Every byte is pinned: the Base64 ``Data`` (AES-128-CBC with PKCS#7 padding), the HMAC-MD5 ``Sig``,
and the exact JSON the gateway signs (a Decimal keeps its trailing zeros, never passes a float).
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from operators.tcec import codec

EXAMPLE = codec.Secrets("1234567890abcdef", "1234567890abcdef", "1234567890abcdef")

VECTOR_A_PLAINTEXT = (
    b'{"total":1,"stationStatusInfo":{"operationID":"123456789","stationID":"111111111111111",'
    b'"connectorStatusInfos":{"connectorID":1,"equipmentID":"10000000000000000000001","status":4,'
    b'"currentA":0,"currentB":0,"currentC":0,"voltageA":0,"voltageB":0,"voltageC":0,"soc":10,}}}'
)
VECTOR_A_DATA = (
    "il7B0BSEjFdzpyKzfOFpvg/Se1CP802RItKYFPfSLRxJ3jf0bVl9hvYOEktPAYW2nd7S8MBcyHYyacHKbISq5iTmDzG+ivnR+SZJv3US"
    "NTYVMz9rCQVSxd0cLlqsJauko79NnwQJbzDTyLooYoIwz75qBOH2/xOMirpeEqRJrF/EQjWekJmGk9RtboXePu2rka+Xm51syBPhiXJA"
    "q0GfbfaFu9tNqs/e2Vjja/ltE1M0lqvxfXQ6da6HrThsm5id4ClZFIi0acRfrsPLRixS/IQYtksxghvJwbqOsbIsITail9Ayy4tKcoge"
    "EZiOO+4Ed264NSKmk7l3wKwJLAFjCFogBx8GE3OBz4pqcAn/ydA="
)

VECTOR_C3_PLAINTEXT = (
    b'{"CheckOrderSeq":"740415113000000000020180822","EndTime":"2018-08-22 23:59:59",'
    b'"StartTime":"2018-08-22 00:00:00","OrderCount":9,"TotalOrderMoney":136.45,"TotalOrderPower":95.40,'
    b'"ChargeOrders":[{"TotalPower":0.90,"StartChargeSeq":"313744932180822000000000007","TotalMoney":1.42},'
    b'{"TotalPower":0.30,"StartChargeSeq":"313744932180822000000000014","TotalMoney":0.47},'
    b'{"TotalPower":89.90,"StartChargeSeq":"313744932180822000000000026","TotalMoney":128.37},'
    b'{"TotalPower":0.50,"StartChargeSeq":"313744932180822000000000056","TotalMoney":0.79},'
    b'{"TotalPower":0.30,"StartChargeSeq":"313744932180822000000000063","TotalMoney":0.38},'
    b'{"TotalPower":1.10,"StartChargeSeq":"313744932180822000000000070","TotalMoney":1.39},'
    b'{"TotalPower":0.40,"StartChargeSeq":"313744932180822000000000081","TotalMoney":0.50},'
    b'{"TotalPower":0.10,"StartChargeSeq":"313744932180822000000000082","TotalMoney":0.13},'
    b'{"TotalPower":1.90,"StartChargeSeq":"313744932180822000000000117","TotalMoney":3.00}]}'
)


def test_vector_a_encrypts_and_signs_byte_for_byte() -> None:
    data = codec.encrypt(VECTOR_A_PLAINTEXT, EXAMPLE)
    assert data == VECTOR_A_DATA
    assert codec.decrypt(data, EXAMPLE) == VECTOR_A_PLAINTEXT
    sig = codec.request_sig("123456789", data, "20160729142400", "0001", EXAMPLE)
    assert sig == "745166E8C43C84D37FFEC0F529C4136F"


def test_vector_b_query_token_request() -> None:
    plaintext = b'{"OperatorID":"123456789",\n"OperatorSecret":"1234567890abcdef"}'
    data = "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw=="
    assert codec.encrypt(plaintext, EXAMPLE) == data
    request = codec.parse_request(
        {"OperatorID": "123456789", "Data": data, "TimeStamp": "20180120165755", "Seq": "0001",
         "Sig": "D2D584A14F3F284445DF85D0E8C0697C"},
        EXAMPLE,
    )  # fmt: skip
    assert request.data == {"OperatorID": "123456789", "OperatorSecret": "1234567890abcdef"}


def test_vector_c3_payload_is_rebuilt_exactly_from_decimals() -> None:
    # The reconciliation payload, read with Decimals, is written back to the very bytes the
    # operator signed: 95.40 and 0.90 keep their trailing zeros.
    payload = json.loads(VECTOR_C3_PLAINTEXT, parse_float=Decimal)
    assert payload["TotalOrderPower"] == Decimal("95.40")
    assert codec.dumps(payload) == VECTOR_C3_PLAINTEXT
    data = codec.encrypt(codec.dumps(payload), EXAMPLE)
    assert len(data) == 1304
    assert data.startswith("8SvDEeFAsjTuyGAr1SjY12/mCQm4cIJTeIEi8t4V") and data.endswith(
        "7d8HmO9CQfi2C2Hg5Q=="
    )
    sig = codec.request_sig("313744932", data, "20180823080000", "0001", EXAMPLE)
    assert sig == "0EFF45C92A32BB869A3D97CE2576A165"


def test_vector_d_request_and_responses() -> None:
    envelope = codec.build_request(
        "123456789", {"StationIDs": ["111111111111111"]}, EXAMPLE, ts="20160729142400", seq="0002"
    )
    assert envelope["Data"] == "RP/Z26h/ejO0ORlAz93dNa1I3HDirUIHNo08TomslHj6T8iIKMVdV/w1Qdy8uBRu"
    assert envelope["Sig"] == "515462B70113F1954B041F76053BED75"
    assert codec.build_response(4002, "Token错误", None, EXAMPLE)["Sig"] == "4DEBB0A4054B198749F284D77FB60359"
    ok = codec.build_response(0, "", {"Status": 0}, EXAMPLE)
    assert (ok["Data"], ok["Sig"]) == ("9MVkuXXxCLW2u0cUb7YXOA==", "A865BF62B6233B86D336DE11D6D67B0B")
    assert codec.parse_response(ok, EXAMPLE).data == {"Status": 0}


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 32])
def test_padding_round_trips_at_block_edges(size: int) -> None:
    plaintext = bytes(range(65, 65 + size))
    data = codec.encrypt(plaintext, EXAMPLE)
    # A whole block of padding is added to a block-aligned plaintext (PKCS#7).
    assert len(base64.b64decode(data)) == (size // 16 + 1) * 16
    assert codec.decrypt(data, EXAMPLE) == plaintext


@pytest.mark.parametrize(
    "last_block",
    [b"A" * 15 + b"\x00", b"A" * 15 + b"\x11", b"A" * 14 + b"\x01\x02", b"A" * 13 + b"\x02\x03\x03"],
    ids=["zero", "longer-than-a-block", "mismatched-two", "mismatched-three"],
)
def test_bad_padding_is_a_codec_error(last_block: bytes) -> None:
    # The last block decrypts to exactly these bytes, whose padding is not PKCS#7.
    encryptor = Cipher(algorithms.AES(b"1234567890abcdef"), modes.CBC(b"1234567890abcdef")).encryptor()
    raw = encryptor.update(b"B" * 16 + last_block) + encryptor.finalize()
    with pytest.raises(codec.CodecError, match="bad padding"):
        codec.decrypt(base64.b64encode(raw).decode(), EXAMPLE)


def fresh_encrypt(plaintext: bytes, secrets: codec.Secrets) -> str:
    """§3.2 the textbook way: a new context and padder per message."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    cipher = Cipher(algorithms.AES(secrets.data_secret.encode()), modes.CBC(secrets.data_iv.encode()))
    encryptor = cipher.encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


OTHER = codec.Secrets("fedcba0987654321", "0000000000000000", "fedcba0987654321")


def test_every_message_starts_from_the_iv_whatever_came_before() -> None:
    # The codec keeps its AES contexts between messages; each one must still be encrypted and
    # decrypted as if it were the first (CBC from DataIV), across sizes, secrets and failures.
    rng = random.Random(7)
    for _ in range(300):
        secrets = rng.choice((EXAMPLE, OTHER))
        plaintext = rng.randbytes(rng.choice((0, 1, 15, 16, 17, rng.randrange(200))))
        data = codec.encrypt(plaintext, secrets)
        assert data == fresh_encrypt(plaintext, secrets)
        assert codec.decrypt(fresh_encrypt(plaintext, secrets), secrets) == plaintext
        if rng.random() < 0.2:  # a message under the wrong key fails, and leaves nothing behind
            with contextlib.suppress(codec.CodecError):
                assert codec.decrypt(data, OTHER if secrets is EXAMPLE else EXAMPLE) != plaintext


def test_threads_do_not_share_a_chain() -> None:
    failures: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            plaintext = rng.randbytes(rng.randrange(100))
            if codec.decrypt(codec.encrypt(plaintext, EXAMPLE), EXAMPLE) != plaintext or codec.encrypt(
                plaintext, EXAMPLE
            ) != fresh_encrypt(plaintext, EXAMPLE):
                failures.append(plaintext.hex())

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("data", ["%%%", "", "c2hvcnQ="])
def test_data_that_is_not_whole_blocks_of_base64_is_refused(data: str) -> None:
    with pytest.raises(codec.CodecError):
        codec.decrypt(data, EXAMPLE)


def test_timestamp_is_this_second_in_beijing_time():
    for _ in range(3):  # the second's text is remembered: still right on the next calls
        before = datetime.now(codec.SHANGHAI).replace(microsecond=0)
        stamp = codec.timestamp()
        after = datetime.now(codec.SHANGHAI)
        assert before <= datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=codec.SHANGHAI) <= after
    assert codec.timestamp(datetime(2026, 12, 2, 16, 0, 5, tzinfo=UTC)) == "20261203000005"
