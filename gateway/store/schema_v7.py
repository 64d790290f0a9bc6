"""Schema version 7, frozen: who a driver is at the identity providers, and their sign-ins.

``identities`` binds a provider's user (``alipay`` user id, ``wechat`` openid, ``oidc`` issuer and
subject) to one driver; a user is bound to at most one driver, a driver may have several. A
``sign_ins`` row is one signed-in device: the hash of its current refresh token, when it expires,
and when it was revoked (sign-out, or a refresh token used twice). Never edit this module; a later
change is a new migration.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, String, Table

from gateway.store.schema_v1 import NAMING
from gateway.store.types import UtcDateTime

metadata = MetaData(naming_convention=NAMING)

_drivers = Table("drivers", metadata, Column("id", String(64), primary_key=True))  # exists already

identities = Table(
    "identities",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("how", String(16), nullable=False),  # SIGN_IN (created by it), LINK (by the driver), DEMO
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "driver_id"),
)

sign_ins = Table(
    "sign_ins",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("driver_id", String(64), ForeignKey("drivers.id"), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("refresh_hash", String(64), nullable=False),  # SHA-256 hex of the current refresh secret
    Column("previous_hash", String(64)),  # the one before: presenting it again revokes the sign-in
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index(None, "driver_id"),
)
