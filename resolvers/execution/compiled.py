"""Compiled completion of plain-data subtrees: graphql-core's executor, minus per-field work.

Root fields still run through graphql-core (arguments, resolvers, located errors, null bubbling).
When a root field's value is an object (or list of objects) whose whole selection is plain data —
attributes, argument-free synchronous resolvers such as ``Connector.station``, leaves, no
directives, no abstract output types — the selection is compiled once per document into generated
Python functions that build the response dicts directly. Fragments are collected as graphql-core's
CollectFields does (spec: DoesFragmentTypeApply, by the schema's ``is_sub_type``), so a fragment on a
union or interface that holds the object applies. Any surprise while completing (a null in a
non-null field, a value a scalar refuses) abandons the compiled result for that subtree, and
graphql-core completes it again the stock way, so errors, nulls and paths are exactly what they
would have been.

Every fallback to the stock path is loud (style rule: no silent fallbacks): it counts in
``chargegate_compiled_fallbacks{reason}`` and logs a debug line with the detail. The fast path is
held to graphql-core by a differential test over generated operations on the real schema
(``tests/resolvers/test_compiled_differential.py``); ``complete_value`` is graphql-core's internal
API, so pyproject.toml pins graphql-core to the minor version that test runs against.

Extensions with per-field ``resolve`` hooks (middleware) switch compilation off: every field would
have to pass through them.

Shared values (types declared with :func:`shared`: objects built once, read by many requests,
never changed, like a tariff period's price) go one step further: their response to a selection
of attributes only is remembered per object and selection, so a warm search completes a price or
an operator once, not once per connector and request (``tests/resolvers/test_compiled_shared.py``).
"""

from __future__ import annotations

import inspect
import logging
import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    NamedTypeNode,
    SelectionSetNode,
    is_abstract_type,
    is_specified_scalar_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

log = logging.getLogger(__name__)

DEFINITION = "strawberry-definition"  # strawberry's back-reference in graphql-core extensions
MAX_PLANS = 1024
MAX_INT = 2**31 - 1

Complete = Callable[[Any], Any]

# Classes whose objects are shared by requests and never change once built (see :func:`shared`).
SHARED: set[type] = set()
MAX_SHARED = 20_000  # responses remembered per shared type and selection; cleared when full


def shared(cls: type) -> type:
    """Declare a GraphQL object type's Python objects shared values: built once, read by every
    request that reaches them, never changed (e.g. a tariff period's price, an operator). Their
    response to a selection of attributes only is then remembered per object (keyed by its id, the
    object held) and reused, instead of completed again; a selection that calls a resolver below
    the object is completed every time. Use above ``@strawberry.type``."""
    SHARED.add(cls)
    return cls


@dataclass(frozen=True, slots=True)
class Plan:
    """A root field's compiled completion, or None and why not (a metric label and a detail)."""

    nodes: Sequence[FieldNode]
    return_type: GraphQLOutputType
    complete: Complete | None
    reason: str = ""
    detail: str = ""


# Compiled selections per schema, keyed by the ids of their field nodes (checked by identity, so a
# recycled id never matches); bounded, cleared when full.
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[int, ...], Plan]] = weakref.WeakKeyDictionary()


class Bail(Exception):
    """The compiled path cannot complete this value exactly; graphql-core will."""


