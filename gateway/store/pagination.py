"""Keyset pagination, newest first, over tables keyed by ``(created_at, id)``.

A cursor is opaque to clients (URL-safe base64 of the last row's key), stable under inserts, and
costs an index seek rather than an OFFSET scan.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, Table, and_, or_

from gateway.store.records import Page

T = TypeVar("T")


class InvalidCursor(ValueError):
    """A pagination cursor this store did not issue."""


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from exc
    if created_at.tzinfo is None or not row_id:
        raise InvalidCursor(f"invalid cursor {cursor!r}")
    return created_at, row_id


def newest_first(query: Select[Any], table: Table, first: int, after: str | None) -> Select[Any]:
    """``query`` restricted to rows older than ``after``, newest first, one extra row to see ahead."""
    if first < 0:
        raise ValueError("first must not be negative")
    created_at, row_id = table.c.created_at, table.c.id
    if after is not None:
        at, last_id = decode_cursor(after)
        query = query.where(or_(created_at < at, and_(created_at == at, row_id < last_id)))
    return query.order_by(created_at.desc(), row_id.desc()).limit(first + 1)


def to_page(rows: Sequence[Row[Any]], first: int, convert: Callable[[Row[Any]], T]) -> Page[T]:
    """The page from ``newest_first``'s rows; ``convert`` turns a row into its record."""
    kept = rows[:first]
    return Page(
        items=tuple(convert(row) for row in kept),
        cursors=tuple(encode_cursor(row.created_at, row.id) for row in kept),
        has_next=len(rows) > first,
    )
