"""What the gateway keeps in Redis, as JSON with type tags: a closed list of domain types, no pickle.

Values in the shared cache and events between replicas are frozen dataclasses and enums of the
domain model, with ``Decimal`` money and aware datetimes. Pickle would round-trip them too, but
unpickling runs whatever a Redis writer put there, so a replica would trust the whole network
behind the server. Here only the types in :data:`TYPES` come back, built with their own
constructors::

    {"$": "ConnectorState", "f": {"connector_id": "C1", "status": {"$e": "ConnectorStatus",
      "v": "AVAILABLE"}, "observed_at": {"$dt": "2026-11-24T14:00:00+00:00"}, ...}}

``Decimal`` is ``{"$d": "1.20"}`` (exact, as a string: these values hold floats too, which must
come back as floats, so a Decimal cannot simply be a JSON number here), ``datetime``/``time`` are
ISO strings under ``$dt``/``$t``, tuples are JSON arrays; anything else is refused with
:class:`TypeError` on the way in and :class:`ValueError` on the way out. The bytes are written by
:func:`operators.jsoncodec.dumps`, like every other JSON with money. A value written by another
version of the code that no longer fits (a field renamed) is a cache miss, never a crash
(:class:`DomainSerializer`).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import orjson
from aiocache.serializers import BaseSerializer

from gateway.rails.bureau.provider import CreditScore
from gateway.store import PaymentMode, SessionEndReason, SessionRecord
from operators import jsoncodec
from operators.domain import (
    Connector,
    ConnectorState,
    ConnectorStatus,
    ConnectorType,
    GeoPoint,
    PowerType,
    SessionPhase,
    Station,
    StatusSource,
    Tariff,
    TariffExtra,
    TariffPeriod,
    TariffRules,
)

log = logging.getLogger(__name__)

# Cache values (statuses, tariffs, credit scores) and fan-in events (stations, sessions).
DATACLASSES: tuple[type, ...] = (
    ConnectorState,
    Tariff,
    TariffPeriod,
    TariffExtra,
    TariffRules,
    CreditScore,
    Station,
    Connector,
    GeoPoint,
    SessionRecord,
)
ENUMS: tuple[type[enum.Enum], ...] = (
    ConnectorStatus,
    StatusSource,
    ConnectorType,
    PowerType,
    SessionPhase,
    PaymentMode,
    SessionEndReason,
)
TYPES: dict[str, type] = {cls.__name__: cls for cls in (*DATACLASSES, *ENUMS)}
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in DATACLASSES}


def to_plain(value: Any) -> Any:
    """``value`` as JSON-ready data with type tags; TypeError for a type not in :data:`TYPES`."""
    cls = type(value)
    if isinstance(value, enum.Enum):  # first: a StrEnum is a str too
        if TYPES.get(cls.__name__) is not cls:
            raise TypeError(f"{cls.__name__} is not a type the gateway keeps in Redis")
        return {"$e": cls.__name__, "v": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    if cls in _FIELDS:
        return {"$": cls.__name__, "f": {name: to_plain(getattr(value, name)) for name in _FIELDS[cls]}}
    raise TypeError(f"{cls.__name__} is not a type the gateway keeps in Redis")


def from_plain(data: Any) -> Any:
    """The value :func:`to_plain` made; ValueError for anything it would not have made."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return tuple(from_plain(item) for item in data)
    if not isinstance(data, dict):
        raise ValueError(f"unexpected {type(data).__name__}")
    try:
        if "$d" in data:
            return Decimal(data["$d"])
        if "$dt" in data:
            return datetime.fromisoformat(data["$dt"])
        if "$t" in data:
            return time.fromisoformat(data["$t"])
        if "$e" in data:
            cls = _known(data["$e"], enum.Enum)
            return cls(data["v"])
        cls = _known(data["$"], object)
        fields = data["f"]
        if not isinstance(fields, dict) or set(fields) != set(_FIELDS[cls]):
            raise ValueError(f"fields of {cls.__name__} do not match")
        return cls(**{name: from_plain(item) for name, item in fields.items()})
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise ValueError(f"not a tagged value: {exc}") from exc


def _known(name: Any, base: type) -> Any:
    cls = TYPES.get(name) if isinstance(name, str) else None
    if cls is None or not issubclass(cls, base) or (base is object and cls not in _FIELDS):
        raise ValueError(f"{name!r} is not a type the gateway keeps in Redis")
    return cls


def dumps(value: Any) -> bytes:
    return jsoncodec.dumps(to_plain(value))


def loads(raw: bytes | str) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    return from_plain(data)


class DomainSerializer(BaseSerializer):
    """aiocache's serializer for the Redis backend: :func:`dumps` / :func:`loads`.

    A stored value that cannot be read back (written by another version, or by someone else) is
    logged and read as absent, so the caller fetches it again and overwrites it.
    """

    DEFAULT_ENCODING = None  # bytes in and out: aiocache must not decode what Redis returns

    def dumps(self, value: Any) -> bytes:
        return dumps(value)

    def loads(self, value: bytes | None) -> Any:
        if value is None:
            return None
        try:
            return loads(value)
        except ValueError as exc:
            log.warning("unreadable value in the Redis cache treated as a miss: %s", exc)
            return None
