"""Pure, table-driven T/CEC 102 → domain mapping.

Inputs are decrypted ``Data`` objects already passed through :meth:`Profile.normalise`, so keys are
in the canonical 2016 spelling; values may still be numbers sent as strings (spec §4: be liberal).
Unknown enum values map to an explicit fallback and are logged; a malformed item raises
:class:`~operators.tcec.fields.MappingError`, which list parsers catch per item so one bad station
never sinks a page. Sessions and orders are mapped in :mod:`operators.tcec.sessions`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from operators.domain import (
    Connector,
    ConnectorStatus,
    ConnectorType,
    GeoPoint,
    PowerType,
    Station,
    Tariff,
    TariffPeriod,
)
from operators.tcec.fields import MappingError, field_decimal, field_float, field_str, int_or_none, objects

logger = logging.getLogger(__name__)

CURRENCY = "CNY"
TIMEZONE = "Asia/Shanghai"
QR_SCHEME = "hlht://"

# §6 connector Status / ConnectorStatus.
CONNECTOR_STATUSES: Mapping[int, ConnectorStatus] = MappingProxyType(
    {
        0: ConnectorStatus.OFFLINE,
        1: ConnectorStatus.AVAILABLE,
        2: ConnectorStatus.OCCUPIED,
        3: ConnectorStatus.CHARGING,
        4: ConnectorStatus.RESERVED,
        255: ConnectorStatus.FAULTED,
    }
)

# §6 ConnectorType: 1 household socket, 2/3 AC (mode 3, B/C), 4 DC gun, 5 wireless, 6 other.
CONNECTOR_TYPES: Mapping[int, ConnectorType] = MappingProxyType(
    {
        1: ConnectorType.DOMESTIC,
        2: ConnectorType.GBT_AC,
        3: ConnectorType.GBT_AC,
        4: ConnectorType.GBT_DC,
        5: ConnectorType.WIRELESS,
        6: ConnectorType.OTHER,
    }
)

# §6 EquipmentType: 1 DC, 2 AC. 3 (AC/DC combined), 4 (wireless) and 5 (other) say nothing about
# one connector, so those fall back to the connector's own type (a DC gun is DC, the rest AC).
EQUIPMENT_POWER_TYPES: Mapping[int, PowerType] = MappingProxyType({1: PowerType.DC, 2: PowerType.AC})


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S")


# --- enums ----------------------------------------------------------------------------------------


def _lookup(table: Mapping[int, Any], value: object, what: str, fallback: Any) -> Any:
    code = int_or_none(value)
    result = table.get(code) if code is not None else None
    if result is None:
        logger.warning("unknown T/CEC %s %r; using %s", what, value, fallback)
        return fallback
    return result


def parse_connector_status(value: object) -> ConnectorStatus:
    # A plain integer code (nearly every status) is looked up at once; the rest is read liberally.
    status = CONNECTOR_STATUSES.get(value) if type(value) is int else None
    return status or _lookup(CONNECTOR_STATUSES, value, "connector status", ConnectorStatus.UNKNOWN)


def parse_connector_type(value: object) -> ConnectorType:
    return _lookup(CONNECTOR_TYPES, value, "ConnectorType", ConnectorType.OTHER)


def parse_power_type(equipment_type: object, connector_type: ConnectorType) -> PowerType:
    code = int_or_none(equipment_type)
    by_equipment = EQUIPMENT_POWER_TYPES.get(code) if code is not None else None
    if by_equipment is not None:
        return by_equipment
    return PowerType.DC if connector_type is ConnectorType.GBT_DC else PowerType.AC


# --- QR codes (§5.7a) -----------------------------------------------------------------------------


def qr_code(connector_id: str, operator_id: str) -> str:
    return f"{QR_SCHEME}{connector_id}.{operator_id}/"


def parse_qr_code(code: str) -> tuple[str, str] | None:
    """``hlht://{ConnectorID}.{OperatorID}/[tail]`` → ``(connector_id, operator_id)``, else None.

    §5.7a: split at the first ``/`` after the scheme, then at the **last** ``.`` (connector ids
    may themselves contain dots; operator ids never do).
    """
    code = code.strip()
    if not code.lower().startswith(QR_SCHEME):
        return None
    head = code[len(QR_SCHEME) :].split("/", 1)[0]
    connector_id, dot, operator_id = head.rpartition(".")
    if not dot or not connector_id or not operator_id.isalnum():
        return None
    return connector_id, operator_id


# --- catalogue (§5.1) and status (§5.2, §5.3) -----------------------------------------------------


def parse_station(info: Mapping[str, Any], operator_id: str) -> Station:
    """One StationInfo; connectors come from every EquipmentInfo's ConnectorInfos."""
    station_id = field_str(info, "StationID")
    equipments = info.get("EquipmentInfos") or []
    if not isinstance(equipments, list):
        raise MappingError("EquipmentInfos is not a list")
    connectors = tuple(
        parse_connector(connector, equipment, station_id, operator_id)
        for equipment in equipments
        for connector in objects(equipment, "ConnectorInfos")
    )
    address = info.get("Address")
    return Station(
        operator_id=operator_id,
        id=station_id,
        name=field_str(info, "StationName"),
        # §4: GCJ-02 coordinates, passed on as they are.
        location=GeoPoint(lat=field_float(info, "StationLat"), lon=field_float(info, "StationLng")),
        address=address if isinstance(address, str) and address else None,
        connectors=connectors,
        timezone=TIMEZONE,
        updated_at=None,  # StationInfo carries no change time
    )


