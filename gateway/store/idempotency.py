"""Idempotency keys: per owner (a driver, or an admin key) and operation, bound to their request.

A key is claimed in the same transaction as the effect it names, with a hash of the normalised
request; a repeat with the same hash gets the first result's id back, one with another hash is a
conflict. Another owner's identical key is a different key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.database import Database
from gateway.store.records import KeyConflict
from gateway.store.tables import idempotency_keys
from gateway.store.types import utcnow


async def find_key(
    conn: AsyncConnection, owner: str, operation: str, key: str, request_hash: str
) -> str | KeyConflict | None:
    """The result id an earlier use of the key recorded; a conflict if its request differed."""
    query = select(idempotency_keys.c.request_hash, idempotency_keys.c.result_id).where(
        idempotency_keys.c.owner == owner,
        idempotency_keys.c.operation == operation,
        idempotency_keys.c.key == key,
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return row.result_id if row.request_hash == request_hash else KeyConflict(operation, key)


async def claim_key(
    db: Database,
    conn: AsyncConnection,
    owner: str,
    operation: str,
    key: str,
    request_hash: str,
    result_id: str,
) -> None:
    """Record the key; the caller holds the owner's lock and has checked :func:`find_key`."""
    await conn.execute(
        idempotency_keys.insert().values(
            owner=owner,
            operation=operation,
            key=key,
            request_hash=request_hash,
            result_id=result_id,
            created_at=utcnow(),
        )  # fmt: skip
    )