class NotCompilable(Exception):
    """The selection cannot be compiled; ``reason`` is a fixed metric label, ``detail`` for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# -- selections ------------------------------------------------------------------------------------


def _collect(
    schema: GraphQLSchema,
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
                if _applies(schema, parent, sel.type_condition):
                    _collect(schema, parent, [sel.selection_set], fragments, out, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if getattr(sel, "arguments", None):
                    raise NotCompilable("fragment variables")
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue
                if fragment.directives or getattr(fragment, "variable_definitions", None):
                    raise NotCompilable("directives")
                if _applies(schema, parent, fragment.type_condition):
                    _collect(schema, parent, [fragment.selection_set], fragments, out, seen | {name})
            else:
                raise NotCompilable("unknown selection", type(sel).__name__)
    return out


def _applies(schema: GraphQLSchema, parent: GraphQLObjectType, condition: NamedTypeNode | None) -> bool:
    """The spec's DoesFragmentTypeApply: no condition, the object itself, or an interface or union
    the object belongs to (by the schema, as graphql-core's ``does_fragment_condition_match``)."""
    if condition is None:
        return True
    conditional = schema.get_type(condition.name.value)
    if conditional is parent:
        return True
    return is_abstract_type(conditional) and schema.is_sub_type(conditional, parent)


def _getter(gfield: Any) -> str | Callable[[Any], Any]:
    """The attribute name to read, or the argument-free resolver to call with the parent."""
    field = (gfield.extensions or {}).get(DEFINITION)
    if field is None or getattr(field, "permission_classes", None) or getattr(field, "extensions", None):
        raise NotCompilable("field hooks", getattr(field, "python_name", ""))
    resolver = field.base_resolver
    if resolver is None:
        name = field.python_name
        if not name.isidentifier():
            raise NotCompilable("attribute", name)
        return name
    func = resolver.wrapped_func
    params = list(inspect.signature(func).parameters)
    if resolver.is_async or inspect.isgeneratorfunction(func) or params != ["self"]:
        raise NotCompilable("resolver", func.__qualname__)
    return func


# -- code generation ---------------------------------------------------------------------------------
#
# A selection becomes the source of one Python function per list item type (and one for the root),
# compiled once per document: attribute reads, type checks and response dicts are written out
# inline, so completing a field costs a few bytecodes instead of a chain of closure calls. Every
# check mirrors graphql-core's completion; anything else raises ``Bail``.

MAX_SOURCE = 200_000  # characters of generated code per plan; beyond that graphql-core completes


class _Codegen:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.env: dict[str, Any] = {
            "Bail": Bail,
            "_isfinite": math.isfinite,
            "_bad_list": _bad_list,
            "_remember": _remember,
        }
        self.functions: list[str] = []
        self.size = 0
        self.resolvers = 0  # resolvers called by the code generated so far
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
            raise NotCompilable("too large", f"{self.size} characters")
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
            raise NotCompilable("abstract type", str(gtype))
        self.obj(gtype, nodes, var, out, ind)

    def leaf(self, gtype: GraphQLLeafType, var: str, out: list[str], ind: str) -> None:
        if not isinstance(gtype, GraphQLEnumType) and not is_specified_scalar_type(gtype):
            # A custom scalar: its coercion called directly (what ``slow`` does, one call less).
            out.append(f"{ind}{var} = {self.const(gtype.coerce_output_value, 'serialize_')}({var})")
            out.append(f"{ind}if {var} is None: raise Bail")
            return
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
            names = _enum_names(gtype)
            by_name = _named_members(gtype, names)
            lookup = [
                f"try: {var} = {self.const(names, 'enum_')}[{var}]",
                f"except (KeyError, TypeError): {var} = {slow}({var})",
            ]
            if by_name is None:
                out.extend(f"{ind}{line}" for line in lookup)
            else:
                # A member serialises to its own name: read it (hashing a member calls Python code).
                out.append(
                    f"{ind}if type({var}) is {self.const(by_name, 'enum_class_')}: {var} = {var}._name_"
                )
                out.append(f"{ind}else:")
                out.extend(f"{ind}    {line}" for line in lookup)
        else:
            out.append(f"{ind}{var} = {slow}({var})")

    def obj(
        self, gtype: GraphQLObjectType, nodes: Sequence[FieldNode], var: str, out: list[str], ind: str
    ) -> None:
        origin = getattr((gtype.extensions or {}).get(DEFINITION), "origin", None)
        if gtype.is_type_of is not None:
            # graphql-core asks is_type_of (strawberry sets it on types with interfaces); the exact
            # class is the common case and always passes.
            cls, check = self.const(origin, "origin_"), self.const(gtype.is_type_of, "is_type_of_")
            out.append(f"{ind}if type({var}) is not {cls} and not {check}({var}, None): raise Bail")
        if origin not in SHARED:
            self.fields(gtype, nodes, var, out, ind)
            return
        body: list[str] = []
        resolvers = self.resolvers
        self.fields(gtype, nodes, var, body, ind + "    ")
        if self.resolvers != resolvers:
            out.append(f"{ind}if True:")  # the body, as it is (a resolver below may read anything)
            out.extend(body)
            return
        # A shared value with only attributes below: its response is a function of the object.
        memo, hit, source = self.const({}, "memo_"), self.name("hit"), self.name("source")
        out.append(f"{ind}{hit} = {memo}.get(id({var}))")
        out.append(f"{ind}if {hit} is not None and {hit}[0] is {var}: {var} = {hit}[1]")
        out.append(f"{ind}else:")
        out.append(f"{ind}    {source} = {var}")
        out.extend(body)
        out.append(f"{ind}    _remember({memo}, {source}, {var})")

    def fields(
        self, gtype: GraphQLObjectType, nodes: Sequence[FieldNode], var: str, out: list[str], ind: str
    ) -> None:
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        fields = _collect(self.schema, gtype, selections, self.fragments, {}, set())
        entries = []
        for key, group in fields.items():
            name = group[0].name.value
            if name == "__typename":
                entries.append(f"{key!r}: {gtype.name!r}")
                continue
            if any(n.arguments for n in group):
                raise NotCompilable("field arguments", f"{gtype.name}.{name}")
            gfield = gtype.fields.get(name)
            if gfield is None:
                raise NotCompilable("unknown field", f"{gtype.name}.{name}")
            getter = _getter(gfield)
            field_var = self.name("f")
            if isinstance(getter, str):
                out.append(f"{ind}{field_var} = {var}.{getter}")
            else:
                self.resolvers += 1
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
            raise NotCompilable("does not compile", type(exc).__name__) from exc
        exec(code, namespace)  # noqa: S102 - our own generated source, from the schema and a parsed AST
        return namespace[root]


def _remember(memo: dict[int, tuple[Any, Any]], source: Any, response: Any) -> None:
    if len(memo) >= MAX_SHARED:
        memo.clear()
    memo[id(source)] = (source, response)


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


def _named_members(gtype: GraphQLEnumType, names: dict[Any, str]) -> type | None:
    """The enum class whose every member serialises to its own ``_name_``, if that holds."""
    cls = getattr((gtype.extensions or {}).get(DEFINITION), "wrapped_cls", None)
    members = list(getattr(cls, "__members__", {}).values())
    if not members or any(names.get(m) != m._name_ for m in members):
        return None
    return cls


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


def _compile(
    schema: GraphQLSchema, gtype: GraphQLOutputType, nodes: Sequence[FieldNode], fragments: dict[str, Any]
) -> Complete:
    return _Codegen(schema, fragments).build(gtype, nodes)


# -- the execution context ---------------------------------------------------------------------------


def _has_middleware(manager: Any) -> bool:
    return manager is not None and bool(getattr(manager, "middlewares", None))


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core execution context with compiled completion of plain-data object values."""

    _stock_path: Any = None  # the root field graphql-core is completing the stock way

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
            and path.prev is None  # root fields only: one plan lookup per root field and request
            and path is not self._stock_path  # the stock path's own call for a non-null's inner type
            and not isinstance(_named(return_type), GraphQLLeafType)  # nothing to compile
        ):
            if _has_middleware(self.middleware_manager):
                self._fallback("middleware", path)
            else:
                plan = self._plan(return_type, field_details_list)
                if plan.complete is None:
                    self._fallback(plan.reason, path, plan.detail)
                else:
                    try:
                        return plan.complete(result)
                    except Bail:
                        self._fallback("value", path, "graphql-core completes a surprise value")
                    except Exception as exc:  # noqa: BLE001 - graphql-core completes it and reports properly
                        self._fallback("exception", path, f"{type(exc).__name__}: {exc}")
            self._stock_path = path  # read synchronously by the nested call, if any
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _fallback(self, reason: str, path: Any, detail: str = "") -> None:
        log.debug("compiled completion fell back at %s (%s): %s", path.key, reason, detail)
        metrics = getattr(getattr(self.context_value, "runtime", None), "metrics", None)
        if metrics is not None:
            metrics.compiled_fallbacks.labels(reason).inc()

    def _plan(self, return_type: GraphQLOutputType, details: Any) -> Plan:
        nodes = [d.node for d in details]
        if any(d.defer_usage is not None or getattr(d, "fragment_variable_values", None) for d in details):
            return Plan(nodes, return_type, None, "defer or fragment variables")
        return plan_for(self.schema, return_type, nodes, self.fragment_definitions)


def plan_for(
    schema: GraphQLSchema, return_type: GraphQLOutputType, nodes: list[FieldNode], fragments: dict[str, Any]
) -> Plan:
    """The compiled completion of a root field's ``nodes`` (remembered per schema and nodes)."""
    key = (id(return_type), *map(id, nodes))
    plans = _PLANS.get(schema)
    if plans is None:
        plans = _PLANS[schema] = {}
    plan = plans.get(key)
    if (
        plan is not None
        and plan.return_type is return_type
        and all(a is b for a, b in zip(plan.nodes, nodes, strict=True))
    ):
        return plan
    try:
        plan = Plan(nodes, return_type, _compile(schema, return_type, nodes, fragments))
    except NotCompilable as exc:
        plan = Plan(nodes, return_type, None, exc.reason, str(exc))
    if len(plans) >= MAX_PLANS:
        plans.clear()
    plans[key] = plan
    return plan


def _named(gtype: GraphQLOutputType) -> GraphQLOutputType:
    return gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype
