"""The billing service and the records and refusals it hands to the GraphQL layer."""

from gateway.billing.amounts import InvalidAmount, parse_plain
from gateway.billing.outcomes import Declined, Denied, Insufficient, NotFound, NotPayable, Refusal
from gateway.billing.service import BillingService, CreditReport, SessionStart
from gateway.store import (
    BillLineRecord,
    BillRecord,
    BillStatus,
    InvalidCursor,
    KeyConflict,
    Page,
    PaymentMethod,
    PaymentMode,
    PaymentPurpose,
    PaymentRecord,
    PaymentStatus,
    RefundRecord,
    SessionEndReason,
    SessionRecord,
)
from gateway.store.mismatches import MismatchRecord

__all__ = [
    "Denied",
    "MismatchRecord",
    "BillLineRecord",
    "BillRecord",
    "BillStatus",
    "BillingService",
    "CreditReport",
    "Declined",
    "Insufficient",
    "InvalidAmount",
    "InvalidCursor",
    "KeyConflict",
    "NotFound",
    "NotPayable",
    "Page",
    "PaymentMethod",
    "PaymentMode",
    "PaymentPurpose",
    "PaymentRecord",
    "PaymentStatus",
    "RefundRecord",
    "Refusal",
    "SessionEndReason",
    "SessionRecord",
    "SessionStart",
    "parse_plain",
]
