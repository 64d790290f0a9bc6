"""Sign-in with WeChat: a mini program's login code exchanged for the user's openid (code2Session).

``GET {api}/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`` on
api.weixin.qq.com (the mini program's server API, not WeChat Pay's), with the mini program's
AppSecret. The answer is JSON with ``openid`` (and ``unionid`` when the app is bound to an open
platform account) or an ``errcode``: 40029 a code that is not valid (unknown or expired), 40163 a
code already used, 45011 too many calls, -1 busy. The ``session_key`` it returns is never kept.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp

from gateway.rails.wechatpay.errors import WeChatPayUnavailable

PRODUCTION_API = "https://api.weixin.qq.com"
CODE_INVALID, CODE_USED = 40029, 40163
MAX_BODY_BYTES = 64 * 1024


class LoginRefused(Exception):
    """WeChat answered an ``errcode``: ``code_refused`` when the code itself is the problem."""

    def __init__(self, errcode: int) -> None:
        super().__init__(f"jscode2session refused: errcode {errcode}")
        self.errcode = errcode

    @property
    def code_refused(self) -> bool:
        return self.errcode in (CODE_INVALID, CODE_USED)


@dataclass(frozen=True, slots=True)
class MiniProgram:
    """The mini program's credentials (WeChat's developer console, "开发管理 → 开发设置")."""

    appid: str
    secret: str
    api_url: str = PRODUCTION_API
    timeout_s: float = 3.0


async def openid_of_code(http: aiohttp.ClientSession, app: MiniProgram, code: str) -> str:
    """The openid of the user whose login ``code`` this is; :class:`LoginRefused` or
    ``WeChatPayUnavailable`` otherwise."""
    url = f"{app.api_url.rstrip('/')}/sns/jscode2session"
    query = {"appid": app.appid, "secret": app.secret, "js_code": code, "grant_type": "authorization_code"}
    try:
        async with (
            asyncio.timeout(app.timeout_s),
            http.get(url, params=query, allow_redirects=False) as resp,
        ):
            status, body = resp.status, await resp.content.read(MAX_BODY_BYTES + 1)
    except TimeoutError:
        raise WeChatPayUnavailable("timeout", f"WeChat did not answer within {app.timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise WeChatPayUnavailable("down", f"WeChat unreachable ({type(exc).__name__})") from None
    if status != 200 or len(body) > MAX_BODY_BYTES:
        raise WeChatPayUnavailable("down", f"WeChat answered HTTP {status} to jscode2session")
    try:
        answer = json.loads(body)
    except ValueError:
        raise WeChatPayUnavailable("bad_answer", "WeChat's answer to jscode2session is not JSON") from None
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else None
    if errcode:
        raise (
            LoginRefused(int(errcode))
            if isinstance(errcode, int)
            else WeChatPayUnavailable("bad_answer", "WeChat's errcode is not a number")
        )
    openid = answer.get("openid") if isinstance(answer, dict) else None
    if not isinstance(openid, str) or not openid:
        raise WeChatPayUnavailable("bad_answer", "WeChat's answer to jscode2session names no openid")
    return openid
