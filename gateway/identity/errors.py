"""The identity service's expected failures, each with a stable code the API returns as is.

Error tree::

    SignInError (code)
     ├── CODE_REJECTED             the provider will not exchange the code: already used, expired or
     │                             not one of its codes (Alipay does not say which; WeChat does, in
     │                             the message) — get a new code from the app
     ├── PROVIDER_UNAVAILABLE      the provider did not answer usably; retry with a new code
     ├── PROVIDER_NOT_CONFIGURED   this deployment has no sign-in with that provider
     ├── REFRESH_TOKEN_INVALID     not a refresh token of ours
     ├── REFRESH_TOKEN_EXPIRED     sign in again
     ├── REFRESH_TOKEN_REVOKED     signed out, or the token was used twice (the sign-in is ended)
     ├── TOKEN_INVALID             an identity token to link that does not verify (reason in message)
     └── IDENTITY_TAKEN            the identity belongs to another driver already

Access tokens that fail are not these: they are ``UNAUTHENTICATED`` with an ``AuthError`` reason
(``expired``, ``revoked``, ``unknown_issuer``, …). Messages never carry codes, tokens or keys.
"""

from __future__ import annotations

import enum


class SignInCode(enum.StrEnum):
    CODE_REJECTED = "CODE_REJECTED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"
    REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"
    REFRESH_TOKEN_EXPIRED = "REFRESH_TOKEN_EXPIRED"
    REFRESH_TOKEN_REVOKED = "REFRESH_TOKEN_REVOKED"
    TOKEN_INVALID = "TOKEN_INVALID"
    IDENTITY_TAKEN = "IDENTITY_TAKEN"


class SignInError(Exception):
    """An expected failure; ``str(error)`` is safe to show the client."""

    def __init__(self, code: SignInCode, message: str) -> None:
        super().__init__(message)
        self.code = code
