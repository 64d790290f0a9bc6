"""Compiled completion of plain-data subtrees: graphql-core's executor, minus per-field work.

Root fields still run through graphql-core (arguments, resolvers, located errors, null bubbling).
When a root field's value is an object (or list of objects) whose whole selection is plain data —
attributes, argument-free synchronous resolvers such as ``Connector.station``, leaves, no
directives, no abstract types — the selection is compiled once per document into nested closures
that build the response dicts directly. Any surprise while completing (a null in a non-null field,
a value a scalar refuses) abandons the compiled result for that subtree, and graphql-core completes
it again the stock way, so errors, nulls and paths are exactly what they would have been.

Extensions with per-field ``resolve`` hooks (middleware) switch compilation off: every field would
have to pass through them.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

DEFINITION = "strawberry-definition"  # strawberry's back-reference in graphql-core extensions
MAX_PLANS = 1024
MAX_INT = 2**31 - 1

Complete = Callable[[Any], Any]
Plans = dict[tuple[int, ...], tuple[Sequence[FieldNode], GraphQLOutputType, "Complete | None"]]
# Compiled selections per schema, keyed by the ids of their field nodes (checked by identity, so a
# recycled id never matches); bounded, cleared when full.
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, Plans] = weakref.WeakKeyDictionary()


class Bail(Exception):
    """The compiled path cannot complete this value exactly; graphql-core will."""


class NotCompilable(Exception):
    pass


# -- leaves ----------------------------------------------------------------------------------------


def _leaf(gtype: GraphQLLeafType) -> Complete:
    coerce = gtype.coerce_output_value

    def slow(value: Any) -> Any:
        out = coerce(value)
        if out is None:
            raise Bail
        return out

    if gtype is GraphQLID or gtype.name == "String":
        return lambda v: v if type(v) is str else slow(v)
    if gtype is GraphQLFloat:
        return lambda v: v if type(v) is float and math.isfinite(v) else slow(v)
    if gtype is GraphQLInt:
        return lambda v: v if type(v) is int and -MAX_INT - 1 <= v <= MAX_INT else slow(v)
    if gtype is GraphQLBoolean:
        return lambda v: v if type(v) is bool else slow(v)
    if isinstance(gtype, GraphQLEnumType):
        names: dict[Any, str] = {}
        definition = (gtype.extensions or {}).get(DEFINITION)
        for value in getattr(getattr(definition, "wrapped_cls", None), "__members__", {}).values():
            try:
                names[value] = coerce(value)
            except Exception:  # noqa: BLE001 - left to the slow path
                continue

        def enum(v: Any) -> Any:
            try:
                return names[v]
            except (KeyError, TypeError):
                return slow(v)

        return enum
    return slow


# -- selections ------------------------------------------------------------------------------------


def _collect(
    parent: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, Any],
    out: dict[str, list[FieldNode]],
    seen: set[str],
) -> dict[str, list[FieldNode]]:
    """Fields by response key, fragments flattened, as graphql-core's collect_fields (no directives)."""
    for selection_set in selection_sets:
        for sel in selection_set.selections:
            if sel.directives:
                raise NotCompilable("directives")
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                out.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                if _applies(parent, sel.type_condition):
                    _collect(parent, [sel.selection_set], fragments, out, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if getattr(sel, "arguments", None):
                    raise NotCompilable("fragment arguments")
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue
                if fragment.directives or getattr(fragment, "variable_definitions", None):
                    raise NotCompilable("fragment directives or variables")
                if _applies(parent, fragment.type_condition):
                    _collect(parent, [fragment.selection_set], fragments, out, seen | {name})
            else:
                raise NotCompilable(type(sel).__name__)
    return out


def _applies(parent: GraphQLObjectType, condition: Any) -> bool:
    if condition is None:
        return True
    name = condition.name.value
    return name == parent.name or any(i.name == name for i in parent.interfaces)


def _getter(gfield: Any) -> Callable[[Any], Any]:
    field = (gfield.extensions or {}).get(DEFINITION)
    if field is None or getattr(field, "permission_classes", None) or getattr(field, "extensions", None):
        raise NotCompilable("field without a plain definition")
    resolver = field.base_resolver
    if resolver is None:
        name = field.python_name
        return lambda v: getattr(v, name)
    func = resolver.wrapped_func
    params = list(inspect.signature(func).parameters)
    if resolver.is_async or inspect.isgeneratorfunction(func) or params != ["self"]:
        raise NotCompilable("resolver with arguments or async")
    return func


def _compile(gtype: GraphQLOutputType, nodes: Sequence[FieldNode], fragments: dict[str, Any]) -> Complete:
    if isinstance(gtype, GraphQLNonNull):
        inner = _compile(gtype.of_type, nodes, fragments)

        def non_null(v: Any) -> Any:
            out = inner(v)
            if out is None:
                raise Bail
            return out

        return non_null
    if isinstance(gtype, GraphQLList):
        item = _compile(gtype.of_type, nodes, fragments)

        def as_list(v: Any) -> Any:
            if v is None:
                return None
            if isinstance(v, str | bytes | dict) or not hasattr(v, "__iter__"):
                raise Bail
            return [item(x) for x in v]

        return as_list
    if isinstance(gtype, GraphQLLeafType):
        leaf = _leaf(gtype)
        return lambda v: None if v is None else leaf(v)
    if not isinstance(gtype, GraphQLObjectType):
        raise NotCompilable(f"abstract type {gtype}")
    selections = [n.selection_set for n in nodes if n.selection_set is not None]
    fields = _collect(gtype, selections, fragments, {}, set())
    plan: list[tuple[str, Callable[[Any], Any] | None, Complete | str]] = []
    for key, group in fields.items():
        name = group[0].name.value
        if name == "__typename":
            plan.append((key, None, gtype.name))
            continue
        if any(n.arguments for n in group):
            raise NotCompilable("field arguments")
        gfield = gtype.fields.get(name)
        if gfield is None:
            raise NotCompilable(f"unknown field {name}")
        plan.append((key, _getter(gfield), _compile(gfield.type, group, fragments)))

    is_type_of = gtype.is_type_of
    origin = getattr((gtype.extensions or {}).get(DEFINITION), "origin", None)

    def obj(v: Any) -> Any:
        if v is None:
            return None
        # graphql-core asks is_type_of (strawberry sets it on types with interfaces); the exact
        # class is the common case and always passes.
        if is_type_of is not None and type(v) is not origin and not is_type_of(v, None):
            raise Bail
        return {key: (complete if get is None else complete(get(v))) for key, get, complete in plan}  # type: ignore[operator]

    return obj


# -- the execution context ---------------------------------------------------------------------------


def _has_middleware(manager: Any) -> bool:
    return manager is not None and bool(getattr(manager, "middlewares", None))


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core execution context with compiled completion of plain-data object values."""

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if (
            result is not None
            and not isinstance(result, Exception)
            and not _has_middleware(self.middleware_manager)
            and path.prev is None  # root fields only: one plan lookup per root field and request
        ):
            complete = self._plan(return_type, field_details_list)
            if complete is not None:
                try:
                    return complete(result)
                except Bail:
                    pass
                except Exception:  # noqa: BLE001 - graphql-core completes it and reports properly
                    pass
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _plan(self, return_type: GraphQLOutputType, details: Any) -> Complete | None:
        nodes = [d.node for d in details]
        key = (id(return_type), *map(id, nodes))
        plans = _PLANS.get(self.schema)
        if plans is None:
            plans = _PLANS[self.schema] = {}
        entry = plans.get(key)
        if (
            entry is not None
            and entry[1] is return_type
            and all(a is b for a, b in zip(entry[0], nodes, strict=True))
        ):
            return entry[2]
        complete: Complete | None
        if any(d.defer_usage is not None or getattr(d, "fragment_variable_values", None) for d in details):
            complete = None
        else:
            try:
                named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
                if isinstance(named, GraphQLLeafType):
                    raise NotCompilable("leaf root")
                complete = _compile(return_type, nodes, self.fragment_definitions)
            except NotCompilable:
                complete = None
        if len(plans) >= MAX_PLANS:
            plans.clear()
        plans[key] = (nodes, return_type, complete)
        return complete