def parse_connector(
    info: Mapping[str, Any], equipment: Mapping[str, Any], station_id: str, operator_id: str
) -> Connector:
    connector_id = field_str(info, "ConnectorID")
    kind = parse_connector_type(info.get("ConnectorType"))
    power = info.get("Power") if info.get("Power") is not None else equipment.get("Power")
    name = info.get("ConnectorName")
    return Connector(
        id=connector_id,
        station_id=station_id,
        type=kind,
        power_type=parse_power_type(equipment.get("EquipmentType"), kind),
        max_power_kw=field_float({"Power": power}, "Power", 0.0),
        qr_code=qr_code(connector_id, operator_id),
        name=name if isinstance(name, str) and name else None,
    )


def parse_stations(infos: object, operator_id: str) -> tuple[Station, ...]:
    """Every well-formed StationInfo; a malformed one is logged and skipped."""
    stations = []
    for index, info in enumerate(infos if isinstance(infos, list) else []):
        try:
            if not isinstance(info, dict):
                raise MappingError("StationInfo is not an object")
            stations.append(parse_station(info, operator_id))
        except MappingError as exc:
            station_id = info.get("StationID") if isinstance(info, dict) else None
            logger.warning(
                "skipping malformed T/CEC station #%d (%s) of %s: %s", index, station_id, operator_id, exc
            )
    return tuple(stations)


def parse_connector_status_infos(data: Mapping[str, Any]) -> list[tuple[str, ConnectorStatus]]:
    """``(ConnectorID, status)`` of every ConnectorStatusInfo in a status response or push.

    Accepts the §5.3 response (``StationStatusInfos``), the §5.2 push (one ``ConnectorStatusInfo``
    object) and the push variant that sends an array there (§8). Items without an id are skipped.
    """
    infos: list[Any] = []
    for station in objects(data, "StationStatusInfos"):
        infos.extend(objects(station, "ConnectorStatusInfos"))
    single = data.get("ConnectorStatusInfo")
    infos.extend(single if isinstance(single, list) else [single] if single is not None else [])
    result = []
    for info in infos:
        try:
            if not isinstance(info, dict):
                raise MappingError("ConnectorStatusInfo is not an object")
            connector_id = info.get("ConnectorID")
            if type(connector_id) is not str or not connector_id:  # a number, or missing: read liberally
                connector_id = field_str(info, "ConnectorID")
            result.append((connector_id, parse_connector_status(info.get("Status"))))
        except MappingError as exc:
            logger.warning("skipping malformed T/CEC ConnectorStatusInfo: %s", exc)
    return result


# --- tariffs (§5.6) -------------------------------------------------------------------------------


def parse_period_start(value: object) -> time:
    """A PolicyInfo ``HHmmss`` start (``083000``); ``08:30:00`` is accepted too."""
    text = str(value).replace(":", "").strip() if isinstance(value, str | int) else ""
    text = text.zfill(6) if text.isdigit() and len(text) <= 6 else ""
    try:
        return time(int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError as exc:
        raise MappingError(f"StartTime is not HHmmss: {value!r}") from exc


def parse_tariff(data: Mapping[str, Any]) -> Tariff:
    """A §5.6 policy response → a daily time-of-use tariff, periods sorted by start."""
    periods = sorted(
        (
            TariffPeriod(
                start=parse_period_start(info.get("StartTime")),
                energy_per_kwh=field_decimal(info, "ElecPrice"),
                service_per_kwh=field_decimal(info, "SevicePrice", Decimal("0")),
            )
            for info in objects(data, "PolicyInfos")
        ),
        key=lambda period: period.start,
    )
    if not periods:
        raise MappingError("PolicyInfos is empty")
    return Tariff(currency=CURRENCY, periods=tuple(periods), timezone=TIMEZONE)
