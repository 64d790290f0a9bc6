"""Compiled completion answers exactly what graphql-core's stock completion answers: data, nulls,
errors and paths, for plain values, fragments on abstract types and every kind of surprise; and
every fallback to the stock path is counted with its reason. (The differential test over generated
operations on the real schema is ``test_compiled_differential.py``.)"""

from __future__ import annotations

import enum
import logging
import math
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
import strawberry

from gateway.observability.metrics import Metrics
from resolvers.execution.compiled import CompiledExecutionContext


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


@strawberry.interface
class Leafy:
    @strawberry.field
    def count(self) -> int:
        return len(self.leaves)  # type: ignore[attr-defined]

    @strawberry.field
    def weigh(self, plus: int = 0) -> int:
        return len(self.leaves) + plus  # type: ignore[attr-defined]


@strawberry.type
class Tree(Leafy):
    id: strawberry.ID
    label: str | None
    leaves: list[Leaf]
    maybe: list[Leaf | None] | None
    first: Leaf | None


Thing = Annotated[Tree | Leaf, strawberry.union("Thing")]


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

    @strawberry.field
    def thing(self) -> Thing | None:  # puts the union in the schema
        return None


def schema(compiled_completion: bool) -> strawberry.Schema:
    kwargs = {"execution_context_class": CompiledExecutionContext} if compiled_completion else {}
    return strawberry.Schema(query=Query, **kwargs)


def fresh_compiled() -> strawberry.Schema:
    """A schema no earlier test has run a plan on."""
    return schema(True)


STOCK, COMPILED = schema(False), schema(True)

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
    "an enum member's value": (EVERYTHING, lambda: tree(leaf("a", color="blue"))),
    "a custom scalar that refuses": (EVERYTHING, lambda: tree(leaf("a", at="2026-01-02"))),
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


FRAGMENTS_ON_ABSTRACT_TYPES = """
fragment OnThing on Thing { __typename ... on Tree { label } }
query {
  tree {
    id
    ... on Thing { __typename ... on Tree { id } ... on Leaf { name } }
    ...OnThing
    ... on Leafy { count }
    leaves { ... on Named { name } ... on Thing { ... on Leaf { size } ... on Tree { id } } }
  }
}
"""


async def counted(schema: strawberry.Schema, query: str) -> tuple[Any, Any, dict[str, float]]:
    """The answer and the fallbacks counted while running ``query`` (by reason)."""
    metrics = Metrics()
    context = SimpleNamespace(runtime=SimpleNamespace(metrics=metrics))
    result = await schema.execute(query, context_value=context)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    fallbacks = {
        sample.labels["reason"]: sample.value
        for metric in metrics.registry.collect()
        if metric.name == "chargegate_compiled_fallbacks"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    return result.data, errors, fallbacks


async def test_fragments_on_unions_and_interfaces_apply_as_the_spec_says():
    CURRENT["tree"] = tree(leaf("a"), leaf("b"))
    data, errors, fallbacks = await counted(fresh_compiled(), FRAGMENTS_ON_ABSTRACT_TYPES)
    assert fallbacks == {}  # the compiled path answered
    assert (data, errors) == await run(STOCK, FRAGMENTS_ON_ABSTRACT_TYPES)
    leaves = [{"name": "a", "size": 3}, {"name": "b", "size": 3}]
    assert data["tree"] == {"id": "T1", "__typename": "Tree", "label": None, "count": 2, "leaves": leaves}


@pytest.mark.parametrize(
    ("query", "make", "reason"),
    [
        ("{ tree { id label @skip(if: true) } }", lambda: tree(), "directives"),
        ("{ tree { leaves { name } } }", lambda: tree(leaf(None)), "value"),  # type: ignore[arg-type]
        ("{ tree { weigh(plus: 1) } }", lambda: tree(leaf()), "field arguments"),
    ],
)
async def test_every_fallback_is_counted_and_logged_with_its_reason(
    query: str, make: Any, reason: str, caplog: pytest.LogCaptureFixture
):
    CURRENT["tree"] = make()
    with caplog.at_level(logging.DEBUG, logger="resolvers.execution.compiled"):
        data, errors, fallbacks = await counted(fresh_compiled(), query)
    assert fallbacks == {reason: 1.0}
    [line] = [r.getMessage() for r in caplog.records if r.name == "resolvers.execution.compiled"]
    assert line.startswith(f"compiled completion fell back at tree ({reason}): ")
    assert (data, errors) == await run(STOCK, query)


async def test_plain_selections_are_compiled_and_not_counted():
    CURRENT["tree"] = tree(leaf("a"))
    data, errors, fallbacks = await counted(fresh_compiled(), EVERYTHING)
    assert fallbacks == {}
    assert (data, errors) == await run(STOCK, EVERYTHING)
