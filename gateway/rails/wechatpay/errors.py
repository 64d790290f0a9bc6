"""The WeChat Pay adapter's errors; nothing else escapes :mod:`gateway.rails.wechatpay`.

Error tree::

    WeChatPayError
     ├── WeChatPayUnavailable      no usable answer: down, timeout, HTTP 5xx, unreadable body
     │                             (``reason``: "down" | "timeout" | "bad_answer"); the outcome is
     │                             unknown, so the caller queries before it retries anything that moves money
     ├── WeChatPayBadSignature     an answer or notification without the platform's valid signature,
     │                             or a notification resource that does not decrypt
     └── WeChatPayRefused          a 4xx answer (``status``, ``code``, ``message``)
          └── WeChatPayCreditDeclined   pay score declined the service order (a risk decision)

Messages never carry keys, signatures or bodies.
"""

from __future__ import annotations

# Pay score's refusals of a no-confirm service order for the user's score. The simulator answers
# the first; check the list against WeChat Pay's current error codes when going live (docs/payments.md).
CREDIT_DECLINED_CODES = frozenset({"RULE_LIMIT", "USER_NOT_QUALIFIED"})


class WeChatPayError(Exception):
    """Base of the WeChat Pay adapter's errors."""


class WeChatPayUnavailable(WeChatPayError):
    """No usable answer; the outcome of the call is unknown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class WeChatPayBadSignature(WeChatPayError):
    """An answer or notification that does not carry the platform's valid signature."""


class WeChatPayRefused(WeChatPayError):
    """A 4xx answer with WeChat Pay's error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"WeChat Pay refused (HTTP {status}): {code} {message}".strip())
        self.status = status
        self.code = code
        self.message = message


class WeChatPayCreditDeclined(WeChatPayRefused):
    """Pay score declined to extend credit for this service order."""
