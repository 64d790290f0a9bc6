"""Who the driver is: tokens from our key or the app's OpenID Connect provider, sign-in, linking."""

from __future__ import annotations

import aiohttp

from gateway.identity.jwks import JwksCache
from gateway.identity.oidc import OidcVerifier
from gateway.identity.tokens import Authenticator, Directory
from gateway.settings import AuthSettings

__all__ = ["Authenticator", "Directory", "JwksCache", "OidcVerifier", "build_authenticator"]


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
