"""The Alipay adapter's errors; nothing else escapes :mod:`gateway.rails.alipay`.

Error tree::

    AlipayError
     ├── AlipayUnavailable      no usable answer: down, timeout, HTTP error, unreadable body
     │                          (``reason``: "down" | "timeout" | "bad_answer"); the call's outcome is
     │                          unknown, so the caller queries before it retries anything that moves money
     ├── AlipayBadSignature     an answer or notification whose RSA2 signature is missing or wrong
     └── AlipayRefused          the gateway answered a business error (``code``, ``sub_code``, ``sub_msg``)
          └── AlipayCreditDeclined   Zhima declined the credit order (a risk decision, not an outage)

Messages never carry keys, signatures or bodies.
"""

from __future__ import annotations

# Zhima's risk refusals of a pay-after-use order. The simulator answers the first; the rest are
# the refusals the open platform documents for credit orders. Check them against the provider's
# current error list when going live (docs/payments.md).
CREDIT_DECLINED_SUB_CODES = frozenset({"ZHIMA_CREDIT_RISK_REJECT", "USER_CREDIT_NOT_ENOUGH", "RISK_NOT_PASS"})


class AlipayError(Exception):
    """Base of the Alipay adapter's errors."""


class AlipayUnavailable(AlipayError):
    """No usable answer; the outcome of the call is unknown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class AlipayBadSignature(AlipayError):
    """An answer or notification that does not carry Alipay's valid RSA2 signature."""


class AlipayRefused(AlipayError):
    """A business error from the gateway (``code`` is not ``10000``)."""

    def __init__(self, method: str, code: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(f"{method} refused: {code} {sub_code} {sub_msg}".strip())
        self.method = method
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg


class AlipayCreditDeclined(AlipayRefused):
    """Zhima declined to extend pay-after-use credit for this order."""
