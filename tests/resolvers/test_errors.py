"""Bad input is a typed error, never a 500: arguments out of range, documents that do not validate,
requests that are not GraphQL requests at all (moved here from the simulator-backed app tests: none
of it depends on an operator's protocol)."""

from __future__ import annotations

import pytest

from tests.inprocess import InProcess


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ stations(near: {lat: 91, lon: 0}) { totalCount } }", "BAD_USER_INPUT"),
        ("{ stations(near: {lat: 30, lon: 120}, radiusKm: -1) { totalCount } }", "BAD_USER_INPUT"),
        ("{ stations(near: {lat: 30, lon: 120}, radiusKm: 1e9) { totalCount } }", "BAD_USER_INPUT"),
        ("{ stations(near: {lat: 30, lon: 120}, first: 0) { totalCount } }", "BAD_USER_INPUT"),
        ("{ stations(near: {lat: 30, lon: 120}, first: 100000) { totalCount } }", "BAD_USER_INPUT"),
        ('{ stations(near: {lat: 30, lon: 120}, after: "garbage") { totalCount } }', "BAD_USER_INPUT"),
        ("{ stations(near: {lat: 30}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ stations(near: {lat: 30, lon: 120}) { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ stations(", "GRAPHQL_VALIDATION_FAILED"),
        ("{ node(id: 5) { id } }", None),
    ],
)
async def test_bad_graphql_input_gets_a_typed_error(gateway: InProcess, query: str, code: str | None):
    response = await gateway.client.post("/graphql", json={"query": query})
    assert response.status_code in (200, 400)
    body = response.json()
    if code is None:  # ID accepts an int literal: a valid query that finds nothing
        assert body["data"] == {"node": None}
        return
    assert body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("POST", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("POST", {"json": {"nothing": 1}}),
        ("POST", {"json": [1, 2]}),
        ("POST", {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}),
        ("GET", {"params": {"query": "{ operators { id }"}}),
        ("POST", {"json": {"query": "{ operators { id } }", "variables": "nope"}}),
        ("PUT", {"json": {"query": "{ operators { id } }"}}),
    ],
)
async def test_malformed_requests_are_4xx_not_5xx(gateway: InProcess, method: str, kwargs: dict):
    response = await gateway.client.request(method, "/graphql", **kwargs)
    assert 200 <= response.status_code < 500, response.text
