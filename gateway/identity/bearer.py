"""Driver bearer tokens: HS256 JWTs whose ``sub`` is the driver id (docs/deployment.md, "Drivers' tokens").

A token carries ``sub``, ``iat`` and ``exp`` (RFC 7519 §4.1), and ``iss``/``aud`` when configured.
Times are checked here against an injectable ``now`` (seconds since the epoch) rather than by PyJWT,
so tests never sleep. Every failure is an :class:`AuthError` whose message is safe to show a client:
it names what was wrong (expired, bad signature, malformed, …) and never echoes the token or the key.
A key shorter than 32 bytes is refused with :class:`WeakKeyError` (RFC 7518 §3.2: an HS256 key must
be at least as long as the hash output).
"""

from __future__ import annotations

import time
from typing import Any

import jwt

ALGORITHM = "HS256"
MIN_KEY_BYTES = 32  # RFC 7518 §3.2
DEFAULT_TTL_S = 24 * 3600
DEFAULT_LEEWAY_S = 30.0  # clock skew tolerated between the issuer and us
MAX_DRIVER_ID_CHARS = 128


class WeakKeyError(ValueError):
    """The signing key is missing or shorter than :data:`MIN_KEY_BYTES` (a configuration error)."""


class AuthError(Exception):
    """A bearer token was presented but cannot be accepted.

    ``code`` is stable and machine-readable: ``malformed``, ``bad_signature``, ``expired``,
    ``not_yet_valid``, ``wrong_issuer``, ``wrong_audience``, ``bad_scheme``, and for tokens from an
    identity provider or a sign-in (:mod:`gateway.identity`) ``unknown_issuer``, ``unknown_key``,
    ``keys_unavailable`` or ``revoked``. ``str(error)`` is a short message that is safe to return
    to the client.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_key(key: str | bytes) -> bytes:
    """``key`` as bytes, or :class:`WeakKeyError` if it is under :data:`MIN_KEY_BYTES` bytes long."""
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise WeakKeyError(
            f"the token signing key must be at least {MIN_KEY_BYTES} bytes for {ALGORITHM} "
            f"(got {len(raw)}); generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return raw


def issue_token(
    driver_id: str,
    key: str | bytes,
    ttl_s: float = DEFAULT_TTL_S,
    now: float | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A signed bearer token for ``driver_id``, valid for ``ttl_s`` seconds from ``now``; ``extra``
    claims (a sign-in's ``sid``) are added as given."""
    raw_key = check_key(key)
    _check_driver_id(driver_id)
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {**(extra or {}), "sub": driver_id, "iat": issued, "exp": issued + int(ttl_s)}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, raw_key, algorithm=ALGORITHM)


def verify_token(
    token: str,
    key: str | bytes,
    now: float | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    leeway_s: float = DEFAULT_LEEWAY_S,
) -> str:
    """The driver id in ``token``; :class:`AuthError` if it is not a valid, current token."""
    return verify_claims(token, key, now, issuer, audience, leeway_s)["sub"]


def verify_claims(
    token: str,
    key: str | bytes,
    now: float | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    leeway_s: float = DEFAULT_LEEWAY_S,
) -> dict[str, Any]:
    """The claims of a valid, current ``token`` (``sub`` a driver id); :class:`AuthError` otherwise."""
    raw_key = check_key(key)
    claims = _decode(token, raw_key, issuer, audience)
    current = time.time() if now is None else now
    exp, iat, nbf = (_number(claims, name) for name in ("exp", "iat", "nbf"))
    if exp is None or iat is None:
        raise AuthError("malformed", "token lacks exp or iat")
    if current >= exp + leeway_s:
        raise AuthError("expired", "token has expired")
    if iat > current + leeway_s or (nbf is not None and nbf > current + leeway_s):
        raise AuthError("not_yet_valid", "token is not valid yet")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not valid_driver_id(subject):
        raise AuthError("malformed", "token subject is not a driver id")
    return claims


def driver_from_header(
    authorization: str | None,
    key: str | bytes,
    now: float | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str | None:
    """The driver named by an ``Authorization`` header value; None when the header is absent or empty.

    A header that is present but not ``Bearer <valid token>`` raises :class:`AuthError`: a client
    that tried to authenticate and failed must hear so, not be served anonymously.
    """
    if authorization is None or not authorization.strip():
        return None
    return verify_token(bearer_token(authorization), key, now=now, issuer=issuer, audience=audience)


def bearer_token(authorization: str) -> str:
    """The token of a non-empty ``Authorization`` header value; :class:`AuthError` if not Bearer."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("bad_scheme", "Authorization must use the Bearer scheme")
    token = token.strip()
    if not token:
        raise AuthError("malformed", "Bearer token is empty")
    return token


def _decode(token: str, key: bytes, issuer: str | None, audience: str | None) -> dict[str, Any]:
    """The claims after the signature (and iss/aud) checks: the one place PyJWT errors are translated."""
    options: jwt.types.Options = {
        "verify_exp": False,  # checked against the injectable clock in verify_token
        "verify_iat": False,
        "verify_nbf": False,
        "verify_aud": audience is not None,
        "verify_iss": issuer is not None,
        "require": ["sub", "iat", "exp"],
    }
    try:
        return jwt.decode(
            token, key, algorithms=[ALGORITHM], options=options, issuer=issuer, audience=audience
        )
    except jwt.InvalidSignatureError:
        raise AuthError("bad_signature", "token signature is not valid") from None
    except jwt.InvalidAlgorithmError:
        raise AuthError("bad_signature", f"token must be signed with {ALGORITHM}") from None
    except jwt.InvalidIssuerError:
        raise AuthError("wrong_issuer", "token was issued by someone else") from None
    except jwt.InvalidAudienceError:
        raise AuthError("wrong_audience", "token is meant for another audience") from None
    except jwt.MissingRequiredClaimError as exc:
        if exc.claim == "iss":
            raise AuthError("wrong_issuer", "token names no issuer") from None
        if exc.claim == "aud":
            raise AuthError("wrong_audience", "token names no audience") from None
        raise AuthError("malformed", f"token lacks the {exc.claim} claim") from None
    except jwt.InvalidTokenError:
        # DecodeError and the rest: not three Base64URL parts, not JSON, bad header, …
        raise AuthError("malformed", "token is malformed") from None


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthError("malformed", f"token claim {name} is not a number")
    return float(value)


def valid_driver_id(driver_id: str) -> bool:
    fits = 0 < len(driver_id) <= MAX_DRIVER_ID_CHARS
    return fits and driver_id.isprintable() and driver_id.strip() == driver_id


def _check_driver_id(driver_id: str) -> None:
    if not isinstance(driver_id, str) or not valid_driver_id(driver_id):
        raise ValueError(f"a driver id is 1..{MAX_DRIVER_ID_CHARS} printable characters without edge spaces")
