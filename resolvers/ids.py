"""Opaque global IDs: ``base64url(kind \\x1f part \\x1f part …)`` without padding.

Clients must treat them as opaque; we only promise that ``node(id)`` resolves them.
"""

from __future__ import annotations

import base64
import binascii

from strawberry import ID

SEP = "\x1f"


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode(kind: str, *parts: str) -> ID:
    # binascii directly: base64.urlsafe_b64encode's wrappers cost more than the encoding itself,
    # and every station and connector of a search result gets an id.
    raw = SEP.join((kind, *parts)).encode("utf-8")
    return ID(binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii"))


def decode(global_id: str) -> tuple[str, list[str]] | None:
    """``(kind, parts)``, or None when the id is not one of ours."""
    if not global_id or len(global_id) > 512:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    kind, *parts = raw.split(SEP)
    return (kind, parts) if parts else None


def station_id(operator_id: str, station: str) -> ID:
    return encode("Station", operator_id, station)


def connector_id(operator_id: str, connector: str) -> ID:
    return encode("Connector", operator_id, connector)


def operator_id(operator: str) -> ID:
    return encode("Operator", operator)
