"""Who is calling (the :class:`Principal` the middleware puts in the ASGI scope) and what they may
run: :func:`check_scopes` compares the operation's root fields with the key's scopes once per
operation, before execution, so no per-field hook sits on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.types import ExecutionContext

from gateway.security.apikeys import ApiKey, Scope

SCOPE_KEY = "chargegate.principal"  # where the middleware leaves the principal in the ASGI scope
ANONYMOUS_SCOPES = frozenset({Scope.STATIONS_READ})
# Root fields needing more than their operation type's default scope.
FIELD_SCOPES = {
    ("query", "me"): Scope.DRIVERS_ACT,
    ("mutation", "resolveBill"): Scope.ADMIN,  # internal tooling: money decisions with an audit trail
    ("mutation", "refundPayment"): Scope.ADMIN,
    ("mutation", "resolveRailMismatch"): Scope.ADMIN,
    ("query", "railMismatches"): Scope.ADMIN,  # rail reconciliation's findings
    ("mutation", "signIn"): Scope.STATIONS_READ,  # no driver yet: the app's own access is enough
    ("mutation", "refreshToken"): Scope.STATIONS_READ,
    ("mutation", "signOut"): Scope.STATIONS_READ,
    ("query", "_service"): Scope.ROUTER,  # Apollo Federation: the subgraph SDL
    ("query", "_entities"): Scope.ROUTER,  # Apollo Federation: entities by key
}
OPEN_TO_ROUTERS = ("demo", "dev")  # modes where any caller may act as a federation router
SIGN_IN = (
    "This operation acts for a driver: send Authorization: Bearer <driver token> "
    "(or use an API key with scope drivers:act)."
)
OPERATION_SCOPES = {
    "query": Scope.STATIONS_READ,
    "mutation": Scope.DRIVERS_ACT,
    "subscription": Scope.DRIVERS_ACT,
}


@dataclass(frozen=True, slots=True)
class Principal:
    key: ApiKey | None  # None: anonymous
    client: str  # the client's address, for anonymous rate limits

    @property
    def bucket(self) -> str:
        return f"key:{self.key.id}" if self.key else f"ip:{self.client}"

    def allows(self, scope: Scope) -> bool:
        return self.key.allows(scope) if self.key else scope in ANONYMOUS_SCOPES


ANONYMOUS = Principal(None, "")


def principal_of(request: Any) -> Principal:
    """The caller of a Starlette request (anonymous when no middleware ran, e.g. in unit tests)."""
    scope = getattr(request, "scope", None) or {}
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Principal) else ANONYMOUS


def required_scopes(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> set[Scope]:
    kind = operation.operation.value
    return {
        FIELD_SCOPES.get((kind, name), OPERATION_SCOPES[kind])
        for name in _root_fields(operation.selection_set, fragments, set())
        if not name.startswith("__")
    }


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, Any], seen: set[str]) -> Iterator[str]:
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            yield sel.name.value
        elif isinstance(sel, InlineFragmentNode):
            yield from _root_fields(sel.selection_set, fragments, seen)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name in fragments and name not in seen:
                seen.add(name)
                yield from _root_fields(fragments[name].selection_set, fragments, seen)


def _mode(context: Any) -> str | None:
    settings = getattr(getattr(context, "runtime", None), "settings", None)
    return settings.gateway.mode if settings is not None else None


def check_scopes(execution_context: ExecutionContext) -> None:
    """Refuses, before it executes, an operation the caller may not run: the refusal
    (:func:`scope_refusal`) becomes the operation's result."""
    ec = execution_context
    document = ec.graphql_document
    needed = operation_scopes(document, ec.operation_name) if document is not None else None
    if needed is not None:
        error = scope_refusal(needed, ec.context)
        if error is not None:
            ec.result = ExecutionResult(data=None, errors=[error])


def operation_scopes(document: DocumentNode, operation_name: str | None) -> frozenset[Scope] | None:
    """The scopes the operation's root fields need (None when the document has no such operation)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return frozenset(required_scopes(operation, fragments))


def scope_refusal(needed: frozenset[Scope], context: Any) -> GraphQLError | None:
    """``FORBIDDEN`` for an operation needing a scope the caller lacks; ``UNAUTHENTICATED`` and
    what to send when all it lacks is a driver to act for; else None."""
    principal = principal_of(getattr(context, "request", None))
    if Scope.DRIVERS_ACT in needed and getattr(context, "has_driver_credentials", False):
        # A driver's own bearer token lets them act for themselves; the resolvers verify it
        # and scope every read and write to that driver.
        needed = needed - {Scope.DRIVERS_ACT}
    if Scope.ROUTER in needed and _mode(context) in OPEN_TO_ROUTERS:
        needed = needed - {Scope.ROUTER}
    missing = sorted(s.value for s in needed if not principal.allows(s))
    if missing == [Scope.DRIVERS_ACT.value]:
        # Nobody to act for: what the caller lacks is a driver's token, not a scope.
        return GraphQLError(SIGN_IN, extensions={"code": "UNAUTHENTICATED"})
    if missing:
        who = f"API key {principal.key.id}" if principal.key else "Anonymous callers"
        message = f"{who} may not run this operation: it needs scope {', '.join(missing)}."
        return GraphQLError(message, extensions={"code": "FORBIDDEN", "scopes": missing})
    return None
