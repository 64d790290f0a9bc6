"""The one JSON codec for money: Decimals out as exact numbers and back, at any scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators import jsoncodec
from operators.ocpi import codec as ocpi_codec
from operators.tcec import codec as tcec_codec


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("95.40", "95.40"),
        ("0.90", "0.90"),
        ("-12.3456", "-12.3456"),
        ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
        ("0.000001", "0.000001"),  # str() would say 0.000001 too, but 1E-7 one place further
        ("1E-7", "0.0000001"),
        ("0E-12", "0.000000000000"),
        ("1.5E+3", "1500"),
    ],
)
def test_a_decimal_is_written_as_an_exact_positional_number(amount: str, text: str) -> None:
    raw = jsoncodec.dumps({"amount": Decimal(amount)})
    assert raw == b'{"amount":' + text.encode() + b"}"
    back = jsoncodec.loads(raw)["amount"]
    assert back == Decimal(amount)
    # A whole number comes back as an int (JSON has one kind of number), anything else as a Decimal.
    assert str(back) == (text if "." not in text else str(Decimal(text)))
    assert isinstance(back, int if "." not in text else Decimal)


def _decimals_with_places(places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(allow_nan=False, allow_infinity=False, places=places)


@settings(derandomize=True, max_examples=300)
@given(st.integers(0, 12).flatmap(_decimals_with_places) | st.decimals(allow_nan=False, allow_infinity=False))
def test_every_finite_decimal_round_trips_with_its_places(amount: Decimal) -> None:
    back = jsoncodec.loads(jsoncodec.dumps([amount]))[0]
    assert back == amount
    if amount.as_tuple().exponent < 0:  # positional text keeps every place after the point
        assert isinstance(back, Decimal) and back.as_tuple().exponent == amount.as_tuple().exponent
    else:
        assert isinstance(back, int)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_non_finite_amount_is_refused(amount: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        jsoncodec.dumps({"total": Decimal(amount)})


def test_what_json_has_no_form_for_is_refused_unless_the_caller_gives_one() -> None:
    @dataclass
    class Point:
        x: int

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    for value in (now, Point(1), object()):
        with pytest.raises(TypeError):
            jsoncodec.dumps({"v": value})
    raw = jsoncodec.dumps([now, Point(2)], default=lambda v: v.isoformat() if v is now else {"x": v.x})
    assert raw == b'["2026-12-02T12:00:00+00:00",{"x":2}]'


def test_reading_never_passes_a_float_and_bad_json_is_a_value_error() -> None:
    assert jsoncodec.loads('{"a": 0.1, "b": 2, "c": 1e2}') == {
        "a": Decimal("0.1"),
        "b": 2,
        "c": Decimal("100"),
    }
    with pytest.raises(ValueError):
        jsoncodec.loads(b"{not json")


def test_the_protocol_codecs_write_the_same_bytes() -> None:
    payload = {"TotalMoney": Decimal("128.37"), "TotalPower": Decimal("89.90"), "Msg": "Token错误", "n": 3}
    assert tcec_codec.dumps(payload) == jsoncodec.dumps(payload)
    assert ocpi_codec.dumps(payload).encode() == jsoncodec.dumps(payload)
    assert ocpi_codec.loads(ocpi_codec.dumps(payload)) == payload
