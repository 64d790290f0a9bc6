"""Prepared operations: queries already seen, run without Strawberry's per-request wrapping.

Strawberry runs every operation through its HTTP view (request parsing, a sub-response, content
negotiation through ``email.message``), then ``Schema.execute`` (an execution context, the
extension runner with a context manager per phase, a middleware manager) before graphql-core's
``execute``. For a station search of 20 stations that wrapping cost about a third of the request.

The first time a query text (and operation name) is seen it takes that path; it is also parsed
and validated here, through the very caches the schema extension uses (:mod:`resolvers.execution.phases`:
the same parser with its token limit, the same validation rules, query limits included, and the
same cached verdict). A text that parses, validates and names one *query* operation is then
prepared: the next requests carrying it are run by :meth:`PreparedOperations.run`, which does
what the extension's phases do, in their order, as plain calls — the bearer token verified, the
root fields' scopes checked, graphql-core's ``execute`` with the schema's execution context
(compiled completion, variable errors as ``BAD_USER_INPUT``), unexpected errors logged as the
schema logs them, the operation timed for ``/metrics``, the errors shaped
(:func:`resolvers.errors.shaped`). Execution itself is graphql-core's either way, so data, errors,
paths and partial results are the same; ``tests/app/test_prepared.py`` holds both paths to the same
status, headers and body.

Not prepared (always the stock path): mutations and subscriptions, documents that do not parse or
validate, several operations without a name, and any schema with more extensions than ours (e.g.
tracing, whose spans wrap Strawberry's phases). The HTTP side — which requests may use a prepared
operation at all — is :meth:`gateway.app.asgi.GraphQLApp.prepared_response`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    specified_rules,
)
from graphql.pyutils import is_awaitable
from graphql.utilities import get_operation_ast
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.http import GraphQLHTTPResponse

from gateway.security.apikeys import Scope
from gateway.security.authz import operation_scopes, scope_refusal
from resolvers.errors import shaped
from resolvers.execution.direct import Direct, direct
from resolvers.execution.direct import run as run_direct
from resolvers.execution.phases import operation_label

log = logging.getLogger(__name__)

MAX_PREPARED = 1024  # query texts remembered (prepared or not); cleared when full

Parser = Callable[[str], DocumentNode]
Validate = Callable[..., list[GraphQLError]]


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    operation_name: str | None  # as Strawberry passes it: the one asked for, or the operation's own
    label: str  # the operation's name in ``/metrics``
    scopes: frozenset[Scope]  # what its root fields need (gateway.security.authz)
    direct: Direct | None  # how to run it without graphql-core's executor, when it qualifies


_NOT_PREPARED = object()  # seen, and not a query this path runs


class PreparedOperations:
    """The prepared queries of one schema. ``schema`` is the Strawberry schema: its graphql-core
    schema, execution context class, error logging and extensions are read from it."""

    def __init__(
        self,
        schema: Any,
        parser: Parser,
        rules: Sequence[type[ASTValidationRule]],
        validate: Validate,
        *,
        capacity: int = MAX_PREPARED,
    ) -> None:
        self.schema = schema
        self.parser = parser
        # As Strawberry's execution context holds them, so the validation cache is shared.
        self.rules = (*specified_rules, *rules)
        self.validate = validate
        self.capacity = capacity
        self._seen: dict[tuple[str, str | None], Prepared | object] = {}
        self.runs = 0  # operations run by this path (tests and debugging)
        self.direct_runs = 0  # of which run directly (resolvers.execution.direct)
        self._timers: dict[str, tuple[Any, Any]] = {}

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        """The prepared operation for this text, or None: not seen before (prepared now, for the
        next request), or not one this path runs."""
        key = (query, operation_name)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= self.capacity:
                self._seen.clear()
            self._seen[key] = self._prepare(query, operation_name) or _NOT_PREPARED
            return None
        return found if type(found) is Prepared else None

    def _prepare(self, query: str, operation_name: str | None) -> Prepared | None:
        if len(self.schema.extensions) != 1:  # only our GatewayPhases: its phases are replayed here
            return None
        try:
            document = self.parser(query)
        except GraphQLError:
            return None
        gql: GraphQLSchema = self.schema._schema
        if self.validate(gql, document, self.rules):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        name = operation_name
        if name is None and operation.name is not None:
            name = operation.name.value
        scopes = operation_scopes(document, name)
        if scopes is None:
            return None
        return Prepared(
            document, name, operation_label(name), scopes, direct(self.schema, document, operation)
        )

    async def run(
        self, prepared: Prepared, context: Any, variables: dict[str, Any] | None
    ) -> GraphQLHTTPResponse:
        """The operation's response (``data``, and ``errors`` when there are any)."""
        self.runs += 1
        start = time.perf_counter()
        await context.authenticate()
        refusal = scope_refusal(prepared.scopes, context)
        if refusal is not None:
            result = ExecutionResult(None, [refusal])
        else:
            result = await self._execute(prepared, context, variables)
            if result.errors:
                self.schema.process_errors(result.errors)
        self._timer(context.runtime.metrics.request_seconds, prepared.label).observe(
            time.perf_counter() - start
        )
        errors = shaped(result.errors, context)
        if errors:
            return {"data": result.data, "errors": [e.formatted for e in errors]}
        return {"data": result.data}

    def _timer(self, histogram: Any, label: str) -> Any:
        """The histogram's child for ``label`` (prometheus_client looks it up under a lock per call)."""
        found = self._timers.get(label)
        if found is None or found[0] is not histogram:
            if len(self._timers) >= self.capacity:
                self._timers.clear()
            found = self._timers[label] = (histogram, histogram.labels(label))
        return found[1]

    async def _execute(
        self, prepared: Prepared, context: Any, variables: dict[str, Any] | None
    ) -> ExecutionResult:
        if prepared.direct is not None:
            done = await run_direct(self.schema._schema, prepared.direct, context, variables)
            if done is not None:
                self.direct_runs += 1
                return done
        try:
            result = execute(
                self.schema._schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=prepared.operation_name,
                executor_class=self.schema.execution_context_class,
                # Ignored: Strawberry's check (what Schema.execute passes) is typed bool, not TypeGuard.
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            )
            if is_awaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - as Strawberry does: an error result, logged and masked
            return ExecutionResult(None, [GraphQLError(str(exc), original_error=exc)])
        if not isinstance(result, ExecutionResult):  # @defer/@stream: not in our schema
            raise TypeError(f"unexpected execution result {type(result).__name__}")
        return result
