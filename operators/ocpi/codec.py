"""OCPI JSON codec: exact Decimal JSON, RFC 3339 UTC DateTimes, and dataclass <-> JSON conversion.

The models in :mod:`operators.ocpi.models` and :mod:`operators.ocpi.messages` are plain frozen
dataclasses whose field names are the OCPI field names; this module converts them from and to JSON
by reading their type hints, so each model is declared once. Conversion is lossless: numbers are
``Decimal`` (JSON text is :mod:`operators.jsoncodec`, shared with T/CEC and the gateway), absent
optional fields stay absent, and keys the model does not know (custom fields, later spec versions)
are kept in ``extensions``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from operators import jsoncodec

T = TypeVar("T")


class ModelError(ValueError):
    """A JSON value that does not fit the OCPI model; ``path`` points at the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '<root>'}: {message}")
        self.path = path


# -- JSON text --------------------------------------------------------------------------------------


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    try:
        return jsoncodec.loads(text)
    except ValueError as exc:
        raise ModelError("", f"not valid JSON: {exc}") from exc


def dumps(value: Any) -> str:
    """Serialise JSON-shaped data (plus Decimal, datetime and models) exactly, without float rounding."""
    return jsoncodec.dumps(value, default=_json_form).decode("utf-8")


def _json_form(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# -- DateTime (OCPI 2.2.1 types §DateTime: RFC 3339, UTC; a missing "Z" still means UTC) ----------


def parse_datetime(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ModelError("", f"not an RFC 3339 DateTime: {value!r}") from exc
    # Field deviation: some CPOs send offsets; convert rather than reject them.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


DATETIME_MAX_LEN = 25  # OCPI 2.2.1 types §DateTime: string(25), so at most milliseconds


def format_datetime(value: datetime) -> str:
    """UTC with a ``Z`` (what maintainers advise sending), truncated to milliseconds when it has a
    fraction: ``2026-12-02T12:26:55.181Z`` (24 characters), never the 27 of microseconds."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond // 1000:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


# -- dataclass conversion -------------------------------------------------------------------------


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # A pure function of the class, memoised: resolving string annotations on every object is slow.
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any, *, partial: bool = False, path: str = "") -> T:
    """Build model ``cls`` from parsed JSON.

    ``partial=True`` is for PATCH bodies and the spec's fragment examples: required fields may be
    missing (they are set to None) and mistyped scalars are kept as sent, so nothing is lost.
    """
    return typing.cast(T, _convert(cls, data, path, partial))


def _convert(tp: Any, value: Any, path: str, partial: bool) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path, partial)
    if origin is tuple:
        if not isinstance(value, list):
            raise ModelError(path, "expected a list")
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_convert(item_tp, item, f"{path}[{i}]", partial) for i, item in enumerate(value))
    if tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _object(tp, value, path, partial)
    return _scalar(tp, value, path, partial)


def _scalar(tp: Any, value: Any, path: str, partial: bool) -> Any:
    try:
        if tp is str and isinstance(value, str):
            return value
        if tp is bool and isinstance(value, bool):
            return value
        if tp is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if tp is Decimal and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return value if isinstance(value, Decimal) else Decimal(str(value))
        if tp is datetime and isinstance(value, str):
            return parse_datetime(value)
    except ModelError as exc:
        raise ModelError(path, str(exc)) from exc
    if partial:
        return value  # a fragment's defect (e.g. a number for a string), kept as sent
    raise ModelError(path, f"expected {getattr(tp, '__name__', tp)}, got {type(value).__name__}")


def _object(cls: type, value: Any, path: str, partial: bool) -> Any:
    if not isinstance(value, Mapping):
        raise ModelError(path, f"expected an object for {cls.__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    for f in dataclasses.fields(cls):
        if f.name == "extensions":
            continue
        known.add(f.name)
        sub = f"{path}.{f.name}" if path else f.name
        if f.name in value and value[f.name] is not None:
            kwargs[f.name] = _convert(hints[f.name], value[f.name], sub, partial)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            if not partial:
                raise ModelError(sub, "required field is missing")
            kwargs[f.name] = None
    extensions = {k: v for k, v in value.items() if k not in known}
    if extensions:
        kwargs["extensions"] = extensions
    return cls(**kwargs)


def to_json(obj: Any) -> Any:
    """The JSON-shaped form of a model (dicts, lists, Decimal, str): absent/empty optionals omitted."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            item = getattr(obj, f.name)
            if f.name == "extensions":
                out.update(item)
            elif item is not None and item != ():
                out[f.name] = to_json(item)
        return out
    if isinstance(obj, tuple | list):
        return [to_json(item) for item in obj]
    if isinstance(obj, datetime):
        return format_datetime(obj)
    return obj


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any], list_keys: Mapping[str, str]) -> dict:
    """Apply an OCPI PATCH body to a stored JSON object.

    OCPI 2.2.1 §1.4: omitted fields stay unchanged. Nested objects merge recursively. Lists named in
    ``list_keys`` (``evses`` by ``uid``, ``connectors`` by ``id``) merge element-wise and never drop
    absent elements [our choice, ocpi/ocpi issues 285, 540]; every other list is replaced wholesale.
    """
    merged = dict(target)
    for key, new in patch.items():
        old = merged.get(key)
        if key in list_keys and isinstance(old, list) and isinstance(new, list):
            ident = list_keys[key]
            by_id = {item.get(ident): i for i, item in enumerate(old) if isinstance(item, Mapping)}
            items = list(old)
            for element in new:
                index = by_id.get(element.get(ident)) if isinstance(element, Mapping) else None
                if index is None:
                    items.append(element)
                else:
                    items[index] = merge_patch(items[index], element, list_keys)
            merged[key] = items
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            merged[key] = merge_patch(old, new, list_keys)
        else:
            merged[key] = new
    return merged


def envelope(data: Any = None, status_code: int = 1000, message: str | None = None) -> dict[str, Any]:
    """An OCPI response body (§4.1.7); ``data`` omitted when None (errata: receivers accept that)."""
    body: dict[str, Any] = {"status_code": status_code}
    if data is not None:
        body["data"] = to_json(data)
    if message is not None:
        body["status_message"] = message
    body["timestamp"] = format_datetime(datetime.now(UTC).replace(microsecond=0))
    return body
