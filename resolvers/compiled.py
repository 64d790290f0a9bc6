"""Compiled completion of plain-data subtrees: graphql-core's executor, minus per-field work.

Root fields still run through graphql-core (arguments, resolvers, located errors, null bubbling).
When a root field's value is an object (or list of objects) whose whole selection is plain data —
attributes, argument-free synchronous resolvers such as ``Connector.station``, leaves, no
directives, no abstract types — the selection is compiled once per document into generated Python
functions that build the response dicts directly. Any surprise while completing (a null in a non-null field,
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


def _getter(gfield: Any) -> str | Callable[[Any], Any]:
    """The attribute name to read, or the argument-free resolver to call with the parent."""
    field = (gfield.extensions or {}).get(DEFINITION)
    if field is None or getattr(field, "permission_classes", None) or getattr(field, "extensions", None):
        raise NotCompilable("field without a plain definition")
    resolver = field.base_resolver
    if resolver is None:
        name = field.python_name
        if not name.isidentifier():
            raise NotCompilable(f"attribute {name!r}")
        return name
    func = resolver.wrapped_func
    params = list(inspect.signature(func).parameters)
    if resolver.is_async or inspect.isgeneratorfunction(func) or params != ["self"]:
        raise NotCompilable("resolver with arguments or async")
    return func


# -- code generation ---------------------------------------------------------------------------------
#
# A selection becomes the source of one Python function per list item type (and one for the root),
# compiled once per document: attribute reads, type checks and response dicts are written out
# inline, so completing a field costs a few bytecodes instead of a chain of closure calls. Every
# check mirrors graphql-core's completion; anything else raises ``Bail``.

MAX_SOURCE = 200_000  # characters of generated code per plan; beyond that graphql-core completes


class _Codegen:
    def __init__(self, fragments: dict[str, Any]) -> None:
        self.fragments = fragments
        self.env: dict[str, Any] = {"Bail": Bail, "_isfinite": math.isfinite, "_bad_list": _bad_list}
        self.functions: list[str] = []
        self.size = 0
        self._n = 0

    def name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def const(self, value: Any, prefix: str) -> str:
        name = self.name(prefix)
        self.env[name] = value
        return name

    def function(self, gtype: GraphQLOutputType, nodes: Sequence[FieldNode]) -> str:
        """A generated ``def f(v)`` completing ``v`` as ``gtype``; returns its name."""
        name = self.name("complete_")
        lines = [f"def {name}(v):"]
        self.value(gtype, nodes, "v", lines, "    ")
        lines.append("    return v")
        source = "\n".join(lines)
        self.size += len(source)
        if self.size > MAX_SOURCE:
            raise NotCompilable("selection too large to compile")
        self.functions.append(source)
        return name

    def value(
        self, gtype: GraphQLOutputType, nodes: Sequence[FieldNode], var: str, out: list[str], ind: str
    ) -> None:
        """Statements replacing the Python value in ``var`` by its response value."""
        if isinstance(gtype, GraphQLNonNull):
            out.append(f"{ind}if {var} is None: raise Bail")
            self.present(gtype.of_type, nodes, var, out, ind)
        else:
            body: list[str] = []
            self.present(gtype, nodes, var, body, ind + "    ")
            if body:
                out.append(f"{ind}if {var} is not None:")
                out.extend(body)

    def present(
        self, gtype: GraphQLOutputType, nodes: Sequence[FieldNode], var: str, out: list[str], ind: str
    ) -> None:
        """Like :meth:`value`, for a ``var`` known not to be None."""
        if isinstance(gtype, GraphQLNonNull):  # a non-null directly inside a nullable: impossible
            raise NotCompilable("nested non-null")
        if isinstance(gtype, GraphQLList):
            item = self.function(gtype.of_type, nodes)
            out.append(f"{ind}if type({var}) is not list and _bad_list({var}): raise Bail")
            out.append(f"{ind}{var} = [{item}(i) for i in {var}]")
            return
        if isinstance(gtype, GraphQLLeafType):
            self.leaf(gtype, var, out, ind)
            return
        if not isinstance(gtype, GraphQLObjectType):
            raise NotCompilable(f"abstract type {gtype}")
        self.obj(gtype, nodes, var, out, ind)

    def leaf(self, gtype: GraphQLLeafType, var: str, out: list[str], ind: str) -> None:
        slow = self.const(_slow(gtype), "coerce_")
        if gtype is GraphQLID or gtype.name == "String":
            out.append(f"{ind}if type({var}) is not str: {var} = {slow}({var})")
        elif gtype is GraphQLFloat:
            out.append(f"{ind}if type({var}) is not float or not _isfinite({var}): {var} = {slow}({var})")
        elif gtype is GraphQLInt:
            in_range = f"{-MAX_INT - 1} <= {var} <= {MAX_INT}"
            out.append(f"{ind}if type({var}) is not int or not {in_range}: {var} = {slow}({var})")
        elif gtype is GraphQLBoolean:
            out.append(f"{ind}if type({var}) is not bool: {var} = {slow}({var})")
        elif isinstance(gtype, GraphQLEnumType):
            names = self.const(_enum_names(gtype), "enum_")
            out.append(f"{ind}try: {var} = {names}[{var}]")
            out.append(f"{ind}except (KeyError, TypeError): {var} = {slow}({var})")
        else:
            out.append(f"{ind}{var} = {slow}({var})")

    def obj(
        self, gtype: GraphQLObjectType, nodes: Sequence[FieldNode], var: str, out: list[str], ind: str
    ) -> None:
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        fields = _collect(gtype, selections, self.fragments, {}, set())
        if gtype.is_type_of is not None:
            # graphql-core asks is_type_of (strawberry sets it on types with interfaces); the exact
            # class is the common case and always passes.
            origin = self.const(getattr((gtype.extensions or {}).get(DEFINITION), "origin", None), "origin_")
            check = self.const(gtype.is_type_of, "is_type_of_")
            out.append(f"{ind}if type({var}) is not {origin} and not {check}({var}, None): raise Bail")
        entries = []
        for key, group in fields.items():
            name = group[0].name.value
            if name == "__typename":
                entries.append(f"{key!r}: {gtype.name!r}")
                continue
            if any(n.arguments for n in group):
                raise NotCompilable("field arguments")
            gfield = gtype.fields.get(name)
            if gfield is None:
                raise NotCompilable(f"unknown field {name}")
            getter = _getter(gfield)
            field_var = self.name("f")
            if isinstance(getter, str):
                out.append(f"{ind}{field_var} = {var}.{getter}")
            else:
                out.append(f"{ind}{field_var} = {self.const(getter, 'resolve_')}({var})")
            self.value(gfield.type, group, field_var, out, ind)
            entries.append(f"{key!r}: {field_var}")
        out.append(f"{ind}{var} = {{{', '.join(entries)}}}")

    def build(self, gtype: GraphQLOutputType, nodes: Sequence[FieldNode]) -> Complete:
        root = self.function(gtype, nodes)
        namespace = dict(self.env)
        try:
            code = compile("\n\n".join(self.functions), "<compiled selection>", "exec")
        except (SyntaxError, RecursionError, MemoryError) as exc:  # e.g. too deeply nested
            raise NotCompilable(str(exc)) from exc
        exec(code, namespace)  # noqa: S102 - our own generated source, from the schema and a parsed AST
        return namespace[root]  # type: ignore[no-any-return]


def _bad_list(v: Any) -> bool:
    """graphql-core's test for a value that cannot complete as a list."""
    return isinstance(v, str | bytes | dict) or not hasattr(v, "__iter__")


def _slow(gtype: GraphQLLeafType) -> Complete:
    coerce = gtype.coerce_output_value

    def slow(value: Any) -> Any:
        out = coerce(value)
        if out is None:
            raise Bail
        return out

    return slow


def _enum_names(gtype: GraphQLEnumType) -> dict[Any, str]:
    coerce = gtype.coerce_output_value
    names: dict[Any, str] = {}
    definition = (gtype.extensions or {}).get(DEFINITION)
    for value in getattr(getattr(definition, "wrapped_cls", None), "__members__", {}).values():
        try:
            names[value] = coerce(value)
        except Exception:  # noqa: BLE001 - left to the slow path
            continue
    return names


def _compile(gtype: GraphQLOutputType, nodes: Sequence[FieldNode], fragments: dict[str, Any]) -> Complete:
    return _Codegen(fragments).build(gtype, nodes)


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
