"""Strawberry's argument conversion, worked out once per field instead of once per call.

On every call Strawberry converts a field's arguments (graphql-core's coerced values) to the
resolver's Python values by walking their annotations: it resolves each argument's type, imports,
and runs a dozen ``isinstance`` checks per value — about 40 µs for the station search's nine
arguments. :func:`converter` walks the annotations once and returns a function doing the same
conversion (``strawberry.types.arguments.convert_argument``, branch for branch) for the kinds of
types our schema's arguments use: optional, list, scalar, enum and input types. For anything else
(``Maybe``, ``GlobalID``, lazy types, input types with their own ``from_input``) it returns None
and Strawberry's own conversion runs. ``tests/resolvers/test_arguments.py`` compares both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
Arguments = Callable[[Mapping[str, Any]], dict[str, Any]]


class NotConvertible(Exception):
    """A type this module leaves to Strawberry."""


def converter(field: StrawberryField, config: Any, scalar_registry: Mapping[object, Any]) -> Arguments | None:
    """``convert(values)``: the resolver's keyword arguments from graphql-core's argument values
    (by GraphQL name; only those present, as Strawberry does), or None (see the module doc)."""
    try:
        plan = [
            (config.name_converter.from_argument(a), a.python_name, _value(a.type, scalar_registry, config))
            for a in field.arguments
        ]
    except NotConvertible:
        return None

    def convert(values: Mapping[str, Any]) -> dict[str, Any]:
        return {python: each(values[name]) for name, python, each in plan if name in values}

    return convert


def _value(type_: Any, registry: Mapping[object, Any], config: Any) -> Convert:
    if isinstance(type_, StrawberryMaybe | LazyType):
        raise NotConvertible(type(type_).__name__)
    if isinstance(type_, StrawberryOptional):
        return _value(type_.of_type, registry, config)  # None and UNSET pass below, as there
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if _is_leaf(item, registry) or (
            isinstance(item, StrawberryOptional) and _is_leaf(item.of_type, registry)
        ):
            # Copied, not converted: graphql-core hands every request the same default list.
            return _present(list)
        each = _value(item, registry, config)
        return _present(lambda value: [each(x) for x in value])
    if _is_leaf(type_, registry) or has_enum_definition(type_):
        return _same
    if has_object_definition(type_):
        return _present(_input(type_, registry, config))
    raise NotConvertible(repr(type_))


def _input(cls: Any, registry: Mapping[object, Any], config: Any) -> Convert:
    definition = cls.__strawberry_definition__
    if definition.from_input is not None:
        raise NotConvertible(f"{cls.__name__}.from_input")
    implicit = (
        {
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        }
        if definition.is_input
        else {}
    )
    fields = [
        (
            config.name_converter.from_field(f),
            f.python_name,
            _value(f.resolve_type(type_definition=definition), registry, config),
        )
        for f in definition.fields
    ]

    def build(value: Mapping[str, Any]) -> Any:
        kwargs = dict(implicit)
        for name, python, each in fields:
            if name in value:
                kwargs[python] = each(value[name])
        return cls(**kwargs)

    return build


def _is_leaf(type_: Any, registry: Mapping[object, Any]) -> bool:
    if type_ is GlobalID:
        raise NotConvertible("GlobalID")
    if isinstance(type_, LazyType):
        raise NotConvertible("LazyType")
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition)


def _present(convert: Convert) -> Convert:
    """``convert`` for a value that is neither None nor UNSET (they pass as they are)."""

    def each(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return each


def _same(value: Any) -> Any:
    return value
