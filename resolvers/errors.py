"""Error shaping for every response: stable ``extensions.code`` values, masking, operator errors.

- Our own errors (``GraphQLError`` with a ``code``) pass unchanged.
- Parse and validation errors get ``GRAPHQL_VALIDATION_FAILED`` (``MAX_TOKENS_EXCEEDED`` when the
  parser stopped at the token limit); the query limits in ``gateway.security.limits`` set their own.
- Anything unexpected is logged and masked as ``INTERNAL_SERVER_ERROR``: no stack trace, no
  exception text (which could hold an upstream URL or a secret) reaches the client.
- Operators that failed while the request ran add one ``OPERATOR_UNAVAILABLE`` error each,
  naming the operator, next to whatever partial data was produced.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

log = logging.getLogger(__name__)

BAD_USER_INPUT = "BAD_USER_INPUT"
TOKEN_LIMIT_MESSAGE = "tokens. Parsing aborted."  # graphql-core's parser, at max_lexical_tokens


def bad_input(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT, "field": field})


def _shape(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    if original is None:
        code = "MAX_TOKENS_EXCEEDED" if TOKEN_LIMIT_MESSAGE in error.message else "GRAPHQL_VALIDATION_FAILED"
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    log.error("unexpected error at %s", error.path, exc_info=original)
    return GraphQLError(
        "Internal server error",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def shape_errors(execution_context: ExecutionContext) -> None:
    """The operation's errors shaped as above, once it has run."""
    result = execution_context.result
    if result is None:
        return
    result.errors = shaped(result.errors, execution_context.context)


def shaped(errors: list[GraphQLError] | None, context: Any) -> list[GraphQLError] | None:
    """``errors`` shaped as above, then one error per operator that failed while they were made."""
    out = [_shape(e) for e in errors] if errors else []
    operator_errors = getattr(context, "operator_errors", None)
    if operator_errors:
        for op_id, exc in sorted(operator_errors.items()):
            out.append(
                GraphQLError(
                    f"Operator {op_id} is unavailable: {exc.message}",
                    extensions={"code": "OPERATOR_UNAVAILABLE", "operator": op_id, "reason": exc.code},
                )
            )
    return out or None


async def shaped_stream(source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """A WebSocket operation's results with the codes HTTP gives: an operation refused before it
    runs (validation) comes out of Strawberry's stream unshaped. A syntax error is left as it is:
    graphql-transport-ws closes the socket with its message (4400)."""
    async for result in source:
        if isinstance(result, PreExecutionError) and result.errors:
            result.errors = [e if isinstance(e, GraphQLSyntaxError) else _shape(e) for e in result.errors]
        yield result
