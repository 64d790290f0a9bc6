"""Pile QR codes (spec §5.7a): ``hlht://{ConnectorID}.{OperatorID}/`` and its variants."""

from __future__ import annotations

import pytest

from operators.tcec.mapping import parse_qr_code, qr_code


@pytest.mark.parametrize(
    ("code", "want"),
    [
        # The two codes §5.7a quotes from piles in the wild.
        ("hlht://3702030162102.395815801/", ("3702030162102", "395815801")),
        ("hlht://00000000020000002790001001.328096210/", ("00000000020000002790001001", "328096210")),
        # A partner-specific tail after the final '/' is not part of the ids.
        (
            "hlht://11000000000000090000341000.313744932/extra?x=1",
            ("11000000000000090000341000", "313744932"),
        ),
        # Split at the LAST '.': a connector id may contain dots.
        ("hlht://A.B.C.MA1G55M8X/", ("A.B.C", "MA1G55M8X")),
        # No trailing slash, upper-case scheme, surrounding whitespace.
        ("hlht://123.395815801", ("123", "395815801")),
        ("HLHT://123.395815801/", ("123", "395815801")),
        ("  hlht://123.395815801/ \n", ("123", "395815801")),
        # A '.' only after the first '/' is in the tail, not the head.
        ("hlht://123/456.395815801", None),
    ],
)
def test_parse_qr_code(code: str, want: tuple[str, str] | None) -> None:
    assert parse_qr_code(code) == want


@pytest.mark.parametrize(
    "code",
    [
        "",
        "hlht://",
        "hlht:///",
        "hlht://123/",  # no operator id
        "hlht://.395815801/",  # no connector id
        "hlht://123./",  # empty operator id
        "hlht://123.39581-5801/",  # operator ids are letters and digits
        "https://app.example.cn/pile/123.395815801/",  # operator app link: partner-specific
        "3702030162102",  # bare pile number
    ],
)
def test_parse_qr_code_rejects(code: str) -> None:
    assert parse_qr_code(code) is None


def test_round_trip() -> None:
    code = qr_code("00000000020000002790001001", "328096210")
    assert code == "hlht://00000000020000002790001001.328096210/"
    assert parse_qr_code(code) == ("00000000020000002790001001", "328096210")
