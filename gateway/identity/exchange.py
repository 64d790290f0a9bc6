"""Sign-in codes exchanged with the providers through the rails' clients: the one place where
their errors become :class:`SignInError` (and nothing of the code reaches a log line)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp

from gateway.identity.errors import SignInCode, SignInError
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.errors import AlipayError, AlipayRefused
from gateway.rails.alipay.oauth import CODE_REFUSED_SUB_CODES, user_of_code
from gateway.rails.wechatpay.errors import WeChatPayError
from gateway.rails.wechatpay.login import CODE_USED, LoginRefused, MiniProgram, openid_of_code

log = logging.getLogger(__name__)

Exchange = Callable[[str], Awaitable[str]]  # a code → the provider's user id
REJECTED = "the sign-in code was already used, has expired or is not valid: get a new one in the app"


def alipay(client: AlipayClient) -> Exchange:
    async def exchange(code: str) -> str:
        try:
            return await user_of_code(client, code)
        except AlipayRefused as exc:
            if exc.sub_code in CODE_REFUSED_SUB_CODES:
                raise SignInError(SignInCode.CODE_REJECTED, REJECTED) from None
            log.warning("Alipay refused a sign-in: %s %s", exc.code, exc.sub_code)
            raise _unavailable("Alipay") from None
        except AlipayError as exc:
            log.warning("Alipay sign-in failed: %s", type(exc).__name__)
            raise _unavailable("Alipay") from None

    return exchange


def wechat(http: aiohttp.ClientSession, app: MiniProgram) -> Exchange:
    async def exchange(code: str) -> str:
        try:
            return await openid_of_code(http, app, code)
        except LoginRefused as exc:
            if exc.code_refused:
                used = " (WeChat says: already used)" if exc.errcode == CODE_USED else ""
                raise SignInError(SignInCode.CODE_REJECTED, REJECTED + used) from None
            log.warning("WeChat refused a sign-in: errcode %d", exc.errcode)
            raise _unavailable("WeChat") from None
        except WeChatPayError as exc:
            log.warning("WeChat sign-in failed: %s", type(exc).__name__)
            raise _unavailable("WeChat") from None

    return exchange


def _unavailable(provider: str) -> SignInError:
    return SignInError(SignInCode.PROVIDER_UNAVAILABLE, f"{provider} cannot sign you in right now; try again")
