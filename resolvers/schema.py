"""The schema: Query (and, as they land, Mutation and Subscription) plus our extensions."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers import types as t
from resolvers.errors import ErrorShaping
from resolvers.query import Query
from resolvers.timing import OperationTiming


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[t.Station, t.Connector, t.Operator],
        extensions=[ErrorShaping, OperationTiming],
        config=StrawberryConfig(auto_camel_case=True),
    )
