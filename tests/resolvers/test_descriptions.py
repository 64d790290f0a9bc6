"""Every type, field, argument and enum value of the schema is described (what it is, its unit, when
it is null): a new element without a description fails here until it gets one, in the code
(``strawberry.field(description=…)``) or in ``resolvers/descriptions.py``."""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLSchema

from resolvers.descriptions import DESCRIPTIONS, describe, elements
from resolvers.schema import build_schema


def undescribed(schema: GraphQLSchema) -> list[str]:
    return [coordinate for coordinate, element in elements(schema) if not (element.description or "").strip()]


def test_every_type_field_argument_and_enum_value_is_described():
    missing = undescribed(build_schema()._schema)
    assert not missing, (
        f"{len(missing)} schema elements have no description; describe them in the code "
        f"(strawberry.field(description=...)) or in resolvers/descriptions.py: {', '.join(missing)}"
    )


def test_the_table_holds_only_descriptions_in_use():
    in_schema = dict(elements(build_schema()._schema))
    stale = [c for c in DESCRIPTIONS if c not in in_schema]
    assert not stale, f"no such schema elements (renamed or removed?): {stale}"
    overridden = [c for c in DESCRIPTIONS if in_schema[c].description != DESCRIPTIONS[c]]
    assert not overridden, f"described in the code already, drop them from the table: {overridden}"


@strawberry.enum
class Size(enum.Enum):
    BIG = "big"


@strawberry.type(description="A toy.")
class Toy:
    name: str
    size: Size

    @strawberry.field(description="Heavier?")
    def heavier(self, than: int) -> bool:
        return False


@strawberry.type(description="The root.")
class ToyQuery:
    toy: Toy = strawberry.field(description="The toy.")


def test_an_undescribed_element_is_found_and_the_table_fills_it_in():
    schema = strawberry.Schema(query=ToyQuery)._schema
    assert sorted(undescribed(schema)) == ["Size", "Size.BIG", "Toy.heavier(than)", "Toy.name", "Toy.size"]
    describe(schema, {"Toy.name": "Its name.", "Toy.heavier": "Not used: the code's wins."})
    assert schema.type_map["Toy"].fields["name"].description == "Its name."
    assert schema.type_map["Toy"].fields["heavier"].description == "Heavier?"
    assert "Toy.name" not in undescribed(schema)
