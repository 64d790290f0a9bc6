"""Limits checked before anything executes: tokens, depth, aliases and a list-size-aware cost.

Tokens are counted by the parser (:mod:`.documents`, which stops at the limit). Depth, aliases and
cost are one graphql-core validation rule; the schema's validation cache keeps its verdict per
parsed document (and :mod:`.documents` returns the same document for the same text), so the rule
runs once per distinct query text, never per field or per request.

Cost: every field costs 1, times the product of the list sizes above it. A field with a ``first``
(or ``last``) argument multiplies its subtree by that number (at most ``gateway.max_page_size``,
which resolvers enforce; a variable counts as that largest page), and the list directly under it
(``edges``) is not counted again; any other list multiplies by ``default_list_size``. Fragments
are costed once each (memoised), so fragment "bombs" cost time linear in the document.
Federation's ``_entities`` multiplies its selection by the number of representations (a variable
counts as ``max_page_size``, the most the resolver accepts).
Introspection fields (``__schema``, ``__type``) are skipped: production mode refuses them, and
their size is bounded by the token limit.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)

from gateway.settings.sections import Settings

SIZE_ARGUMENTS = ("first", "last")
ENTITIES_FIELD, REPRESENTATIONS = "_entities", "representations"  # Apollo Federation


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Defaults are production-safe; :meth:`from_settings` reads ``[security]`` and the mode."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_cost: int = 50_000  # a full page of 100 stations with every field costs about 37,000
    default_list_size: int = 10
    max_page_size: int = 100
    max_batch: int = 10
    introspection: bool = False
    field_suggestions: bool = False  # "Did you mean …?" reveals the schema as introspection does

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        s = settings.security
        open_mode = s.introspection == "on" or (
            s.introspection == "auto" and settings.gateway.mode in ("demo", "dev")
        )
        return cls(
            max_depth=s.max_depth,
            max_aliases=s.max_aliases,
            max_tokens=s.max_tokens,
            max_cost=s.max_cost,
            default_list_size=s.default_list_size,
            max_page_size=settings.gateway.max_page_size,
            max_batch=s.max_batch,
            introspection=open_mode,
            field_suggestions=open_mode,
        )


def limit_rule(limits: QueryLimits) -> type[ValidationRule]:
    """The validation rule enforcing ``limits`` (a class, as graphql-core wants)."""
    return type("QueryLimitsRule", (_QueryLimitsRule,), {"limits": limits})


def _error(code: str, message: str, node: Any, **extra: int) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code, **extra})


class _QueryLimitsRule(ValidationRule):
    limits: ClassVar[QueryLimits]

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.aliases = 0
        self.depths: dict[str, int] = {}
        self.costs: dict[tuple[str, bool], int] = {}
        self.active: set[str] = set()  # fragments being walked: cycles are another rule's error

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1
            limit = self.limits.max_aliases
            if self.aliases == limit + 1:
                message = f"Query has more than {limit} aliases."
                self.report_error(_error("MAX_ALIASES_EXCEEDED", message, node, limit=limit))

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        limits = self.limits
        try:
            depth = self._depth(node.selection_set)
        except RecursionError:  # fragments spreading fragments hundreds deep
            depth = sys.getrecursionlimit()
        if depth > limits.max_depth:
            message = f"Query is {depth} levels deep; the limit is {limits.max_depth}."
            error = _error("MAX_DEPTH_EXCEEDED", message, node, depth=depth, limit=limits.max_depth)
            self.report_error(error)
            return
        root = self.context.schema.get_root_type(node.operation)
        cost = self._cost(node.selection_set, root, False) if root else 0
        if cost > limits.max_cost:
            message = f"Query cost {cost} exceeds the limit of {limits.max_cost}; ask for smaller pages."
            self.report_error(_error("MAX_COST_EXCEEDED", message, node, cost=cost, limit=limits.max_cost))

    def _depth(self, selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                if not sel.name.value.startswith("__"):
                    deepest = max(deepest, 1 + self._depth(sel.selection_set))
            elif isinstance(sel, InlineFragmentNode):
                deepest = max(deepest, self._depth(sel.selection_set))
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name not in self.depths and (fragment := self._enter(name)):
                    self.depths[name] = self._depth(fragment.selection_set)
                    self.active.discard(name)
                deepest = max(deepest, self.depths.get(name, 0))
        return deepest

    def _cost(self, selection_set: SelectionSetNode | None, parent: Any, sized: bool) -> int:
        total = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                total += self._field_cost(sel, parent, sized)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                type_ = self.context.schema.get_type(cond.name.value) if cond else parent
                total += self._cost(sel.selection_set, type_, sized)
            elif isinstance(sel, FragmentSpreadNode):
                key = (sel.name.value, sized)
                if key not in self.costs and (fragment := self._enter(key[0])):
                    type_ = self.context.schema.get_type(fragment.type_condition.name.value)
                    self.costs[key] = self._cost(fragment.selection_set, type_, sized)
                    self.active.discard(key[0])
                total += self.costs.get(key, 0)
        return total

    def _field_cost(self, node: FieldNode, parent: Any, sized: bool) -> int:
        if node.name.value.startswith("__"):
            return 0
        field = getattr(parent, "fields", {}).get(node.name.value)
        if field is None or node.selection_set is None:
            return 1
        if node.name.value == ENTITIES_FIELD:
            count = _representations(node, self.limits.max_page_size)
            return 1 + count * self._cost(node.selection_set, get_named_type(field.type), False)
        size = _size(node, field, self.limits.max_page_size)
        if size is not None:
            factor = size
        elif isinstance(_unwrap_non_null(field.type), GraphQLList) and not sized:
            factor = self.limits.default_list_size
        else:
            factor = 1
        return 1 + factor * self._cost(node.selection_set, get_named_type(field.type), size is not None)

    def _enter(self, name: str) -> FragmentDefinitionNode | None:
        """The fragment to walk, or None if unknown or already being walked (a cycle)."""
        fragment = self.context.get_fragment(name)
        if fragment is None or name in self.active:
            return None
        self.active.add(name)
        return fragment


def _size(node: FieldNode, field: GraphQLField, max_page_size: int) -> int | None:
    """The page size a ``first``/``last`` argument asks for (its default when omitted)."""
    for arg in node.arguments or ():
        if arg.name.value in SIZE_ARGUMENTS:
            if isinstance(arg.value, IntValueNode):  # a larger page is refused by the resolver
                return min(max(0, int(arg.value.value)), max_page_size)
            if isinstance(arg.value, VariableNode):
                return max_page_size
    for name in SIZE_ARGUMENTS:
        default = field.args[name].default_value if name in field.args else None
        if isinstance(default, int):
            return default
    return None


def _representations(node: FieldNode, max_page_size: int) -> int:
    """How many entities an ``_entities`` call asks for: a literal list's length, else the most."""
    for arg in node.arguments or ():
        if arg.name.value == REPRESENTATIONS and isinstance(arg.value, ListValueNode):
            return len(arg.value.values)
    return max_page_size


def _unwrap_non_null(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def check_batch(operations: list[Any], max_batch: int) -> None:
    """A JSON array of operations must hold 1..``max_batch`` request objects; ValueError if not.
    (Strawberry checks the count too, but would fail on a non-object item with a 500.)"""
    if max_batch == 0:
        raise ValueError("Batching is not enabled")
    if not operations or len(operations) > max_batch:
        raise ValueError(f"A batch holds 1 to {max_batch} operations")
    for item in operations:
        if not isinstance(item, dict):
            raise ValueError("Each operation in a batch must be a JSON object")
        if not isinstance(item.get("query"), str | None):
            raise ValueError("The GraphQL operation's `query` must be a string or null, if provided.")
        for name in ("variables", "extensions"):
            if not isinstance(item.get(name), dict | None):
                raise ValueError(f"The GraphQL operation's `{name}` must be an object or null, if provided.")
