"""Sign-in with Alipay: a mini program's auth code exchanged for the user's id.

``alipay.system.oauth.token`` with ``grant_type=authorization_code``: the code comes from
``my.getAuthCode`` in the mini program and is valid once, for minutes. The answer names the user
by ``user_id`` (2088…) or, for apps on Alipay's newer OpenID scheme, ``open_id``. The access token it
also returns is the app's to call user APIs with; we do not keep it.
"""

from __future__ import annotations

from gateway.rails.alipay.client import AlipayClient
from gateway.rails.alipay.errors import AlipayUnavailable

METHOD = "alipay.system.oauth.token"
# The open platform's answer to a code it will not exchange (unknown, expired or already used).
CODE_REFUSED_SUB_CODES = frozenset({"isv.code-invalid", "isv.invalid-auth-code"})


async def user_of_code(client: AlipayClient, code: str) -> str:
    """The Alipay user ``code`` belongs to; the adapter's errors (``AlipayRefused`` with a
    ``sub_code`` in :data:`CODE_REFUSED_SUB_CODES` for a bad code) otherwise."""
    node = await client.call(METHOD, None, extra={"grant_type": "authorization_code", "code": code})
    user = node.get("user_id") or node.get("open_id")
    if not isinstance(user, str) or not user:
        raise AlipayUnavailable("bad_answer", f"Alipay's answer to {METHOD} names no user")
    return user
