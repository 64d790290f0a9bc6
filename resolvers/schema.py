"""The schema: Query, Mutation and Subscription, plus our extensions.

``build_schema()`` without arguments is the production schema (introspection and field suggestions
off, default query limits); ``chargegate export-schema`` prints the same SDL whatever the limits.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ValidationCache
from strawberry.schema.config import StrawberryConfig

from gateway.security.authz import ScopeCheck
from gateway.security.documents import CachedParsing, document_cache
from gateway.security.limits import QueryLimits, limit_rule
from resolvers import charging_types as ct
from resolvers import types as t
from resolvers.errors import ErrorShaping
from resolvers.execution import GatewayExecutionContext
from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.scalars import SCALARS
from resolvers.subscription import Subscription
from resolvers.timing import OperationTiming


class GatewaySchema(strawberry.Schema):
    """Logs only what is unexpected: errors we raised on purpose (they carry an ``extensions.code``,
    like BAD_USER_INPUT) and the client's own mistakes (validation, no original exception) are the
    client's business, not an operator's alarm."""

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


def build_schema(limits: QueryLimits | None = None) -> strawberry.Schema:
    limits = limits or QueryLimits()
    rules: list[type[ASTValidationRule]] = [limit_rule(limits)]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[t.Station, t.Connector, t.Operator, ct.ChargingSession, ct.Bill],
        extensions=[
            ErrorShaping,
            OperationTiming,
            partial(CachedParsing, document_cache(limits.max_tokens, DOCUMENT_CACHE_SIZE), limits.max_tokens),
            partial(AddValidationRules, rules),
            partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
            ScopeCheck,
        ],
        # Plain-data selections are completed by compiled closures (documents are cached above);
        # variables that do not coerce are the client's error.
        execution_context_class=GatewayExecutionContext,
        config=StrawberryConfig(
            auto_camel_case=True,
            scalar_map=SCALARS,
            disable_field_suggestions=not limits.field_suggestions,
            batching_config={"max_operations": limits.max_batch} if limits.max_batch else None,
        ),
    )
