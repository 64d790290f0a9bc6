"""Pure, table-driven OCPI 2.2.1 → domain mapping (Location → Station, Tariff, Session, CDR).

Domain ids: a station id is the OCPI ``location_id``; a connector id is
``"{location_id}*{evse_uid}*{connector_id}"`` with each part percent-encoded (so a ``*`` inside an
OCPI id cannot make it ambiguous). Location ids are unique per CPO and EVSE uids are too (§8.3.2),
so the key is unique within the operator, and it carries everything a START_SESSION needs.

Money crossing the port is **incl. VAT** where the CPO gives it (what the driver pays): tariff
prices are ``price × (1 + vat/100)`` (§11.4.4: absent ``vat`` = none applicable), order totals use
``incl_vat`` and fall back to ``excl_vat``.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal
from typing import TypeVar
from urllib.parse import quote, unquote

from operators import domain
from operators.ocpi import models, pricing
from operators.ocpi.messages import Cdr, Session

logger = logging.getLogger(__name__)
V = TypeVar("V")

# §8.4.22 Status. INOPERATIVE = temporarily unavailable (not broken), OUTOFORDER = broken.
STATUS_MAP: dict[str, domain.ConnectorStatus] = {
    "AVAILABLE": domain.ConnectorStatus.AVAILABLE,
    "BLOCKED": domain.ConnectorStatus.OCCUPIED,
    "CHARGING": domain.ConnectorStatus.CHARGING,
    "INOPERATIVE": domain.ConnectorStatus.OFFLINE,
    "OUTOFORDER": domain.ConnectorStatus.FAULTED,
    "PLANNED": domain.ConnectorStatus.OFFLINE,
    "REMOVED": domain.ConnectorStatus.OFFLINE,
    "RESERVED": domain.ConnectorStatus.RESERVED,
    "UNKNOWN": domain.ConnectorStatus.UNKNOWN,
}

_DOMESTIC = {f"DOMESTIC_{c}": domain.ConnectorType.DOMESTIC for c in "ABCDEFGHIJKLMNO"}
_IEC_60309 = {
    name: domain.ConnectorType.OTHER
    for name in (
        "IEC_60309_2_single_16",
        "IEC_60309_2_three_16",
        "IEC_60309_2_three_32",
        "IEC_60309_2_three_64",
    )
}
_NEMA = {
    f"NEMA_{n}": domain.ConnectorType.DOMESTIC
    for n in ("5_20", "6_30", "6_50", "10_30", "10_50", "14_30", "14_50")
}
# §8.4.4 ConnectorType.
CONNECTOR_TYPE_MAP: dict[str, domain.ConnectorType] = {
    "CHADEMO": domain.ConnectorType.CHADEMO,
    "CHAOJI": domain.ConnectorType.OTHER,
    "GBT_AC": domain.ConnectorType.GBT_AC,
    "GBT_DC": domain.ConnectorType.GBT_DC,
    "IEC_62196_T1": domain.ConnectorType.TYPE1,
    "IEC_62196_T1_COMBO": domain.ConnectorType.CCS1,
    "IEC_62196_T2": domain.ConnectorType.TYPE2,
    "IEC_62196_T2_COMBO": domain.ConnectorType.CCS2,
    "IEC_62196_T3A": domain.ConnectorType.OTHER,
    "IEC_62196_T3C": domain.ConnectorType.OTHER,
    "PANTOGRAPH_BOTTOM_UP": domain.ConnectorType.OTHER,
    "PANTOGRAPH_TOP_DOWN": domain.ConnectorType.OTHER,
    "TESLA_R": domain.ConnectorType.TESLA,
    "TESLA_S": domain.ConnectorType.TESLA,
    **_DOMESTIC,
    **_IEC_60309,
    **_NEMA,
}

# §8.4.21 PowerType, with the number of phases used to derive power from voltage × amperage
# (max_voltage is line-to-neutral for multi-phase AC, §8.3.3).
POWER_TYPE_MAP: dict[str, tuple[domain.PowerType, int]] = {
    "AC_1_PHASE": (domain.PowerType.AC, 1),
    "AC_2_PHASE": (domain.PowerType.AC, 2),
    "AC_2_PHASE_SPLIT": (domain.PowerType.AC, 2),
    "AC_3_PHASE": (domain.PowerType.AC, 3),
    "DC": (domain.PowerType.DC, 1),
}

SESSION_PHASE_MAP: dict[str, domain.SessionPhase] = {
    "PENDING": domain.SessionPhase.STARTING,
    "RESERVATION": domain.SessionPhase.STARTING,
    "ACTIVE": domain.SessionPhase.CHARGING,
    "COMPLETED": domain.SessionPhase.COMPLETED,
    "INVALID": domain.SessionPhase.FAILED,
}

# CDR total_*_cost fields → domain OrderLine kinds.
ORDER_LINE_FIELDS: tuple[tuple[str, str], ...] = (
    ("total_energy_cost", "ENERGY"),
    ("total_time_cost", "TIME"),
    ("total_parking_cost", "PARKING"),
    ("total_fixed_cost", "FLAT"),
    ("total_reservation_cost", "RESERVATION"),
)


def _lookup(table: dict[str, V], value: str, default: V, what: str) -> V:
    try:
        return table[value]
    except KeyError:
        logger.warning("unknown OCPI %s %r mapped to %s", what, value, default)
        return default


def connector_status(status: str) -> domain.ConnectorStatus:
    return _lookup(STATUS_MAP, status, domain.ConnectorStatus.UNKNOWN, "EVSE status")


def connector_type(standard: str) -> domain.ConnectorType:
    return _lookup(CONNECTOR_TYPE_MAP, standard, domain.ConnectorType.OTHER, "connector standard")


def power_type(value: str) -> tuple[domain.PowerType, int]:
    return _lookup(POWER_TYPE_MAP, value, (domain.PowerType.AC, 1), "power type")


def max_power_kw(connector: models.Connector) -> float:
    if connector.max_electric_power:
        return connector.max_electric_power / 1000  # watts (§8.3.3)
    _, phases = power_type(connector.power_type)
    return connector.max_voltage * connector.max_amperage * phases / 1000


def connector_key(location_id: str, evse_uid: str, connector_id: str) -> str:
    return "*".join(quote(part, safe="") for part in (location_id, evse_uid, connector_id))


def split_connector_key(key: str) -> tuple[str, str, str]:
    parts = key.split("*")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not an OCPI connector id: {key!r}")
    return unquote(parts[0]), unquote(parts[1]), unquote(parts[2])


def timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time_zone %r, using UTC", name)
        return "UTC"
    return name


def location_to_station(operator_id: str, loc: models.Location) -> domain.Station:
    """One domain Connector per OCPI Connector; REMOVED EVSEs are retired (§8.3.2) and dropped."""
    connectors = []
    for evse in loc.evses:
        if evse.status == "REMOVED":
            continue
        for conn in evse.connectors:
            ptype, _ = power_type(conn.power_type)
            connectors.append(
                domain.Connector(
                    id=connector_key(loc.id, evse.uid, conn.id),
                    station_id=loc.id,
                    type=connector_type(conn.standard),
                    power_type=ptype,
                    max_power_kw=max_power_kw(conn),
                    name=evse.evse_id or evse.physical_reference,
                )
            )
    address = ", ".join(part for part in (loc.address, loc.postal_code, loc.city) if part)
    return domain.Station(
        operator_id=operator_id,
        id=loc.id,
        name=loc.name or loc.address,
        location=domain.GeoPoint(float(loc.coordinates.latitude), float(loc.coordinates.longitude)),
        address=address,
        connectors=tuple(connectors),
        timezone=timezone(loc.time_zone),
        updated_at=loc.last_updated,
    )


def connector_states(
    loc: models.Location, source: domain.StatusSource, observed_at: datetime | None = None
) -> dict[str, domain.ConnectorState]:
    """Status is per EVSE in OCPI (§8.3.2): every connector of an EVSE shares it."""
    states = {}
    for evse in loc.evses:
        status = connector_status(evse.status)
        for conn in evse.connectors:
            key = connector_key(loc.id, evse.uid, conn.id)
            states[key] = domain.ConnectorState(key, status, observed_at or evse.last_updated, source)
    return states


def with_vat(component: models.PriceComponent) -> Decimal:
    if component.vat is None:
        return component.price
    return component.price * (1 + component.vat / 100)


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours) % 24, int(minutes))


def _time_only(restrictions: models.TariffRestrictions | None) -> bool:
    if restrictions is None:
        return True
    r = restrictions
    conditional = (r.start_date, r.end_date, r.min_kwh, r.max_kwh, r.min_current, r.max_current, r.min_power)
    more = (r.max_power, r.min_duration, r.max_duration, r.reservation)
    return all(v is None for v in conditional + more) and not r.day_of_week


def _in_window(at: time, restrictions: models.TariffRestrictions | None) -> bool:
    if restrictions is None or (restrictions.start_time is None and restrictions.end_time is None):
        return True
    start = _parse_hhmm(restrictions.start_time or "00:00")
    end = _parse_hhmm(restrictions.end_time or "00:00")
    if start < end:
        return start <= at < end
    return at >= start or at < end  # wraps past midnight; "00:00" end = end of day (§11.4.6)


def tariff_to_domain(tariff: models.Tariff, tz: str) -> domain.Tariff:
    """ENERGY prices by time of day become periods; TIME/PARKING_TIME/FLAT become extras.

    Elements with conditions a daily table cannot show (kWh, power, current, duration, weekday,
    date, reservation) are skipped for the periods; OCPI has no per-kWh service fee, so
    ``service_per_kwh`` is 0 and such fees appear as extras. The whole tariff rides along as
    ``rules``: charges are priced by the OCPI engine (:mod:`operators.ocpi.pricing`), restrictions
    and step sizes included, as the CPO bills them.
    """
    energy_elements = [
        e
        for e in tariff.elements
        if _time_only(e.restrictions) and any(c.type == "ENERGY" for c in e.price_components)
    ]
    bounds = {time(0)}
    for element in energy_elements:
        if element.restrictions:
            for text in (element.restrictions.start_time, element.restrictions.end_time):
                if text:
                    bounds.add(_parse_hhmm(text))
    periods: list[domain.TariffPeriod] = []
    for start in sorted(bounds):
        price = Decimal("0")
        for element in energy_elements:
            if _in_window(start, element.restrictions):
                price = with_vat(next(c for c in element.price_components if c.type == "ENERGY"))
                break
        if not periods or periods[-1].energy_per_kwh != price:
            periods.append(domain.TariffPeriod(start, price, Decimal("0")))
    return domain.Tariff(
        currency=tariff.currency,
        periods=tuple(periods),
        timezone=tz,
        extras=tuple(_extras(tariff.elements)),
        rules=domain.TariffRules(pricing.ENGINE, pricing.document(tariff)),
    )


_EXTRA_KINDS = {"FLAT": ("FLAT", "session"), "TIME": ("TIME", "hour"), "PARKING_TIME": ("PARKING", "hour")}


def _extras(elements: Iterable[models.TariffElement]) -> list[domain.TariffExtra]:
    seen: list[domain.TariffExtra] = []
    for element in elements:
        if element.restrictions and element.restrictions.reservation:
            continue
        for comp in element.price_components:
            if comp.type in _EXTRA_KINDS and comp.price:
                kind, unit = _EXTRA_KINDS[comp.type]
                extra = domain.TariffExtra(kind, with_vat(comp), unit)
                if extra not in seen:
                    seen.append(extra)
    return seen


def _amount(price: models.Price | None) -> Decimal | None:
    if price is None:
        return None
    return price.incl_vat if price.incl_vat is not None else price.excl_vat


def session_to_progress(session: Session, session_ref: str) -> domain.SessionProgress:
    phase = _lookup(SESSION_PHASE_MAP, session.status, domain.SessionPhase.CHARGING, "session status")
    last = session.charging_periods[-1] if session.charging_periods else None
    power = last.volume("POWER") if last else None
    soc = last.volume("STATE_OF_CHARGE") if last else None
    return domain.SessionProgress(
        session_ref=session_ref,
        connector_id=connector_key(session.location_id, session.evse_uid, session.connector_id),
        phase=phase,
        energy_kwh=session.kwh,
        cost=_amount(session.total_cost),
        power_kw=float(power) if power is not None else None,
        soc=float(soc) if soc is not None else None,
        started_at=session.start_date_time,
        updated_at=session.last_updated,
        ended_at=session.end_date_time,
        failure="INVALID" if session.status == "INVALID" else None,
    )


def cdr_to_order(cdr: Cdr, session_ref: str) -> domain.FinalOrder:
    """Lines from the CDR's per-dimension totals; what they do not explain becomes one OTHER line."""
    total = _amount(cdr.total_cost) or Decimal("0")
    lines = []
    for field_name, kind in ORDER_LINE_FIELDS:
        amount = _amount(getattr(cdr, field_name))
        if amount:
            energy = cdr.total_energy if kind == "ENERGY" else None
            lines.append(domain.OrderLine(kind, amount, cdr.start_date_time, cdr.end_date_time, energy))
    rest = total - sum((line.amount for line in lines), Decimal("0"))
    if rest:
        lines.append(domain.OrderLine("OTHER", rest, cdr.start_date_time, cdr.end_date_time))
    loc = cdr.cdr_location
    return domain.FinalOrder(
        session_ref=session_ref,
        connector_id=connector_key(loc.id, loc.evse_uid, loc.connector_id),
        currency=cdr.currency,
        started_at=cdr.start_date_time,
        ended_at=cdr.end_date_time,
        energy_kwh=cdr.total_energy,
        total=total,
        lines=tuple(lines),
        stop_reason=cdr.remark,
    )
