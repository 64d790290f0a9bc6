"""The ledger's schema migrations, by Alembic: a database at any earlier revision upgrades in place.

The revisions are ``gateway/store/alembic/versions/*.py``, each self-contained (its own column types,
never the live :mod:`gateway.store.tables`); a new one is a new file there (``alembic revision -m …``
from the checkout writes one from the template) plus the matching change in :mod:`gateway.store.tables`.
Released revisions are never edited. :func:`migrate` runs at start-up and before every
``chargegate ledger …`` command: it applies the pending revisions in one write transaction (DDL is
transactional on both SQLite and PostgreSQL, so a failed upgrade leaves the database as it was).
Concurrent start-ups are serialised by a transaction-scoped advisory lock on PostgreSQL and by
``BEGIN IMMEDIATE`` on SQLite, so several replicas may call it at once.

A ledger made before Alembic records its version in ``schema_version`` (one row per migration,
1…7, which are revisions ``0001``…``0007``): it is stamped at the matching revision, that table
dropped, and the rest applied in the same transaction.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.database import Database

log = logging.getLogger(__name__)

ADVISORY_LOCK_ID = 0x63686172  # "char": any constant shared by every chargegate replica
SCRIPTS = Path(__file__).with_name("alembic")
LEGACY_TABLE = "schema_version"  # the version table of the migrations before Alembic
LEGACY_LAST = 7  # the last version they knew; version n is revision f"{n:04d}"


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema (e.g. it is newer than the code)."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


HEAD: str = _scripts().get_current_head() or ""


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None when it has never been migrated by Alembic."""
    async with Database(engine).read() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def migrate(engine: AsyncEngine, target: str = HEAD) -> str | None:
    """Apply every pending revision up to ``target``; returns the revision the database is now at.

    A database already at or past ``target`` is left as it is (the ledger never goes backwards);
    one at a revision this code does not know (a newer release's) is refused with MigrationError.
    """
    if not _known(target):
        raise MigrationError(f"no ledger revision {target!r}: this code knows up to {HEAD}")
    db = Database(engine)
    async with db.write() as conn:
        if db.dialect == "postgresql":
            await conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_ID)))
        return await conn.run_sync(_upgrade, target)


def _upgrade(conn: Connection, target: str) -> str | None:
    context = MigrationContext.configure(conn)
    current = context.get_current_revision()
    if current is None and inspect(conn).has_table(LEGACY_TABLE):
        current = _adopt_legacy(conn, context)
    if current is not None and not _known(current):
        raise MigrationError(f"database is at ledger revision {current!r}; this code knows only up to {HEAD}")
    if current is not None and target in _ancestry(current):
        return current
    command.upgrade(_config(conn), target)
    return MigrationContext.configure(conn).get_current_revision()


def _adopt_legacy(conn: Connection, context: MigrationContext) -> str | None:
    """Stamp a ledger from before Alembic at the revision of its ``schema_version``; drop that table."""
    version = conn.execute(text(f"SELECT max(version) FROM {LEGACY_TABLE}")).scalar_one_or_none() or 0
    if version > LEGACY_LAST:
        raise MigrationError(f"database is at schema version {version}; this code knows only {LEGACY_LAST}")
    revision = f"{version:04d}" if version else None
    if revision is not None:
        log.info("ledger at schema version %d (before Alembic): stamped as revision %s", version, revision)
        context.stamp(_scripts(), revision)
    conn.execute(text(f"DROP TABLE {LEGACY_TABLE}"))
    return revision


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _ancestry(revision: str) -> set[str]:
    """``revision`` and every revision before it."""
    return {script.revision for script in _scripts().iterate_revisions(revision, "base")}
