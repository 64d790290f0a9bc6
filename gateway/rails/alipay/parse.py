"""Response nodes and notification fields → the adapter's models (pure, table-driven)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from gateway.rails.alipay.errors import AlipayUnavailable
from gateway.rails.amounts import parse_yuan

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Enum)


def status(kind: type[E], value: object) -> E:
    """A native status → ``kind``; an unknown one → ``kind.UNKNOWN``, logged."""
    try:
        return kind(value)
    except ValueError:
        log.warning("unknown Alipay %s %r", kind.__name__, value)
        return kind["UNKNOWN"]


def text(node: Mapping[str, Any], name: str) -> str:
    """A required, non-empty string field."""
    value = node.get(name)
    if not isinstance(value, str) or not value:
        raise AlipayUnavailable("bad_answer", f"Alipay's answer lacks {name}")
    return value


def optional_text(node: Mapping[str, Any], name: str) -> str | None:
    value = node.get(name)
    return value if isinstance(value, str) and value else None


def amount(node: Mapping[str, Any], name: str) -> Decimal:
    """A required yuan amount (``"12.50"``)."""
    try:
        return parse_yuan(node.get(name))
    except ValueError:
        raise AlipayUnavailable("bad_answer", f"Alipay's {name} is not a yuan amount") from None


def optional_amount(node: Mapping[str, Any], name: str) -> Decimal | None:
    return amount(node, name) if node.get(name) not in (None, "") else None
