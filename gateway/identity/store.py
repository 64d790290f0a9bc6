"""The identity tables of the ledger: providers' users bound to drivers, and sign-ins.

Every replica reads the same rows, so a sign-out or a revoked refresh token is honoured by all of
them at once. Refresh secrets are kept only as SHA-256 hashes. Each method is one transaction.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin import audit
from gateway.store.database import Database
from gateway.store.tables import drivers, identities, sign_ins
from gateway.store.types import new_id, utcnow
from gateway.store.wallet import ensure_driver_row


class How(enum.StrEnum):
    SIGN_IN = "SIGN_IN"  # the driver was created by signing in with this identity
    LINK = "LINK"  # the driver linked it explicitly (audited)
    DEMO = "DEMO"  # demo mode's fixtures


class Refresh(enum.StrEnum):
    """Why a refresh token was not accepted."""

    INVALID = "INVALID"  # no such sign-in, or not its token
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"  # signed out, or the token was used twice (the sign-in is revoked then)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IdentityStore:
    """Implements :class:`gateway.identity.tokens.Directory` over the ledger."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def linked_driver(self, provider: str, subject: str) -> str | None:
        async with self._db.read() as conn:
            return await _bound(conn, provider, subject)

    async def sign_in_live(self, sid: str, driver_id: str) -> bool:
        async with self._db.read() as conn:
            query = select(sign_ins.c.driver_id, sign_ins.c.revoked_at, sign_ins.c.expires_at).where(
                sign_ins.c.id == sid
            )
            row = (await conn.execute(query)).first()
        return (
            row is not None
            and row.driver_id == driver_id
            and row.revoked_at is None
            and row.expires_at > utcnow()
        )

    async def driver_for(self, provider: str, subject: str, fresh_driver_id: str) -> str:
        """The driver bound to this user; ``fresh_driver_id`` (an id nobody has), created and bound,
        if there is none yet."""
        async with self._db.write() as conn:
            bound = await _bound(conn, provider, subject)
            if bound is not None:
                return bound
            await ensure_driver_row(self._db, conn, fresh_driver_id, None)
            await self._insert(conn, fresh_driver_id, provider, subject, How.SIGN_IN)
            bound = await _bound(conn, provider, subject)
            if bound != fresh_driver_id:  # a concurrent sign-in bound it first: no stray driver
                await conn.execute(drivers.delete().where(drivers.c.id == fresh_driver_id))
        return str(bound)

    async def bind(self, driver_id: str, provider: str, subject: str, how: How) -> str:
        """Bind this user to ``driver_id`` unless it is bound already; the driver it is bound to now
        (another driver when it was taken: nothing changes then). A LINK leaves an audit row."""
        async with self._db.write() as conn:
            await ensure_driver_row(self._db, conn, driver_id, None)
            if await self._insert(conn, driver_id, provider, subject, how):
                if how is How.LINK:
                    note = f"linked a {provider} identity"
                    await audit(
                        conn, f"driver:{driver_id}", "linkIdentity", driver_id, note, provider=provider
                    )
                return driver_id
            return str(await _bound(conn, provider, subject))

    async def _insert(
        self, conn: AsyncConnection, driver_id: str, provider: str, subject: str, how: How
    ) -> bool:
        values = {"provider": provider, "subject": subject, "driver_id": driver_id, "how": how.value}
        done = await conn.execute(self._db.insert_ignore(identities).values(**values, created_at=utcnow()))
        return bool(done.rowcount)

    async def open_sign_in(self, driver_id: str, provider: str, secret: str, ttl: timedelta) -> str:
        """A new sign-in with ``secret`` as its refresh secret; its id."""
        sid, now = new_id(), utcnow()
        async with self._db.write() as conn:
            await conn.execute(
                sign_ins.insert().values(
                    id=sid,
                    driver_id=driver_id,
                    provider=provider,
                    refresh_hash=digest(secret),
                    created_at=now,
                    expires_at=now + ttl,
                )  # fmt: skip
            )
        return sid

    async def rotate(self, sid: str, secret: str, new_secret: str) -> tuple[str, str] | Refresh:
        """Swap the refresh secret: (driver id, provider), or why not. Presenting the previous secret
        again (a stolen or replayed token) revokes the sign-in."""
        now = utcnow()
        async with self._db.write() as conn:
            row = (await conn.execute(select(sign_ins).where(sign_ins.c.id == sid).with_for_update())).first()
            if row is None:
                return Refresh.INVALID
            if row.revoked_at is not None:
                return Refresh.REVOKED
            presented = digest(secret)
            if presented == row.previous_hash:
                await conn.execute(update(sign_ins).where(sign_ins.c.id == sid).values(revoked_at=now))
                return Refresh.REVOKED
            if presented != row.refresh_hash:
                return Refresh.INVALID
            if row.expires_at <= now:
                return Refresh.EXPIRED
            await conn.execute(
                update(sign_ins)
                .where(sign_ins.c.id == sid)
                .values(refresh_hash=digest(new_secret), previous_hash=presented)
            )
            return row.driver_id, row.provider

    async def end(self, sid: str, secret: str) -> Refresh | None:
        """Sign out: revoke the sign-in whose refresh secret (current or the one before) this is;
        None when done (also when it had ended already)."""
        async with self._db.write() as conn:
            row = (await conn.execute(select(sign_ins).where(sign_ins.c.id == sid).with_for_update())).first()
            if row is None or digest(secret) not in (row.refresh_hash, row.previous_hash):
                return Refresh.INVALID
            if row.revoked_at is None:
                await conn.execute(update(sign_ins).where(sign_ins.c.id == sid).values(revoked_at=utcnow()))
        return None


async def _bound(conn: AsyncConnection, provider: str, subject: str) -> str | None:
    query = select(identities.c.driver_id).where(
        identities.c.provider == provider, identities.c.subject == subject
    )
    return (await conn.execute(query)).scalar_one_or_none()
