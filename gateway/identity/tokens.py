"""Which driver a bearer token names, whoever issued it: our HS256 key or the app's OIDC provider.

A token is routed by its header's ``alg`` and its unverified ``iss``: HS256 tokens are ours
(``chargegate token``, the sign-in mutations), verified with the shared key; RS256, ES256 and EdDSA
tokens belong to the configured OpenID Connect provider, and any other issuer is refused as
``unknown_issuer``. A token from a sign-in carries a ``sid`` that must still be live in the ledger
(sign-out revokes it for every replica). An identity linked to a driver (:mod:`gateway.identity.store`)
names that driver, whatever the token's own claim says.
"""

from __future__ import annotations

from typing import Protocol

import jwt

from gateway.identity.bearer import AuthError, bearer_token, verify_claims
from gateway.identity.oidc import OidcVerifier, unverified_issuer
from gateway.settings.sections import AuthSettings

OIDC = "oidc"  # the provider name of identities from the OpenID Connect provider


class Directory(Protocol):
    """What the ledger knows about identities: links to drivers and live sign-ins."""

    async def linked_driver(self, provider: str, subject: str) -> str | None: ...

    async def sign_in_live(self, sid: str, driver_id: str) -> bool: ...


def oidc_subject(issuer: str, subject: str) -> str:
    """The subject under which an OIDC identity is linked: unique across issuers."""
    return f"{issuer}#{subject}"


class Authenticator:
    """Turns an ``Authorization`` header into a driver id (or None when there is none)."""

    def __init__(
        self, settings: AuthSettings, oidc: OidcVerifier | None = None, directory: Directory | None = None
    ) -> None:
        self._settings = settings
        self.oidc = oidc
        self.directory = directory

    @property
    def enabled(self) -> bool:
        """Whether any token can be accepted (without a key or a provider, every caller is anonymous)."""
        return bool(self._settings.jwt_key) or self.oidc is not None

    async def driver(self, authorization: str | None) -> str | None:
        """The driver named by ``authorization``; :class:`AuthError` for a token we cannot accept."""
        if not self.enabled or authorization is None or not authorization.strip():
            return None
        token = bearer_token(authorization)
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise AuthError("malformed", "token is malformed") from None
        if alg == "HS256" and self._settings.jwt_key:
            return await self._ours(token)
        issuer = unverified_issuer(token)
        if self.oidc is None or not self.oidc.accepts(issuer):
            raise AuthError("unknown_issuer", "token was issued by an identity provider we do not trust")
        identity = await self.oidc.verify(token)
        linked = await self._linked(OIDC, oidc_subject(identity.issuer, identity.subject))
        return linked or identity.subject

    async def _ours(self, token: str) -> str:
        s = self._settings
        claims = verify_claims(token, s.jwt_key, issuer=s.issuer or None, audience=s.audience or None)
        sid = claims.get("sid")
        if sid is not None:
            live = self.directory is not None and await self.directory.sign_in_live(str(sid), claims["sub"])
            if not live:
                raise AuthError("revoked", "this sign-in has ended; sign in again")
        return claims["sub"]

    async def _linked(self, provider: str, subject: str) -> str | None:
        return None if self.directory is None else await self.directory.linked_driver(provider, subject)
