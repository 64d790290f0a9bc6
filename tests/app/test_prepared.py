"""Prepared operations (resolvers/execution/prepared.py) answer exactly what the stock path answers.

A query text is run by Strawberry's view the first time it is seen and by the prepared path from
the second time on, so sending the same request twice compares the two paths: same status, same
content type and length, same bytes. ``schema.prepared.runs`` says which path ran.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gateway.identity.bearer import issue_token
from gateway.settings.load import AuthSettings, BreakerSettings, Settings
from operators.tcec.sim.faults import Faults
from tests.app.conftest import CENTERS, SH, Stack

JWT_KEY = "prepared-operations-jwt-key-0123456789"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

SEARCH = """query Search($near: GeoPointInput!, $radiusKm: Float!, $first: Int!) {
  stations(near: $near, radiusKm: $radiusKm, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor distanceKm node { id name operator { id name } location { lat lon }
      connectors { id type powerType maxPowerKw status statusUpdatedAt
        currentPrice { totalPerKwh { amount currency } } } } }
  }
}"""
BOTH = """{ stations(near: {lat: 30.75, lon: 120.8}, radiusKm: 150, first: 100) {
  totalCount edges { node { operator { name }
    connectors { status currentPrice { totalPerKwh { amount } } } } } } }"""
SH_VARS = {"near": {"lat": CENTERS[SH][0], "lon": CENTERS[SH][1]}, "radiusKm": 20.0, "first": 5}


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    # The breaker stays closed: a failing operator fails every request the same way.
    return replace(
        stack_settings,
        breaker=BreakerSettings(failure_threshold=1000, reset_after_s=60),
        auth=AuthSettings(jwt_key=JWT_KEY),
    )


Answer = tuple[int, str, str, bytes]  # status, content type, content length, body


async def answer(stack: Stack, body: Any, headers: dict[str, str] | None = None) -> Answer:
    async with stack.http.post(f"{stack.url}/graphql", json=body, headers=headers or {}) as r:
        return r.status, r.headers["content-type"], r.headers["content-length"], await r.read()


async def both_paths(stack: Stack, body: Any, headers: dict[str, str] | None = None) -> tuple[Answer, Answer]:
    prepared = stack_prepared(stack)
    before = prepared.runs
    stock = await answer(stack, body, headers)
    assert prepared.runs == before, "a text seen for the first time takes the stock path"
    fast = await answer(stack, body, headers)
    assert prepared.runs == before + 1, "the second time, the prepared path"
    return stock, fast


def stack_prepared(stack: Stack) -> Any:
    routes = [r for r in stack.app.routes if getattr(r, "path", "") == "/graphql"]
    return routes[0].endpoint.prepared


DRIVER = {"authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}
FORGED = {"authorization": f"Bearer {issue_token('alice', 'another-key-0123456789abcdef-xyz')}"}

CASES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "station search": ({"query": SEARCH, "variables": SH_VARS, "operationName": "Search"}, {}),
    "search, graphql-response+json": ({"query": SEARCH, "variables": SH_VARS}, {"accept": GRAPHQL_RESPONSE}),
    "unknown node": ({"query": '{ node(id: "U3RhdGlvbjp4") { id } }'}, {}),
    "operators": ({"query": "{ operators { id name protocol } }"}, {}),
    "a field error (radius)": (
        {"query": SEARCH, "variables": {**SH_VARS, "radiusKm": -1.0}},
        {"accept": GRAPHQL_RESPONSE},
    ),
    "variables that do not coerce": (
        {"query": SEARCH, "variables": {**SH_VARS, "first": "abc"}},
        {"accept": GRAPHQL_RESPONSE},
    ),
    "variables that do not coerce, JSON": ({"query": SEARCH, "variables": {**SH_VARS, "first": "abc"}}, {}),
    "a missing variable": ({"query": SEARCH, "variables": {"near": SH_VARS["near"]}}, {}),
    "an admin query, anonymous": ({"query": "{ railMismatches { id } }"}, {"accept": GRAPHQL_RESPONSE}),
    "a driver query, anonymous": ({"query": "{ me { id } }"}, {"accept": GRAPHQL_RESPONSE}),
    "a driver query, signed in": ({"query": "{ me { id } }"}, DRIVER),
    "a driver query, forged token": ({"query": "{ me { id } }"}, FORGED),
    "the operation named": (
        {"query": "query A { operators { id } } query B { operators { name } }", "operationName": "B"},
        {},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_the_prepared_path_answers_what_the_stock_path_answers(stack: Stack, name: str):
    body, headers = CASES[name]
    stock, fast = await both_paths(stack, body, headers)
    assert fast == stock


async def test_a_failing_operator_gives_the_same_partial_data_and_error(stack: Stack):
    # Refused at once (no busy retries with random back-off to reorder the two calls' errors).
    stack.sims[SH].faults = Faults(down=True)
    stock, fast = await both_paths(stack, {"query": BOTH})
    assert b"OPERATOR_UNAVAILABLE" in stock[3]
    assert fast == stock


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"query": 'mutation { signOut(refreshToken: "x") }'}, {}),  # mutations: the stock path
        ({"query": "{ operators { id } }"}, {"accept": "text/event-stream"}),  # a streaming transport
        ({"query": "{ operators { id } }", "extensions": {"x": 1}}, {}),  # persisted queries and the like
        ({"query": "{ operators { id "}, {}),  # does not parse
        ({"query": "{ operators { nope } }"}, {}),  # does not validate
        ({"query": "query A { operators { id } } query B { operators { id } }"}, {}),  # which one?
    ],
)
async def test_what_is_not_prepared_always_takes_the_stock_path(
    stack: Stack, body: Any, headers: dict[str, str]
):
    prepared = stack_prepared(stack)
    before = prepared.runs
    first = await answer(stack, body, headers)
    second = await answer(stack, body, headers)
    assert prepared.runs == before
    assert first == second


async def test_prepared_operations_are_timed_under_their_name(stack: Stack):
    for _ in range(3):
        await answer(stack, {"query": SEARCH, "variables": SH_VARS, "operationName": "Search"})
    assert stack_prepared(stack).runs >= 2
    async with stack.http.get(f"{stack.url}/metrics") as r:
        text = await r.text()
    assert 'chargegate_graphql_request_seconds_count{operation="Search"} 3.0' in text


FRAGMENTED = """fragment S on Station { id name }
query($near: GeoPointInput!) { stations(near: $near, first: 3) { edges { node { ...S } } } }"""


@pytest.mark.parametrize(
    ("body", "direct"),
    [
        ({"query": SEARCH, "variables": SH_VARS}, True),  # one root field, a compiled plan
        ({"query": SEARCH, "variables": {**SH_VARS, "radiusKm": -1.0}}, False),  # raises: graphql-core
        ({"query": SEARCH, "variables": {**SH_VARS, "first": "abc"}}, False),  # does not coerce
        ({"query": FRAGMENTED, "variables": {"near": SH_VARS["near"]}}, False),  # a fragment definition
        ({"query": '{ operators { id } node(id: "x") { id } }'}, False),  # two root fields
    ],
)
async def test_which_prepared_operations_run_directly(stack: Stack, body: Any, direct: bool):
    prepared = stack_prepared(stack)
    stock, fast = await both_paths(stack, body)
    assert fast == stock
    before = prepared.direct_runs
    again = await answer(stack, body)
    assert again == stock
    assert prepared.direct_runs == before + int(direct)
