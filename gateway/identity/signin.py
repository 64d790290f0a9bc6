"""Signing drivers in with Alipay or WeChat, refreshing and ending sign-ins, and linking identities.

A sign-in exchanges the provider's code for its user id, finds the driver bound to that user (or
creates one), and opens a sign-in in the ledger: a short-lived HS256 access token carrying the
sign-in's ``sid`` (checked on every request, so a sign-out is honoured by every replica) and a
refresh token ``<sid>.<secret>`` that is swapped for a new one at each refresh (OAuth 2.0 Security
BCP, refresh token rotation: presenting a spent one ends the sign-in).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from gateway.identity.bearer import AuthError, issue_token
from gateway.identity.errors import SignInCode, SignInError
from gateway.identity.exchange import Exchange
from gateway.identity.oidc import OidcVerifier
from gateway.identity.store import How, IdentityStore, Refresh
from gateway.identity.tokens import OIDC, oidc_subject
from gateway.settings.sections import AuthSettings


class Provider(enum.StrEnum):
    ALIPAY = "alipay"
    WECHAT = "wechat"


REFRESH_ERRORS = {
    Refresh.INVALID: (SignInCode.REFRESH_TOKEN_INVALID, "this is not a refresh token we issued"),
    Refresh.EXPIRED: (SignInCode.REFRESH_TOKEN_EXPIRED, "this sign-in has expired: sign in again"),
    Refresh.REVOKED: (SignInCode.REFRESH_TOKEN_REVOKED, "this sign-in has ended: sign in again"),
}


@dataclass(frozen=True, slots=True)
class Tokens:
    driver_id: str
    access_token: str
    refresh_token: str
    expires_in: int  # seconds, of the access token


class SignIns:
    """The sign-in service; ``exchanges`` are the configured providers."""

    def __init__(
        self,
        settings: AuthSettings,
        store: IdentityStore,
        exchanges: dict[Provider, Exchange],
        oidc: OidcVerifier | None = None,
    ) -> None:
        self._settings = settings
        self.store = store
        self._exchanges = exchanges
        self._oidc = oidc

    async def sign_in(self, provider: Provider, code: str) -> Tokens:
        user = await self._user(provider, code)
        driver_id = await self.store.driver_for(provider.value, user, f"drv_{secrets.token_hex(10)}")
        secret = secrets.token_urlsafe(32)
        ttl = timedelta(seconds=self._settings.refresh_token_ttl_s)
        sid = await self.store.open_sign_in(driver_id, provider.value, secret, ttl)
        return self._tokens(driver_id, sid, secret)

    async def refresh(self, refresh_token: str) -> Tokens:
        sid, secret = _split(refresh_token)
        new_secret = secrets.token_urlsafe(32)
        outcome = await self.store.rotate(sid, secret, new_secret)
        if isinstance(outcome, Refresh):
            raise SignInError(*REFRESH_ERRORS[outcome])
        return self._tokens(outcome[0], sid, new_secret)

    async def sign_out(self, refresh_token: str) -> None:
        """End the sign-in the refresh token belongs to; its access tokens stop working everywhere."""
        refused = await self.store.end(*_split(refresh_token))
        if refused is not None:
            raise SignInError(*REFRESH_ERRORS[refused])

    async def link(self, driver_id: str, provider: Provider, code: str) -> None:
        """Bind the provider user of ``code`` to ``driver_id`` (audited)."""
        await self._bind(driver_id, provider.value, await self._user(provider, code))

    async def link_oidc(self, driver_id: str, token: str) -> None:
        """Bind the identity an OIDC token names to ``driver_id`` (audited)."""
        if self._oidc is None:
            raise SignInError(SignInCode.PROVIDER_NOT_CONFIGURED, "no OpenID Connect provider is configured")
        try:
            identity = await self._oidc.verify(token)
        except AuthError as exc:
            raise SignInError(SignInCode.TOKEN_INVALID, f"the identity token is not valid: {exc}") from None
        await self._bind(driver_id, OIDC, oidc_subject(identity.issuer, identity.subject))

    async def _bind(self, driver_id: str, provider: str, subject: str) -> None:
        bound = await self.store.bind(driver_id, provider, subject, How.LINK)
        if bound != driver_id:
            raise SignInError(SignInCode.IDENTITY_TAKEN, "this identity belongs to another driver")

    async def _user(self, provider: Provider, code: str) -> str:
        exchange = self._exchanges.get(provider)
        if exchange is None:
            raise SignInError(
                SignInCode.PROVIDER_NOT_CONFIGURED, f"sign-in with {provider.value} is not set up"
            )
        if not code or len(code) > 512 or not code.isprintable():
            raise SignInError(SignInCode.CODE_REJECTED, "the sign-in code is malformed")
        return await exchange(code)

    def _tokens(self, driver_id: str, sid: str, secret: str) -> Tokens:
        s = self._settings
        access = issue_token(
            driver_id, s.jwt_key, ttl_s=s.access_token_ttl_s, issuer=s.issuer or None,
            audience=s.audience or None, extra={"sid": sid},
        )  # fmt: skip
        return Tokens(driver_id, access, f"{sid}.{secret}", s.access_token_ttl_s)


def _split(refresh_token: str) -> tuple[str, str]:
    sid, _, secret = refresh_token.partition(".")
    if not sid or not secret or len(refresh_token) > 256:
        raise SignInError(*REFRESH_ERRORS[Refresh.INVALID])
    return sid, secret
