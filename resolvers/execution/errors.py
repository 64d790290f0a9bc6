"""The execution context of our schema: compiled completion, and variable errors as client errors."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from resolvers.errors import BAD_USER_INPUT
from resolvers.execution.compiled import CompiledExecutionContext


class GatewayExecutionContext(CompiledExecutionContext):
    """graphql-core refuses to build an execution when the variables do not coerce (a missing
    required variable, ``"abc"`` for a Float, a value a custom scalar refuses). Those are the
    client's mistakes: ``BAD_USER_INPUT``, never logged and never masked as an internal error."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [_client_error(error) for error in built]
        return built


def _client_error(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        extensions={**(error.extensions or {}), "code": BAD_USER_INPUT},
    )
