"""Per-operator QR patterns: compiled from the operator tables, matched whole, refused when malformed."""

from __future__ import annotations

import pytest

from gateway.catalogue.qrcodes import TCEC_FORMAT, QrPatterns, compile_pattern
from operators.base import OperatorConfigError


def test_patterns_match_whole_codes_only() -> None:
    pattern = compile_pattern("MA1HZTEST", "https://qr.partner.example/pile/{ConnectorID}?v=2")
    assert pattern.match("https://qr.partner.example/pile/3702030162102?v=2") == "3702030162102"
    assert pattern.match("HTTPS://QR.Partner.example/pile/37?v=2") == "37"  # scheme and host: any case
    for code in (
        "https://qr.partner.example/pile/37?v=3",
        "https://qr.partner.example/PILE/37?v=2",  # the path keeps its case
        "https://qr.partner.example/pile/37/x?v=2",
        "https://qr.partner.example/pile/?v=2",
        "https://qr.partnerXexample/pile/37?v=2",  # the dot is literal
        "prefix https://qr.partner.example/pile/37?v=2",
    ):
        assert pattern.match(code) is None, code


def test_operators_patterns_and_formats() -> None:
    configs = [
        {"id": "MA1HZTEST", "qr_patterns": ["https://a.example/{ConnectorID}"]},
        {"id": "CNSHA"},
        {"id": "MA1SHTEST", "qr_patterns": ["{ConnectorID}", "https://a.example/{ConnectorID}"]},
    ]
    patterns = QrPatterns.from_operators(configs)
    assert patterns.match(" https://a.example/42 ") == [("MA1HZTEST", "42"), ("MA1SHTEST", "42")]
    assert patterns.match("42") == [("MA1SHTEST", "42")]  # a bare pile number, for one operator
    assert patterns.formats() == [TCEC_FORMAT, "https://a.example/{ConnectorID}", "{ConnectorID}"]


@pytest.mark.parametrize(
    "value",
    [
        ["https://a.example/pile"],  # no placeholder
        ["https://a.example/{ConnectorID}/{ConnectorID}"],
        ["a.example/{ConnectorID}"],  # no scheme
        ["https://a.example/" + "x" * 300 + "{ConnectorID}"],
        "https://a.example/{ConnectorID}",  # not a list
        [42],
    ],
)
def test_bad_patterns_name_the_key(value: object) -> None:
    with pytest.raises(OperatorConfigError, match=r"operators\[0\]\.qr_patterns"):
        QrPatterns.from_operators([{"id": "MA1HZTEST", "qr_patterns": value}])
