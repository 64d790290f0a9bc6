"""Schema version 4, frozen: binding price quotes, each usable by one session.

A quote keeps the tariff it was priced under (the snapshot a bill is later computed from), the
energy and power it was priced for, and when it stops being valid. ``session_id`` is set once, by
the session that uses it. Never edit this module; a later change is a new migration.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, MetaData, String, Table, Text

from gateway.store.schema_v1 import NAMING
from gateway.store.types import ENERGY, MONEY, UtcDateTime

metadata = MetaData(naming_convention=NAMING)

_sessions = Table("sessions", metadata, Column("id", String(64), primary_key=True))  # exists already

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("driver_id", String(64), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("connector_id", String(128), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("energy_kwh", ENERGY, nullable=False),
    Column("power_kw", Float, nullable=False),
    Column("total", MONEY, nullable=False),
    Column("tariff_json", Text, nullable=False),
    Column("priced_at", UtcDateTime, nullable=False),  # the estimate's start
    Column("valid_until", UtcDateTime, nullable=False),
    Column("session_id", String(64), ForeignKey("sessions.id"), unique=True),
    Index(None, "driver_id"),
)
