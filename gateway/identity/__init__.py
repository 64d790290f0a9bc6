"""Who the driver is: tokens from our key or the app's OpenID Connect provider, sign-in, linking."""

from __future__ import annotations

import aiohttp

from gateway.identity import exchange
from gateway.identity.jwks import JwksCache
from gateway.identity.oidc import OidcVerifier
from gateway.identity.signin import Provider, SignIns
from gateway.identity.store import IdentityStore
from gateway.identity.tokens import Authenticator, Directory
from gateway.rails import setup as rails
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.wechatpay.login import MiniProgram
from gateway.settings.sections import AuthSettings, Settings
from gateway.store import Store

__all__ = ["Authenticator", "Directory", "IdentityStore", "SignIns", "build_authenticator", "build_identity"]


def build_authenticator(
    settings: AuthSettings, http: aiohttp.ClientSession, directory: Directory | None = None
) -> Authenticator:
    """The authenticator for ``settings``: HS256 with ``jwt_key``, OIDC with ``oidc_issuer``."""
    oidc = None
    if settings.oidc_issuer:
        keys = JwksCache(
            http,
            settings.oidc_issuer,
            timeout_s=settings.oidc_timeout_s,
            max_age_s=settings.jwks_max_age_s,
            min_refresh_s=settings.jwks_min_refresh_s,
        )
        claim, algorithms = settings.oidc_driver_claim, settings.oidc_algorithms
        oidc = OidcVerifier(keys, settings.oidc_audience, claim, algorithms)
    return Authenticator(settings, oidc, directory)


def build_sign_ins(
    settings: Settings, http: aiohttp.ClientSession, store: IdentityStore, oidc: OidcVerifier | None
) -> SignIns:
    """Sign-in with each provider the settings allow: Alipay with the ``[alipay]`` app, WeChat with
    the ``[wechatpay]`` appid and ``auth.wechat_secret``; both need ``auth.jwt_key`` for the tokens."""
    exchanges: dict[Provider, exchange.Exchange] = {}
    a = settings.auth
    if a.jwt_key and "alipay" in rails.enabled(settings):
        exchanges[Provider.ALIPAY] = exchange.alipay(AlipayClient(http, rails.alipay_config(settings)))
    if a.jwt_key and settings.wechatpay.appid and a.wechat_secret:
        app = MiniProgram(settings.wechatpay.appid, a.wechat_secret, a.wechat_api_url, a.wechat_timeout_s)
        exchanges[Provider.WECHAT] = exchange.wechat(http, app)
    return SignIns(a, store, exchanges, oidc)


async def build_identity(
    settings: Settings, http: aiohttp.ClientSession, ledger: Store
) -> tuple[Authenticator, SignIns]:
    """The authenticator and the sign-in service over the ledger (demo mode: its users bound)."""
    store = IdentityStore(ledger.database)
    if settings.demo:
        from gateway.identity.demo import seed_identities

        await seed_identities(store)
    authenticator = build_authenticator(settings.auth, http, store)
    return authenticator, build_sign_ins(settings, http, store, authenticator.oidc)
