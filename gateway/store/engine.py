"""Opening the ledger: build the engine, migrate the schema, hand back the :class:`Store`."""

from __future__ import annotations

from gateway.store.admin import Admin
from gateway.store.bills import Bills
from gateway.store.database import Database, make_engine
from gateway.store.events import SessionEvents
from gateway.store.exposure import Exposure
from gateway.store.inbox import Inbox
from gateway.store.invariants import Invariants
from gateway.store.migrations import migrate
from gateway.store.mismatches import Mismatches
from gateway.store.operator_state import OperatorState
from gateway.store.payments import Payments
from gateway.store.quotes import Quotes
from gateway.store.sessions import Sessions
from gateway.store.settlement import Settlement
from gateway.store.wallet import Wallets

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/chargegate.sqlite3"


class Store(
    Wallets,
    Sessions,
    SessionEvents,
    Inbox,
    Bills,
    Payments,
    Exposure,
    Settlement,
    Invariants,
    Admin,
    Quotes,
    OperatorState,
    Mismatches,
):
    """The billing ledger: drivers, wallets, sessions, the inbox, bills, payments, reservations, quotes.

    Every method is one transaction and returns frozen records (:mod:`gateway.store.records`). Built
    once in the Starlette lifespan by :func:`open_store`, closed there with :meth:`close`.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.dialect

    @property
    def database(self) -> Database:
        """The ledger's database, for the stores of other packages (:mod:`gateway.identity.store`)."""
        return self._db

    async def close(self) -> None:
        await self._db.dispose()


async def open_store(database_url: str = DEFAULT_DATABASE_URL) -> Store:
    """Connect to ``database_url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``;
    the plain ``sqlite:`` and ``postgresql:`` schemes are accepted too) and upgrade its schema."""
    engine = make_engine(database_url)
    try:
        await migrate(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Store(Database(engine))
