"""Strict per-interface validation of the ``Data`` operators push to us (spec §5.2, §5.8–§5.12).

The T/CEC signature covers OperatorID, Data, TimeStamp and Seq but not the interface a push was
sent to, so a captured envelope re-posted to another endpoint verifies. Each interface therefore
accepts only a Data that has *its* required fields with *its* types, and none of the fields that
mark another push interface: a charge-status sample is never taken for a final bill, nor a bill
for a stop result. Types are liberal as §4 asks (numbers and integers may come as strings,
ids as numbers); extra fields of no interface are partner extensions and allowed. Keys are
canonical (after :meth:`~operators.tcec.profile.Profile.normalise`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from operators.tcec.fields import MappingError, field_decimal, field_int, field_str, objects, parse_datetime


def _str(data: Mapping[str, Any], name: str) -> None:
    field_str(data, name)


def _int(data: Mapping[str, Any], name: str) -> None:
    field_int(data, name)


def _num(data: Mapping[str, Any], name: str) -> None:
    field_decimal(data, name)


def _time(data: Mapping[str, Any], name: str) -> None:
    try:
        parse_datetime(data.get(name))
    except MappingError as exc:
        raise MappingError(f"{name}: {exc}") from exc


def _list(data: Mapping[str, Any], name: str) -> None:
    if not isinstance(data.get(name), list):
        raise MappingError(f"{name} is not a list")
    objects(data, name)


def _status_info(data: Mapping[str, Any], name: str) -> None:
    # §8: some partners send an array instead of one object.
    value = data.get(name)
    items: list[Any] = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) for item in items):
        raise MappingError(f"{name} is not an object")
    for item in items:
        field_str(item, "ConnectorID")
        field_int(item, "Status")


Check = Callable[[Mapping[str, Any], str], None]
SEQ: Mapping[str, Check] = {"StartChargeSeq": _str, "StartChargeSeqStat": _int, "ConnectorID": _str}

# interface → (required fields, optional fields), each field with its type check.
INTERFACES: Mapping[str, tuple[Mapping[str, Check], Mapping[str, Check]]] = MappingProxyType(
    {
        "query_token": ({"OperatorID": _str, "OperatorSecret": _str}, {}),
        "notification_stationStatus": ({"ConnectorStatusInfo": _status_info}, {}),
        "notification_start_charge_result": ({**SEQ, "StartTime": _time}, {}),
        "notification_equip_charge_status": (
            {**SEQ, "ConnectorStatus": _int, "CurrentA": _num, "VoltageA": _num, "Soc": _num}
            | {"StartTime": _time, "EndTime": _time, "TotalPower": _num},
            {"ElecMoney": _num, "SeviceMoney": _num, "TotalMoney": _num, "SumPeriod": _int}
            | {
                "ChargeDetails": _list,
                "CurrentB": _num,
                "CurrentC": _num,
                "VoltageB": _num,
                "VoltageC": _num,
            },
        ),
        "notification_stop_charge_result": ({**SEQ, "SuccStat": _int}, {"FailReason": _int}),
        "notification_charge_order_info": (
            {"StartChargeSeq": _str, "ConnectorID": _str, "StartTime": _time, "EndTime": _time}
            | {"TotalPower": _num, "TotalElecMoney": _num, "TotalSeviceMoney": _num, "TotalMoney": _num}
            | {"StopReason": _int},
            {"SumPeriod": _int, "ChargeDetails": _list},
        ),
        "check_charge_orders": (
            {"CheckOrderSeq": _str, "StartTime": _time, "EndTime": _time, "OrderCount": _int}
            | {"TotalOrderPower": _num, "TotalOrderMoney": _num, "ChargeOrders": _list},
            {},
        ),
    }
)


# The fields that mark a payload as one interface's: a Data carrying another interface's marker is
# refused even if it also has every field this one requires (start and stop results have none).
MARKERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "query_token": frozenset({"OperatorSecret"}),
        "notification_stationStatus": frozenset({"ConnectorStatusInfo"}),
        "notification_equip_charge_status": frozenset({"ConnectorStatus", "CurrentA", "VoltageA", "Soc"}),
        "notification_charge_order_info": frozenset({"TotalElecMoney", "TotalSeviceMoney", "StopReason"}),
        "check_charge_orders": frozenset({"CheckOrderSeq", "ChargeOrders"}),
    }
)


def _foreign(interface: str) -> frozenset[str]:
    required, optional = INTERFACES[interface]
    others = {name for other, marks in MARKERS.items() if other != interface for name in marks}
    return frozenset(others - set(required) - set(optional))


FOREIGN: Mapping[str, frozenset[str]] = MappingProxyType({name: _foreign(name) for name in INTERFACES})


def validate(interface: str, data: Mapping[str, Any]) -> None:
    """Raise :class:`MappingError` unless ``data`` is a well-formed payload of ``interface``."""
    required, optional = INTERFACES[interface]
    for name, check in required.items():
        if data.get(name) is None:
            raise MappingError(f"{interface}: {name} is required")
        check(data, name)
    for name, check in optional.items():
        if data.get(name) is not None:
            check(data, name)
    stray = sorted(FOREIGN[interface] & data.keys())
    if stray:
        raise MappingError(f"{interface}: {', '.join(stray)} belong to another interface")
