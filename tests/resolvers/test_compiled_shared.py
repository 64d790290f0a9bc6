"""Shared values (``@shared`` types): compiled completion reuses an object's response to the same
selection, and only when nothing below it can change: the same object, attributes only."""

from __future__ import annotations

import gc
import itertools
import weakref
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pytest
import strawberry
from graphql import DocumentNode, ExecutionResult, execute, parse
from graphql.pyutils import is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.execution import compiled
from resolvers.execution.compiled import CompiledExecutionContext, shared

TICKS = itertools.count()


@shared
@strawberry.type
class Rate:
    amount: Decimal
    currency: str


@shared
@strawberry.type
class Place:
    name: str
    rate: Rate

    @strawberry.field
    def visits(self) -> int:  # not a function of the object: a resolver reads anything
        return next(TICKS)


@strawberry.type
class Spot:
    name: str
    rate: Rate | None
    place: Place


CURRENT: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def spots(self) -> list[Spot]:
        return CURRENT["spots"]


SCHEMA = strawberry.Schema(query=Query, execution_context_class=CompiledExecutionContext)
STOCK = strawberry.Schema(query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext)


def spot(name: str, rate: Rate | None, place: Place) -> Spot:
    return Spot(name=name, rate=rate, place=place)


@lru_cache
def document(query: str) -> DocumentNode:
    return parse(query)  # plans are compiled per document: the gateway caches parsed texts too


async def data(query: str, schema: strawberry.Schema = SCHEMA) -> Any:
    result = execute(schema._schema, document(query), executor_class=schema.execution_context_class)
    if is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    assert not result.errors, result.errors
    return result.data


async def test_the_same_object_reuses_its_response_and_answers_what_graphql_core_answers():
    rate = Rate(amount=Decimal("1.20"), currency="CNY")
    place = Place(name="p", rate=rate)
    CURRENT["spots"] = [spot("a", rate, place), spot("b", rate, place), spot("c", None, place)]
    query = "{ spots { name rate { amount currency } place { name rate { amount } } } }"
    first, second = await data(query), await data(query)
    assert first == second == await data(query, STOCK)
    assert first["spots"][0]["rate"] is first["spots"][1]["rate"] is second["spots"][0]["rate"]
    assert first["spots"][0]["place"] is second["spots"][2]["place"]


async def test_a_new_object_gets_its_own_response():
    place = Place(name="p", rate=Rate(amount=Decimal("1.00"), currency="CNY"))
    CURRENT["spots"] = [spot("a", Rate(amount=Decimal("1.20"), currency="CNY"), place)]
    query = "{ spots { rate { amount } } }"
    assert (await data(query))["spots"][0]["rate"] == {"amount": "1.20"}
    CURRENT["spots"] = [spot("a", Rate(amount=Decimal("2.50"), currency="CNY"), place)]
    assert (await data(query))["spots"][0]["rate"] == {"amount": "2.50"}


async def test_each_selection_has_its_own_response():
    rate = Rate(amount=Decimal("1.20"), currency="CNY")
    CURRENT["spots"] = [spot("a", rate, Place(name="p", rate=rate))]
    assert (await data("{ spots { rate { amount } } }"))["spots"][0]["rate"] == {"amount": "1.20"}
    assert (await data("{ spots { rate { currency } } }"))["spots"][0]["rate"] == {"currency": "CNY"}


async def test_a_resolver_below_a_shared_object_runs_every_time():
    rate = Rate(amount=Decimal("1.20"), currency="CNY")
    CURRENT["spots"] = [spot("a", rate, Place(name="p", rate=rate))]
    query = "{ spots { place { name visits rate { amount } } } }"
    first, second = await data(query), await data(query)
    assert first["spots"][0]["place"]["visits"] != second["spots"][0]["place"]["visits"]
    assert first["spots"][0]["place"]["rate"] is second["spots"][0]["place"]["rate"]  # still shared


async def test_remembered_responses_are_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(compiled, "MAX_SHARED", 2)
    place = Place(name="p", rate=Rate(amount=Decimal("1"), currency="CNY"))
    first = Rate(amount=Decimal("1.20"), currency="CNY")
    gone = weakref.ref(first)
    CURRENT["spots"] = [spot("a", first, place)]
    query = "{ spots { rate { amount } } }"
    await data(query)
    del first
    for n in range(3):  # more objects than the memory holds: it forgets the first
        CURRENT["spots"] = [spot("a", Rate(amount=Decimal(n), currency="CNY"), place)]
        await data(query)
    CURRENT.clear()
    gc.collect()
    assert gone() is None


def test_the_gateways_shared_types_are_declared():
    from resolvers.stations import types as t

    assert {t.Money, t.Price, t.GeoPoint, t.Operator, t.Station, t.Tariff} <= compiled.SHARED
    assert t.Connector not in compiled.SHARED  # rebuilt with its station: remembering it would only cost
