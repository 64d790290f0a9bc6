"""Alembic's environment for the ledger.

Start-up (:func:`gateway.store.migrations.migrate`) hands its own connection in
``config.attributes["connection"]``, already inside the transaction that holds the migration lock, so
every revision runs in that one transaction. Without one (``alembic revision --autogenerate`` or
``alembic check`` from a checkout, with ``-x url=…``) this opens its own engine; upgrade a ledger
with chargegate itself, which takes the lock.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from gateway.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    from gateway.store.database import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the ledger's migrations run online only (chargegate applies them at start-up)")
connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the ledger's database with -x url=sqlite:///var/chargegate.sqlite3")
    asyncio.run(_run_with_own_engine(url))
