"""Liberal scalar readers for decrypted T/CEC payloads (spec §4: partners send numbers as strings).

Every reader raises :class:`MappingError` naming the field when a value is missing or malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from operators.tcec.codec import SHANGHAI

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S")


class MappingError(ValueError):
    """A native payload that cannot become a domain object (missing or malformed field)."""


def field_str(obj: Mapping[str, Any], name: str) -> str:
    """A required non-empty string field; ids sent as numbers are accepted (spec §4)."""
    value = obj.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise MappingError(f"{name} is missing or not a string")
    return value


def field_int(obj: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = obj.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MappingError(f"{name} is missing or not an integer")
    return value


def field_decimal(obj: Mapping[str, Any], name: str, default: Decimal | None = None) -> Decimal:
    value = obj.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MappingError(f"{name} is missing or not a number")
    try:
        result = Decimal(str(value).strip())  # str() first: no binary-float noise in money
    except InvalidOperation as exc:
        raise MappingError(f"{name} is not a number") from exc
    if not result.is_finite():
        raise MappingError(f"{name} is not a finite number")
    return result


def field_float(obj: Mapping[str, Any], name: str, default: float | None = None) -> float:
    return float(field_decimal(obj, name, None if default is None else Decimal(str(default))))


def parse_datetime(text: object) -> datetime:
    """A §4 ``yyyy-MM-dd HH:mm:ss`` Asia/Shanghai time as an aware datetime."""
    if isinstance(text, str):
        for fmt in _DATETIME_FORMATS:
            try:
                return datetime.strptime(text.strip(), fmt).replace(tzinfo=SHANGHAI)
            except ValueError:
                continue
    raise MappingError(f"not a yyyy-MM-dd HH:mm:ss time: {text!r}")


def optional_datetime(obj: Mapping[str, Any], name: str) -> datetime | None:
    return parse_datetime(obj[name]) if obj.get(name) else None


def int_or_none(value: object) -> int | None:
    try:
        return field_int({"v": value}, "v")
    except MappingError:
        return None


def objects(obj: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MappingError(f"{name} is not a list of objects")
    return value
