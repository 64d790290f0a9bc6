"""Compiled completion answers exactly what graphql-core's stock completion answers: data, nulls,
errors and paths, for plain values and for every kind of surprise."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import strawberry

from gateway.security.documents import CachedDocument, document_cache
from resolvers import compiled
from resolvers.compiled import CompiledExecutionContext


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    name: str
    size: int
    ratio: float
    flag: bool
    color: Color
    price: Decimal
    at: datetime | None
    tags: list[str]
    parent: strawberry.Private[Any] = None

    @strawberry.field
    def up(self) -> Tree:
        return self.parent


@strawberry.type
class Tree:
    id: strawberry.ID
    label: str | None
    leaves: list[Leaf]
    maybe: list[Leaf | None] | None
    first: Leaf | None


def leaf(name: str = "a", **changes: Any) -> Leaf:
    values: dict[str, Any] = {
        "name": name,
        "size": 3,
        "ratio": 0.5,
        "flag": True,
        "color": Color.BLUE,
        "price": Decimal("1.20"),
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "tags": ["x", "y"],
    }
    values.update(changes)
    return Leaf(**values)


def tree(*leaves: Leaf, **changes: Any) -> Tree:
    values: dict[str, Any] = {
        "id": "T1",
        "label": None,
        "leaves": list(leaves),
        "maybe": [leaves[0] if leaves else None, None],
        "first": leaves[0] if leaves else None,
    }
    values.update(changes)
    t = Tree(**values)
    for item in leaves:
        item.parent = t
    return t


CURRENT: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def tree(self) -> Tree:
        return CURRENT["tree"]

    @strawberry.field
    def trees(self) -> list[Tree | None]:
        return CURRENT["trees"]


def schema(compiled_completion: bool) -> strawberry.Schema:
    kwargs = {"execution_context_class": CompiledExecutionContext} if compiled_completion else {}
    return strawberry.Schema(query=Query, **kwargs)


STOCK, COMPILED = schema(False), schema(True)
PARSE = document_cache(10_000, 64)

EVERYTHING = """
fragment L on Leaf { name size ratio flag color price at tags kind: __typename up { id } }
query {
  tree { __typename id label leaves { ...L } maybe { ... on Leaf { name } } first { alias: name ...L } }
}
"""
ROOT_LIST = "{ trees { id leaves { name color } } }"

CASES = {
    "plain": (EVERYTHING, lambda: tree(leaf("a"), leaf("b", at=None, color=Color.RED))),
    "empty lists": (EVERYTHING, lambda: tree()),
    "null in a non-null leaf": (EVERYTHING, lambda: tree(leaf("a"), leaf(None))),  # type: ignore[arg-type]
    "NaN float": (EVERYTHING, lambda: tree(leaf("a", ratio=math.nan))),
    "int float": (EVERYTHING, lambda: tree(leaf("a", ratio=2))),
    "int out of range": (EVERYTHING, lambda: tree(leaf("a", size=2**40))),
    "not an enum member": (EVERYTHING, lambda: tree(leaf("a", color="green"))),
    "a string for a list": (EVERYTHING, lambda: tree(leaf("a", tags="xy"))),
    "a null list item": (EVERYTHING, lambda: tree(leaf("a"), leaves=[leaf("b"), None])),
    "a number for a string": (EVERYTHING, lambda: tree(leaf(7))),  # type: ignore[arg-type]
    "root list": (ROOT_LIST, lambda: [tree(leaf("a")), None, tree()]),
    "root list with a bad item": (ROOT_LIST, lambda: [tree(leaf("a", color=1)), tree()]),
    "skip directive": ("{ tree { id label @skip(if: true) leaves { name } } }", lambda: tree(leaf())),
}


async def run(schema: strawberry.Schema, query: str) -> tuple[Any, Any]:
    result = await schema.execute(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("name", list(CASES))
async def test_compiled_completion_answers_what_graphql_core_answers(name: str):
    query, make = CASES[name]
    value = make()
    CURRENT["tree"] = value if isinstance(value, Tree) else None
    CURRENT["trees"] = value if isinstance(value, list) else []
    assert await run(COMPILED, query) == await run(STOCK, query)


async def test_plain_selections_are_compiled_to_generated_code():
    document = PARSE(EVERYTHING)
    assert isinstance(document, CachedDocument)
    CURRENT["tree"] = tree(leaf("a"))
    before = sum(len(p) for p in compiled._PLANS.values())
    await run(COMPILED, EVERYTHING)
    plans = [entry[2] for p in compiled._PLANS.values() for entry in p.values()]
    assert sum(len(p) for p in compiled._PLANS.values()) >= before
    assert any(p is not None and p.__code__.co_filename == "<compiled selection>" for p in plans)


def test_parsed_documents_are_their_own_cache_keys():
    parse = document_cache(1000, 4)
    one, two = parse("{ tree { id } }"), parse("{ tree { id } }")
    assert one is two
    assert one.kind == "document"
    assert hash(one) == object.__hash__(one)
    assert one == two and one != parse("{ tree { label } }")
