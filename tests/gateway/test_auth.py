"""Driver bearer tokens: round trip, expiry against an injected clock, tampering, wrong keys, junk."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from gateway.identity.bearer import (
    DEFAULT_LEEWAY_S,
    AuthError,
    WeakKeyError,
    driver_from_header,
    issue_token,
    verify_token,
)

KEY = "k" * 32
OTHER_KEY = "o" * 32
NOW = 1_750_000_000.0
TTL = 3600


def _token(driver: str = "alice", **kwargs) -> str:
    return issue_token(driver, KEY, ttl_s=TTL, now=NOW, **kwargs)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip_carries_sub_iat_exp():
    token = _token()
    assert verify_token(token, KEY, now=NOW) == "alice"
    claims = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"sub": "alice", "iat": int(NOW), "exp": int(NOW) + TTL}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_bytes_key_and_unicode_driver_id():
    token = issue_token("司机-7", KEY.encode(), now=NOW)
    assert verify_token(token, KEY, now=NOW) == "司机-7"


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (TTL - 1, None),
        (TTL + DEFAULT_LEEWAY_S - 1, None),  # within the clock-skew leeway
        (TTL + DEFAULT_LEEWAY_S, "expired"),
        (10 * TTL, "expired"),
        (-DEFAULT_LEEWAY_S, None),  # our clock a little behind the issuer's
        (-DEFAULT_LEEWAY_S - 1, "not_yet_valid"),
    ],
)
def test_expiry_against_the_injected_clock(offset, code):
    token = _token()
    if code is None:
        assert verify_token(token, KEY, now=NOW + offset) == "alice"
    else:
        with pytest.raises(AuthError) as info:
            verify_token(token, KEY, now=NOW + offset)
        assert info.value.code == code


def test_tampered_payload_fails_the_signature():
    header, _, sig = _token().split(".")
    forged = f"{header}.{_b64({'sub': 'mallory', 'iat': int(NOW), 'exp': int(NOW) + TTL})}.{sig}"
    with pytest.raises(AuthError) as info:
        verify_token(forged, KEY, now=NOW)
    assert info.value.code == "bad_signature"


def test_wrong_key_fails_the_signature():
    with pytest.raises(AuthError) as info:
        verify_token(issue_token("alice", OTHER_KEY, now=NOW), KEY, now=NOW)
    assert info.value.code == "bad_signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b.c",
        "a.b",
        jwt.api_jws.encode(b"not json", KEY, algorithm="HS256"),  # signed, but the payload is not JSON
        jwt.api_jws.encode(b"[1, 2]", KEY, algorithm="HS256"),  # signed JSON, but not an object
    ],
)
def test_malformed_tokens(token):
    with pytest.raises(AuthError) as info:
        verify_token(token, KEY, now=NOW)
    assert info.value.code == "malformed"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"sub": "alice", "iat": int(NOW)}, "malformed"),  # no exp
        ({"sub": "alice", "exp": int(NOW) + 60}, "malformed"),  # no iat
        ({"iat": int(NOW), "exp": int(NOW) + 60}, "malformed"),  # no sub
        ({"sub": 42, "iat": int(NOW), "exp": int(NOW) + 60}, "malformed"),
        ({"sub": "", "iat": int(NOW), "exp": int(NOW) + 60}, "malformed"),
        ({"sub": "alice", "iat": "yesterday", "exp": int(NOW) + 60}, "malformed"),
        ({"sub": "alice", "iat": int(NOW), "exp": int(NOW) + 60, "nbf": int(NOW) + 600}, "not_yet_valid"),
    ],
)
def test_claims_that_are_signed_but_wrong(claims, code):
    token = jwt.encode(claims, KEY, algorithm="HS256")
    with pytest.raises(AuthError) as info:
        verify_token(token, KEY, now=NOW)
    assert info.value.code == code


def test_other_algorithms_are_refused():
    claims = {"sub": "alice", "iat": int(NOW), "exp": int(NOW) + 60}
    hs512 = jwt.encode(claims, KEY * 2, algorithm="HS512")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    for token in (hs512, unsigned):
        with pytest.raises(AuthError) as info:
            verify_token(token, KEY * 2, now=NOW)
        assert info.value.code in ("bad_signature", "malformed")


def test_issuer_and_audience_are_checked_when_configured():
    token = _token(issuer="chargegate", audience="drivers")
    assert verify_token(token, KEY, now=NOW, issuer="chargegate", audience="drivers") == "alice"
    for kwargs, code in (
        ({"issuer": "someone-else"}, "wrong_issuer"),
        ({"audience": "fleet"}, "wrong_audience"),
    ):
        with pytest.raises(AuthError) as info:
            verify_token(token, KEY, now=NOW, **{"issuer": "chargegate", "audience": "drivers", **kwargs})
        assert info.value.code == code
    bare = _token()
    with pytest.raises(AuthError, match="issuer"):
        verify_token(bare, KEY, now=NOW, issuer="chargegate")
    with pytest.raises(AuthError, match="audience"):
        verify_token(bare, KEY, now=NOW, audience="drivers")


def test_error_messages_never_echo_the_token_or_the_key():
    token = _token()
    header, payload, sig = token.split(".")
    attempts = [
        (token, OTHER_KEY, NOW),
        (token, KEY, NOW + 10 * TTL),
        (f"{header}.{payload}x.{sig}", KEY, NOW),
        ("garbage-" + sig, KEY, NOW),
    ]
    for candidate, key, now in attempts:
        with pytest.raises(AuthError) as info:
            verify_token(candidate, key, now=now)
        text = str(info.value) + repr(info.value)
        assert sig not in text and payload not in text and key not in text
        # PyJWT's exception (whose args may quote the token) is neither the cause nor the context.
        assert info.value.__cause__ is None
        assert info.value.__context__ is None or info.value.__suppress_context__


@pytest.mark.parametrize("key", ["", "short", "x" * 31, b"\x00" * 31])
def test_short_keys_are_refused_with_the_reason(key):
    with pytest.raises(WeakKeyError, match="at least 32 bytes"):
        issue_token("alice", key, now=NOW)
    with pytest.raises(WeakKeyError, match="at least 32 bytes"):
        verify_token("a.b.c", key, now=NOW)


@pytest.mark.parametrize("driver", ["", " alice", "alice\n", "x" * 129])
def test_bad_driver_ids_are_not_issued(driver):
    with pytest.raises(ValueError, match="driver id"):
        issue_token(driver, KEY, now=NOW)


def test_ttl_must_be_positive():
    with pytest.raises(ValueError, match="ttl_s"):
        issue_token("alice", KEY, ttl_s=0, now=NOW)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_header_is_anonymous(value):
    assert driver_from_header(value, KEY, now=NOW) is None


@pytest.mark.parametrize("template", ["Bearer {t}", "bearer {t}", "  BEARER   {t}  "])
def test_bearer_header_names_the_driver(template):
    assert driver_from_header(template.format(t=_token("bob")), KEY, now=NOW) == "bob"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Basic YWxpY2U6c2VjcmV0", "bad_scheme"),
        ("Token abc", "bad_scheme"),
        ("Bearer", "malformed"),
        ("Bearer    ", "malformed"),
        ("Bearer not.a.token", "malformed"),
    ],
)
def test_a_present_but_bad_header_is_an_error(value, code):
    with pytest.raises(AuthError) as info:
        driver_from_header(value, KEY, now=NOW)
    assert info.value.code == code


def test_header_with_expired_token():
    with pytest.raises(AuthError) as info:
        driver_from_header(f"Bearer {_token()}", KEY, now=NOW + 2 * TTL)
    assert info.value.code == "expired"
