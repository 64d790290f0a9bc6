"""The schema: Query, Mutation and Subscription, plus our extensions; an Apollo Federation 2 subgraph.

``build_schema()`` without arguments is the production schema (introspection and field suggestions
off, default query limits); ``chargegate export-schema`` prints the same SDL whatever the limits.
``as_str()`` is our public API (``schema.graphql``); :func:`subgraph_sdl` is what ``_service { sdl }``
answers a router (``subgraph.graphql``), with the federation directives.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any, Final

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.federation.schema import FederationAny
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import Info

from gateway.security.documents import document_cache
from gateway.security.limits import QueryLimits, limit_rule
from resolvers.charging import types as ct
from resolvers.charging.subscription import Subscription
from resolvers.descriptions import describe
from resolvers.drivers.driver import Driver
from resolvers.errors import shaped_stream
from resolvers.execution.errors import GatewayExecutionContext
from resolvers.execution.names import RememberedNames
from resolvers.execution.phases import GatewayPhases
from resolvers.execution.prepared import PreparedOperations
from resolvers.federation import public_sdl, resolve_entities
from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.scalars import SCALARS
from resolvers.stations import types as t

FEDERATION_VERSION: Final = "2.5"  # the @link version; routers and composition libraries all know it


class GatewaySchema(strawberry.federation.Schema):
    """Logs only what is unexpected: errors we raised on purpose (they carry an ``extensions.code``,
    like BAD_USER_INPUT) and the client's own mistakes (validation, no original exception) are the
    client's business, not an operator's alarm."""

    prepared: PreparedOperations | None = None  # set by build_schema

    # Federation's `_entities`, batched per entity type. Ignored: Strawberry types this resolver as
    # synchronous, but graphql-core awaits what a resolver returns, so a coroutine works as well.
    async def entities_resolver(  # type: ignore[override]
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        return await resolve_entities(info, representations)

    def as_str(self) -> str:
        return public_sdl(self._schema)

    async def stream(self, *args: Any, **kwargs: Any) -> Any:  # WebSocket operations
        return shaped_stream(await super().stream(*args, **kwargs))

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None
            and not (e.extensions and "code" in e.extensions)
            and not isinstance(e.original_error, GraphQLError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


DOCUMENT_CACHE_SIZE = 1024  # parsed and validated documents kept (LRU), so limits run once per text


def build_schema(limits: QueryLimits | None = None) -> GatewaySchema:
    limits = limits or QueryLimits()
    rules: list[type[ASTValidationRule]] = [limit_rule(limits)]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    parser = document_cache(limits.max_tokens, DOCUMENT_CACHE_SIZE)
    validate = lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(validate_document)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[t.Station, t.Connector, t.Operator, ct.ChargingSession, ct.Bill, Driver],
        extensions=[partial(GatewayPhases, parser, limits.max_tokens, rules, validate)],
        # Plain-data selections are completed by compiled closures (documents are cached above);
        # variables that do not coerce are the client's error.
        execution_context_class=GatewayExecutionContext,
        config=StrawberryConfig(
            auto_camel_case=True,
            name_converter=RememberedNames(),
            scalar_map=SCALARS,
            disable_field_suggestions=not limits.field_suggestions,
            batching_config={"max_operations": limits.max_batch} if limits.max_batch else None,
        ),
        federation_version=FEDERATION_VERSION,
    )
    describe(schema._schema)  # every element the code leaves undescribed, from one table
    # Queries seen before skip Strawberry's per-request wrapping, through the same caches.
    schema.prepared = PreparedOperations(schema, parser, rules, validate)
    return schema


def subgraph_sdl(schema: strawberry.Schema) -> str:
    """What ``_service { sdl }`` answers: the subgraph schema with its federation directives."""
    return print_schema(schema)
