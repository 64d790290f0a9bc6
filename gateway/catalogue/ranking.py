"""Station orderings for search — distance, price, power, estimated cost — and their keyset cursors.

Every ordering sorts on a total key ``(unknown, value, distance, operator id, station id)``:
stations whose value is unknown (no tariff, no priced connector) come last, ties go to the nearer
station, then to ids. A cursor is the key of the last station seen, so the next page starts just
after it wherever it now stands: a station never shows twice and none is skipped unless its own
value changed between the pages.
"""

from __future__ import annotations

import base64
import binascii
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Final, overload

from gateway.catalogue import pricing
from operators.domain import Connector, Station, Tariff

ConnectorTest = Callable[[Connector], bool]
Hit = tuple[float, Station]
Key = tuple[int, Decimal | float, float, str, str]


class StationOrder(enum.Enum):
    DISTANCE = "DISTANCE"
    PRICE = "PRICE"
    POWER = "POWER"
    ESTIMATED_COST = "ESTIMATED_COST"


NEEDS_TARIFFS = frozenset({StationOrder.PRICE, StationOrder.ESTIMATED_COST})


class CursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Charge:
    """What ``ESTIMATED_COST`` prices: the energy, the vehicle's power limit and the start, when given
    (else the request's time)."""

    energy_kwh: Decimal
    vehicle_max_kw: float | None = None
    start: datetime | None = None

    def power(self, connector: Connector) -> Decimal:
        """The power a charge draws on ``connector``: its maximum, capped by the vehicle's limit."""
        kw = connector.max_power_kw
        if self.vehicle_max_kw is not None:
            kw = min(kw, self.vehicle_max_kw)
        return _decimal_kw(kw)


_KW: dict[float, Decimal] = {}


def _decimal_kw(kw: float) -> Decimal:
    value = _KW.get(kw)
    if value is None:
        if len(_KW) > 4096:
            _KW.clear()
        value = _KW[kw] = Decimal(repr(kw))
    return value


def connector_ids(hits: Sequence[Hit], test: ConnectorTest | None) -> dict[str, list[str]]:
    """The connectors whose tariffs an ordering needs, by operator."""
    out: dict[str, list[str]] = {}
    for _, s in hits:
        ids = out.get(s.operator_id)
        if ids is None:
            ids = out[s.operator_id] = []
        if test is None:
            ids += [c.id for c in s.connectors]
        else:
            ids += [c.id for c in s.connectors if test(c)]
    return out


class ByDistance(Sequence[tuple[Key, float, Station]]):
    """The DISTANCE ordering of hits already nearest first, its items built when read: a page of
    a search that found thousands of stations costs the page, not the thousands."""

    def __init__(self, hits: Sequence[Hit]) -> None:
        self._hits = hits

    def __len__(self) -> int:
        return len(self._hits)

    @overload
    def __getitem__(self, i: int) -> tuple[Key, float, Station]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[Key, float, Station]]: ...

    def __getitem__(self, i: int | slice) -> tuple[Key, float, Station] | list[tuple[Key, float, Station]]:
        if isinstance(i, slice):
            return [((0, 0, d, s.operator_id, s.id), d, s) for d, s in self._hits[i]]
        d, s = self._hits[i]
        return (0, 0, d, s.operator_id, s.id), d, s


