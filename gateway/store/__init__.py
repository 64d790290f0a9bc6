"""The billing ledger (SQLAlchemy async Core): SQLite by default, PostgreSQL when configured."""

from gateway.store.bills import BillClosedError, as_line_input
from gateway.store.engine import DEFAULT_DATABASE_URL, Store, open_store
from gateway.store.migrations import LATEST, MigrationError, migrate
from gateway.store.pagination import InvalidCursor
from gateway.store.records import (
    BillLineInput,
    BillLineRecord,
    BillRecord,
    BillStatus,
    DriverRecord,
    InboxRecord,
    LineKind,
    Page,
    PaymentMethod,
    PaymentMode,
    PaymentOutcome,
    PaymentRecord,
    PaymentResult,
    SessionEventRecord,
    SessionRecord,
    WalletEntryKind,
    WalletEntryRecord,
)
from gateway.store.sessions import progress_fields

__all__ = [
    "DEFAULT_DATABASE_URL",
    "LATEST",
    "BillClosedError",
    "BillLineInput",
    "BillLineRecord",
    "BillRecord",
    "BillStatus",
    "DriverRecord",
    "InboxRecord",
    "InvalidCursor",
    "LineKind",
    "MigrationError",
    "Page",
    "PaymentMethod",
    "PaymentMode",
    "PaymentOutcome",
    "PaymentRecord",
    "PaymentResult",
    "SessionEventRecord",
    "SessionRecord",
    "Store",
    "WalletEntryKind",
    "WalletEntryRecord",
    "as_line_input",
    "migrate",
    "open_store",
    "progress_fields",
]
