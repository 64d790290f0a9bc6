"""resolvers.execution.arguments converts arguments exactly as Strawberry does, for every root field
of the real schema it takes on, and leaves the rest to Strawberry."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import parse
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.types.arguments import convert_arguments

from resolvers.execution.arguments import converter
from resolvers.schema import build_schema
from resolvers.stations import types as t

SCHEMA = build_schema()

# Root fields and the argument values to convert (GraphQL names), as a client sends them.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("Query", "stations", {"near": {"lat": 30.2, "lon": 120.1}}),
    (
        "Query",
        "stations",
        {
            "near": {"lat": 30.2, "lon": 120.1},
            "radiusKm": 12.5,
            "first": 3,
            "after": "abc",
            "orderBy": "ESTIMATED_COST",
            "energyKwh": "30.5",
            "vehicleMaxPowerKw": 60,
            "startAt": "2026-12-03T08:00:00Z",
            "filter": {
                "availableOnly": True,
                "minPowerKw": 50,
                "connectorTypes": ["GBT_DC", "CCS2"],
                "powerTypes": ["DC"],
                "operatorIds": ["MA1"],
            },
        },
    ),
    ("Query", "stations", {"near": {"lat": 0, "lon": 0}, "filter": {"connectorTypes": None}}),
    ("Query", "stations", {"near": {"lat": 0, "lon": 0}, "filter": {}}),
    ("Query", "node", {"id": "U3RhdGlvbjp4"}),
    ("Query", "connectorByQrCode", {"code": "hlht://x/"}),
    ("Query", "railMismatches", {"open": False, "first": 3}),
    ("Query", "me", {}),
]


ENUM_NAMES = {"ESTIMATED_COST", "GBT_DC", "CCS2", "DC"}


def literal(value: Any) -> str:
    """A GraphQL literal (enums as names) for a Python value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value in ENUM_NAMES:
        return value
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def argument_values(type_name: str, field_name: str, values: dict[str, Any]) -> dict[str, Any]:
    gql = SCHEMA._schema
    args = ", ".join(f"{k}: {literal(v)}" for k, v in values.items())
    document = parse(f"{{ {field_name}{f'({args})' if args else ''} {{ __typename }} }}", no_location=True)
    node = document.definitions[0].selection_set.selections[0]
    variables = get_variable_values(gql, (), {})
    assert not isinstance(variables, list)
    return get_argument_values(gql.get_type(type_name).fields[field_name], node, variables)


def strawberry_field(type_name: str, field_name: str) -> Any:
    definition = SCHEMA.get_type_by_name(type_name)
    return next(
        f for f in definition.fields if SCHEMA.config.name_converter.get_graphql_name(f) == field_name
    )


@pytest.mark.parametrize(("type_name", "field_name", "values"), CASES)
def test_the_conversion_is_strawberrys(type_name: str, field_name: str, values: dict[str, Any]):
    field = strawberry_field(type_name, field_name)
    arguments = argument_values(type_name, field_name, values)
    ours = converter(field, SCHEMA.config, SCHEMA.schema_converter.scalar_registry)
    assert ours is not None
    theirs = convert_arguments(
        arguments,
        field.arguments,
        scalar_registry=SCHEMA.schema_converter.scalar_registry,
        config=SCHEMA.config,
    )
    converted = ours(arguments)
    assert converted == theirs
    assert [type(v) for v in converted.values()] == [type(v) for v in theirs.values()]


def test_the_search_arguments_become_the_resolvers_types():
    arguments = argument_values("Query", "stations", CASES[1][2])
    converted = converter(
        strawberry_field("Query", "stations"), SCHEMA.config, SCHEMA.schema_converter.scalar_registry
    )
    assert converted is not None
    kwargs = converted(arguments)
    assert isinstance(kwargs["near"], t.GeoPointInput)
    assert isinstance(kwargs["filter"], t.StationFilter)
    assert kwargs["order_by"] is t.StationOrder.ESTIMATED_COST
    assert kwargs["energy_kwh"] == Decimal("30.5")
    assert kwargs["start_at"] == datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert kwargs["filter"].connector_types == [t.ConnectorType.GBT_DC, t.ConnectorType.CCS2]
    # copied, as Strawberry copies lists of leaves (graphql-core may hand out one default list)
    assert kwargs["filter"].connector_types is not arguments["filter"]["connectorTypes"]


def test_types_it_does_not_know_are_left_to_strawberry():
    @strawberry.type
    class Query:
        @strawberry.field
        def node(self, id: strawberry.relay.GlobalID) -> int:
            return 1

        @strawberry.field
        def maybe(self, x: strawberry.Maybe[int]) -> int:
            return 1

    schema = strawberry.Schema(query=Query)
    for field in schema.get_type_by_name("Query").fields:
        assert converter(field, schema.config, schema.schema_converter.scalar_registry) is None