def rank(
    hits: Sequence[Hit],
    order: StationOrder,
    test: ConnectorTest | None,
    tariffs: Mapping[str, Mapping[str, Tariff]] | None = None,
    now: datetime | None = None,
    charge: Charge | None = None,
    missing: dict[str, list[str]] | None = None,
) -> list[tuple[Key, float, Station]]:
    """``hits`` sorted by ``order``. ``tariffs`` are by operator and connector id (those of
    :func:`connector_ids`, or all an operator's cache holds); prices are those in force at ``now``
    in each station's time zone, as the fields show them. Matching connectors of an operator in
    ``tariffs`` that have none there are added to ``missing``, when given."""
    if order is StationOrder.DISTANCE:
        return [((0, 0, d, s.operator_id, s.id), d, s) for d, s in hits]
    out: list[tuple[Key, float, Station]] = []
    if order is StationOrder.POWER:
        for d, s in hits:
            powers = [c.max_power_kw for c in s.connectors if test is None or test(c)]
            key: Key = (0, -max(powers), d, s.operator_id, s.id) if powers else (1, 0, d, s.operator_id, s.id)
            out.append((key, d, s))
        out.sort(key=_first)
        return out
    # Equal tariffs are one object once cached (gateway.upstream.caching interns them), so a search over
    # hundreds of connectors prices each tariff once per time zone (PRICE) or power (ESTIMATED_COST):
    # values are memoised by the tariff's id under the zone or the power.
    by_price = order is StationOrder.PRICE
    memos: dict[str | float, dict[int, Decimal | None]] = {}
    none: Mapping[str, Tariff] = {}
    for d, s in hits:
        best: Decimal | None = None
        of_operator = tariffs.get(s.operator_id, none) if tariffs else none
        memo_tz = memos.get(s.timezone) if by_price else None
        for c in s.connectors:
            if test is not None and not test(c):
                continue
            tariff = of_operator.get(c.id)
            if tariff is None:
                if missing is not None and of_operator is not none:
                    missing.setdefault(s.operator_id, []).append(c.id)
                continue
            memo = memo_tz
            if memo is None:
                memo_key = s.timezone if by_price else c.max_power_kw
                memo = memos.get(memo_key)
                if memo is None:
                    memo = memos[memo_key] = {}
            found = memo.get(id(tariff), _MISSING)
            if found is _MISSING:
                found = memo[id(tariff)] = _value(tariff, s.timezone, by_price, now, c, charge)
            if found is not None and (best is None or found < best):
                best = found
        key = (1, 0, d, s.operator_id, s.id) if best is None else (0, best, d, s.operator_id, s.id)
        out.append((key, d, s))
    out.sort(key=_first)
    return out


def _first(item: tuple[Key, float, Station]) -> Key:
    return item[0]


SEP = "\x1f"
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class _Missing(enum.Enum):
    """Not memoised yet (None is a memoised value: no price)."""

    MISSING = enum.auto()


_MISSING: Final = _Missing.MISSING


def _value(
    tariff: Tariff, tz: str, by_price: bool, now: datetime | None, c: Connector, charge: Charge | None
) -> Decimal | None:
    """The PRICE value of a connector (price now in the station's zone, as the field shows it) or
    its ESTIMATED_COST (as its estimate prices it, in the tariff's zone)."""
    if not tariff.periods or now is None:
        return None
    schedule = pricing.schedule_of(tariff)
    if by_price:
        return schedule.total_at(pricing.second_of_day(now, tz)[1])
    if charge is None or (power := charge.power(c)) <= 0:
        return None
    if tariff.rules is not None:  # priced by the operator's engine, as its estimate is
        try:
            return pricing.estimate(tariff, charge.energy_kwh, charge.start or now, power).total
        except pricing.PricingError:
            return None
    try:
        return pricing.cost(
            schedule, charge.energy_kwh, pricing.second_of_day(charge.start or now, tariff.timezone)[1], power
        )
    except pricing.PricingError:  # longer than an estimate goes: no value, listed last
        return None


def encode_cursor(order: StationOrder, key: Key) -> str:
    unknown, value, distance, op_id, station_id = key
    # One f-string (the fields' str(), the distance's repr()): a page's edges each get a cursor.
    raw = f"{_NAMES[order]}\x1f{unknown}\x1f{value}\x1f{distance!r}\x1f{op_id}\x1f{station_id}"  # SEP
    return binascii.b2a_base64(raw.encode(), newline=False).translate(_URLSAFE).decode("ascii")


_NAMES = {order: order.value for order in StationOrder}


def decode_cursor(order: StationOrder, cursor: str) -> Key:
    """The key a cursor holds; :class:`CursorError` when it is not one of this ordering's."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
        name, unknown, value, distance, op_id, station_id = raw.split(SEP, 5)
        if name != order.value and name in StationOrder.__members__:
            raise CursorError(f"after is a cursor of the {name} ordering, not {order.value}")
        number: Decimal | float = Decimal(value) if order in NEEDS_TARIFFS else float(value)
        far = float(distance)
        if (
            name != order.value
            or unknown not in ("0", "1")
            or not (math.isfinite(number) and math.isfinite(far))
        ):
            raise ValueError("malformed cursor")
        return (int(unknown), number, far, op_id, station_id)
    except CursorError:
        raise
    except (binascii.Error, UnicodeError, ValueError, InvalidOperation) as exc:
        raise CursorError("after is not a cursor returned by this query") from exc
