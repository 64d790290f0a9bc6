"""Mutations that say who the driver is: sign in with Alipay or WeChat, refresh, sign out, link.

Expected failures are ``AuthFailed`` results with a stable ``code`` (see
:mod:`gateway.identity.errors`); ``linkIdentity`` acts for the signed-in driver, the others need no
driver token (an app's API key, where the deployment requires one).
"""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.identity.errors import SignInCode, SignInError
from gateway.identity.signin import Provider, SignIns, Tokens
from resolvers.drivers.driver import Driver, driver, require_driver
from resolvers.stations import types as t


@strawberry.enum(description="A provider a driver signs in with by a code from its app.")
class SignInProvider(enum.Enum):
    ALIPAY = "alipay"
    WECHAT = "wechat"


@strawberry.enum(description="A provider whose identity a driver can link to their account.")
class IdentityProvider(enum.Enum):
    ALIPAY = "alipay"
    WECHAT = "wechat"
    OIDC = "oidc"


@strawberry.type(description="A sign-in: send the access token as Authorization: Bearer <accessToken>.")
class AuthTokens:
    access_token: str
    refresh_token: str = strawberry.field(description="Swap it for new tokens with refreshToken; single use.")
    expires_in: int = strawberry.field(description="Seconds the access token stays valid.")
    token_type: str
    driver: Driver


@strawberry.type
class AuthFailed(t.Error):
    """``code``: CODE_REJECTED, PROVIDER_UNAVAILABLE, PROVIDER_NOT_CONFIGURED, REFRESH_TOKEN_INVALID,
    REFRESH_TOKEN_EXPIRED, REFRESH_TOKEN_REVOKED, TOKEN_INVALID or IDENTITY_TAKEN."""

    message: str
    code: str


@strawberry.type
class SignedOut:
    ok: bool


@strawberry.type
class IdentityLinked:
    driver: Driver
    provider: IdentityProvider


SignInResult = Annotated[AuthTokens | AuthFailed, strawberry.union("SignInResult")]
SignOutResult = Annotated[SignedOut | AuthFailed, strawberry.union("SignOutResult")]
LinkIdentityResult = Annotated[IdentityLinked | AuthFailed, strawberry.union("LinkIdentityResult")]


@strawberry.input(description="The code the provider's mini-program login gave the app (used once).")
class SignInInput:
    provider: SignInProvider
    code: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input(description="Give code for ALIPAY and WECHAT, token (an access token) for OIDC.")
class LinkIdentityInput:
    provider: IdentityProvider
    code: str | None = None
    token: str | None = None


def _service(info: Info) -> SignIns:
    service = info.context.runtime.sign_ins
    if service is None:
        raise SignInError(SignInCode.PROVIDER_NOT_CONFIGURED, "sign-in is not available here")
    return service


def _provider(chosen: SignInProvider | IdentityProvider) -> Provider:
    return Provider(chosen.value)


def _failed(exc: SignInError) -> AuthFailed:
    return AuthFailed(message=str(exc), code=exc.code.value)


async def _tokens(info: Info, tokens: Tokens) -> AuthTokens:
    return AuthTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        token_type="Bearer",
        driver=await driver(info, tokens.driver_id),
    )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Sign a driver in with a code from Alipay or WeChat.")
    async def sign_in(self, info: Info, input: SignInInput) -> SignInResult:
        try:
            tokens = await _service(info).sign_in(_provider(input.provider), input.code)
        except SignInError as exc:
            return _failed(exc)
        return await _tokens(info, tokens)

    @strawberry.mutation(description="New tokens for a refresh token (which is spent).")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> SignInResult:
        try:
            tokens = await _service(info).refresh(input.refresh_token)
        except SignInError as exc:
            return _failed(exc)
        return await _tokens(info, tokens)

    @strawberry.mutation(description="End the sign-in of this refresh token; its access tokens stop working.")
    async def sign_out(self, info: Info, input: RefreshTokenInput) -> SignOutResult:
        try:
            await _service(info).sign_out(input.refresh_token)
        except SignInError as exc:
            return _failed(exc)
        return SignedOut(ok=True)

    @strawberry.mutation(description="Link another way in (Alipay, WeChat, the app's OIDC) to this driver.")
    async def link_identity(self, info: Info, input: LinkIdentityInput) -> LinkIdentityResult:
        driver_id = require_driver(info)
        try:
            service = _service(info)
            if input.provider is IdentityProvider.OIDC:
                await service.link_oidc(driver_id, input.token or "")
            else:
                await service.link(driver_id, _provider(input.provider), input.code or "")
        except SignInError as exc:
            return _failed(exc)
        return IdentityLinked(driver=await driver(info, driver_id), provider=input.provider)
