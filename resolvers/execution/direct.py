"""Direct execution of a prepared query with one root field: its resolver, then its compiled plan.

graphql-core's ``execute`` builds an execution context, collects the root fields, runs each through
``execute_field`` and awaits them through a chain of coroutines; for a station search that was
about a tenth of the request. A prepared query (:mod:`resolvers.execution.prepared`) whose document
is one operation selecting one root field, with a compiled plan for its whole selection
(:func:`resolvers.execution.compiled.plan_for`), is run here instead: the variables coerced and the
arguments read by graphql-core's own functions, our resolver called as Strawberry's wrapper calls
it — the arguments converted by :mod:`resolvers.execution.arguments` (worked out once per field),
the ``Info`` built from the resolve info graphql-core would build — and the value completed by the
plan. (Where that conversion is not ours, Strawberry's resolver wrapper is called instead.)

Only the path where nothing goes wrong is taken here. Anything else — variables that do not
coerce, a resolver that raises, a null for a non-null field, a value the plan refuses — returns
None, and the caller runs the operation with graphql-core from the start, which reports it exactly
(the resolver runs again: queries only, and the request's loaders keep what it loaded).

What qualifies is decided once per document (:func:`direct`): no fragment definitions, no
directives, a root field with a resolver and no field extensions, permission classes or exception
handlers. ``tests/app/test_prepared.py`` holds the answers to those of the stock path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo as ResolveInfo

from resolvers.execution.arguments import converter
from resolvers.execution.compiled import DEFINITION, Complete, plan_for

log = logging.getLogger(__name__)

MAX_COERCION_ERRORS = 50  # graphql-core's default; errors go to the stock path anyway


@dataclass(frozen=True, slots=True)
class Direct:
    operation: OperationDefinitionNode
    node: FieldNode
    key: str  # the response key
    field: GraphQLField
    path: Path
    complete: Complete
    call: Call | None  # the resolver with our argument conversion; None: Strawberry's wrapper


Call = Callable[[Mapping[str, Any], Any], Any]  # (graphql-core's argument values, resolve info) -> value


def _call(schema: Any, definition: Any) -> Call | None:
    """Our resolver called as Strawberry's wrapper calls it (``get_arguments``, then the resolver),
    with the arguments converted by :func:`resolvers.execution.arguments.converter`."""
    resolver = definition.base_resolver
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    convert = converter(definition, schema.config, schema.schema_converter.scalar_registry)
    if convert is None:
        return None
    args = (None,) if resolver.self_parameter is not None else ()  # the root value, None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = schema.config.info_class

    def call(arguments: Mapping[str, Any], info: Any) -> Any:
        kwargs = convert(arguments)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=definition)
        return resolver(*args, **kwargs)

    return call


def direct(schema: Any, document: DocumentNode, operation: OperationDefinitionNode) -> Direct | None:
    """How to run ``operation`` directly, or None when it does not qualify."""
    gql: GraphQLSchema = schema._schema
    selections = operation.selection_set.selections
    if (
        len(document.definitions) != 1
        or operation.directives
        or any(v.directives for v in operation.variable_definitions or ())
        or len(selections) != 1
        or not isinstance(selections[0], FieldNode)
        or selections[0].directives
        or gql.query_type is None
        or getattr(schema.schema_converter, "_exception_handler_specs", True)
    ):
        return None
    node = selections[0]
    field = gql.query_type.fields.get(node.name.value)
    definition = (field.extensions or {}).get(DEFINITION) if field is not None else None
    if (
        field is None
        or definition is None
        or definition.base_resolver is None
        or definition.permission_classes
        or definition.extensions
    ):
        return None
    plan = plan_for(gql, field.type, [node], {})
    if plan.complete is None:
        return None
    key = node.alias.value if node.alias else node.name.value
    path = Path(None, key, gql.query_type.name)
    return Direct(operation, node, key, field, path, plan.complete, _call(schema, definition))


async def run(
    schema: GraphQLSchema, how: Direct, context: Any, variables: dict[str, Any] | None
) -> ExecutionResult | None:
    """The operation's result, or None for the stock path to produce it (see the module doc)."""
    values = get_variable_values(
        schema, how.operation.variable_definitions or (), variables or {}, max_errors=MAX_COERCION_ERRORS
    )
    if isinstance(values, list):
        return None
    try:
        arguments = get_argument_values(how.field, how.node, values)
        info = ResolveInfo(
            how.node.name.value,
            [how.node],
            how.field.type,
            schema.query_type,  # type: ignore[arg-type]
            how.path,
            schema,
            {},
            None,
            how.operation,
            values.coerced,
            context,
            optimized_is_awaitable,
            None,  # abort signal: none, as the stock path is given none
            None,  # async helpers: our resolvers use none
            # Ignored: typed a dict by Strawberry, but None is what its own path passes without any.
            None,  # type: ignore[arg-type]
        )
        if how.call is not None:
            value = how.call(arguments, info)
        else:
            assert how.field.resolve is not None
            value = how.field.resolve(None, info, **arguments)
        if optimized_is_awaitable(value):
            value = await value
        # The plan keeps a null where the field may be null and refuses it (Bail) where it may not.
        return ExecutionResult({how.key: how.complete(value)}, None)
    except Exception as exc:  # noqa: BLE001 - graphql-core runs it again and reports it
        log.debug("direct execution of %s handed over to graphql-core: %s", how.key, type(exc).__name__)
        return None
