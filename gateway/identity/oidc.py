"""Access tokens from the app's own OpenID Connect provider: RS256, ES256 or EdDSA JWTs.

RFC 9068 (JWT access tokens) §4: the signature is checked with the issuer's published key named
by the header's ``kid``, ``iss`` must be the configured issuer, ``aud`` must contain our audience,
``exp`` and ``nbf`` must hold (with a little leeway for clock skew). The driver is the value of a
configurable claim (``sub`` by default; a provider whose ``sub`` is an account id can add a
``driver`` claim). PyJWT errors are translated here, and only here, into :class:`AuthError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from gateway.identity.bearer import DEFAULT_LEEWAY_S, AuthError, valid_driver_id
from gateway.identity.jwks import JwksCache


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Who a verified token names: the issuer and the driver claim's value there."""

    issuer: str
    subject: str


class OidcVerifier:
    """Verifies one issuer's access tokens against its keys."""

    def __init__(
        self,
        keys: JwksCache,
        audience: str,
        driver_claim: str = "sub",
        algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA"),
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
        self.keys = keys
        self.issuer = keys.issuer
        self._audience = audience
        self._claim = driver_claim
        self._algorithms = algorithms
        self._leeway_s = leeway_s

    def accepts(self, issuer: object) -> bool:
        """Whether ``issuer`` (a token's unverified ``iss``) is this provider."""
        return isinstance(issuer, str) and issuer.rstrip("/") == self.issuer

    async def verify(self, token: str) -> OidcIdentity:
        """The identity a valid, current token names; :class:`AuthError` otherwise."""
        header = _header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self._algorithms:
            allowed = ", ".join(self._algorithms)
            raise AuthError("bad_signature", f"token must be signed with one of {allowed}")
        if not isinstance(kid, str) or not kid:
            raise AuthError("malformed", "token header names no key (kid)")
        key = await self.keys.key(kid)
        if key.algorithm_name != alg:
            raise AuthError("bad_signature", "token algorithm does not match its key")
        claims = self._decode(token, key.key, alg)
        subject = claims.get(self._claim)
        if not isinstance(subject, str) or not valid_driver_id(subject):
            raise AuthError("malformed", f"token claim {self._claim} does not name a driver")
        return OidcIdentity(self.issuer, subject)

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self.issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("expired", "token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("not_yet_valid", "token is not valid yet") from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad_signature", "token signature is not valid") from None
        except jwt.InvalidIssuerError:
            raise AuthError("unknown_issuer", "token is from an identity provider we do not trust") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong_audience", "token is meant for another audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("malformed", f"token lacks the {exc.claim} claim") from None
        except jwt.InvalidTokenError:
            raise AuthError("malformed", "token is malformed") from None


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise AuthError("malformed", "token is malformed") from None


def unverified_issuer(token: str) -> object:
    """The ``iss`` a token claims, before any check (to choose who verifies it); None if unreadable."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError:
        return None
