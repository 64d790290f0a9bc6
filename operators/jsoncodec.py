"""The one JSON codec for money: a ``Decimal`` is written as an exact JSON number and read back as one.

Every JSON that carries money goes through here: the T/CEC envelopes (whose signatures are over
these exact bytes), OCPI bodies, the OCPI adapter's stored state, the ledger's tariff snapshots
and the values the replicas share in Redis. :func:`dumps` is orjson (compact UTF-8, keys in
insertion order) with a ``Decimal`` written in plain positional notation, trailing zeros kept
(``Decimal("95.40")`` is ``95.40``, never ``95.4``, ``9.54E+1`` or a binary float); NaN and infinities
are refused. A ``datetime`` or a dataclass is not guessed at: it goes to the caller's ``default``
(OCPI writes its own RFC 3339 form), else :class:`TypeError`. :func:`loads` reads every non-integer
number as a ``Decimal`` (``json.loads(..., parse_float=Decimal)``), so nothing passes a float.

It lives in ``operators/`` because the protocol codecs may not import ``gateway``; the gateway
imports it from here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def decimal_text(value: Decimal) -> str:
    """``value`` as a JSON number: positional, exact, trailing zeros kept; ValueError if not finite."""
    if not value.is_finite():
        raise ValueError(f"JSON has no {value}: not a finite amount")
    return f"{value:f}"


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON of ``value``, each ``Decimal`` an exact number.

    ``default`` turns what JSON has no form for (a datetime, a dataclass, ...) into something it
    has; without one, or when it raises TypeError, such a value is refused with TypeError.
    """

    def fallback(item: Any) -> Any:
        if isinstance(item, Decimal):
            return orjson.Fragment(decimal_text(item))
        if default is None:
            raise TypeError(f"cannot serialise {type(item).__name__}")
        return default(item)

    option = OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else OPTIONS
    try:
        return orjson.dumps(value, default=fallback, option=option)
    except orjson.JSONEncodeError as exc:
        # orjson wraps what the hook raised; a NaN amount is a ValueError, the rest a TypeError.
        if isinstance(exc.__cause__, ValueError):
            raise exc.__cause__ from None
        raise TypeError(str(exc)) from exc


def loads(text: str | bytes) -> Any:
    """Parse JSON, every non-integer number an exact ``Decimal``; ValueError if it is not JSON."""
    return json.loads(text, parse_float=Decimal)
