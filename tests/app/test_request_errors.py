"""Request errors as GraphQL over HTTP asks, over real HTTP: the client's mistakes (variables that do
not coerce, documents that do not parse, bodies that are not JSON) are 4xx-class errors with a code
(200 under ``application/json``), never an ``INTERNAL_SERVER_ERROR``, and never logged as ERROR."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yarl

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.identity.bearer import issue_token
from gateway.settings.load import AuthSettings, GatewaySettings, Settings

JWT_KEY = "request-errors-jwt-key-0123456789abcdef"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
QR = "query($c: String!) { connectorByQrCode(code: $c) { id } }"
NEAR = "query($lat: Float!) { stations(near: {lat: $lat, lon: 120}, first: 1) { edges { node { id } } } }"
TOP_UP = 'mutation($a: Decimal!) { topUpWallet(input: {amount: $a, idempotencyKey: "k"}) { __typename } }'
DRIVER = {"authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """A gateway without operators: every case here is refused before any upstream call."""
    settings = Settings(gateway=GatewaySettings(mode="dev"), auth=AuthSettings(jwt_key=JWT_KEY))
    async with serving(create_app(settings), bind()) as url, aiohttp.ClientSession() as http:
        yield f"{url}/graphql", http


async def post(
    gateway: tuple[str, aiohttp.ClientSession], body: Any, accept: str, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any]]:
    url, http = gateway
    async with http.post(url, json=body, headers={"accept": accept, **(headers or {})}) as r:
        return r.status, r.content_type, await r.json(content_type=None)


CLIENT_MISTAKES = {
    "missing required variable": ({"query": QR, "variables": {}}, {}, "BAD_USER_INPUT"),
    "a string for a Float": ({"query": NEAR, "variables": {"lat": "abc"}}, {}, "BAD_USER_INPUT"),
    "a Decimal the scalar refuses": ({"query": TOP_UP, "variables": {"a": True}}, DRIVER, "BAD_USER_INPUT"),
    "a list for a String": ({"query": QR, "variables": {"c": [[["x"]]]}}, {}, "BAD_USER_INPUT"),
    "a document that does not parse": ({"query": "{ me { id "}, {}, "GRAPHQL_VALIDATION_FAILED"),
}


@pytest.mark.parametrize("name", list(CLIENT_MISTAKES))
@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_client_mistakes_are_request_errors_with_a_code(
    gateway, caplog: pytest.LogCaptureFixture, name: str, accept: str, status: int
):
    body, headers, code = CLIENT_MISTAKES[name]
    with caplog.at_level(logging.INFO):
        got_status, media, answer = await post(gateway, body, accept, headers)
    assert (got_status, media) == (status, accept)
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code], answer
    assert answer.get("data") is None
    assert "Internal server error" not in str(answer)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 5000, "Unable to parse request body as JSON"),
        (b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 3000 + b"]" * 3000 + b"}}", "as JSON"),
        (b"{bad", "Unable to parse request body as JSON"),
        (b"\xff\xfe", "Unable to parse request body as JSON"),
        (b'"a string"', "must be a JSON object"),
        (b"42", "must be a JSON object"),
        (b'{"query": 1}', "`query` must be a string"),
    ],
)
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_malformed_bodies_get_400_with_a_json_error(
    gateway, caplog: pytest.LogCaptureFixture, body: bytes, message: str, accept: str
):
    url, http = gateway
    with caplog.at_level(logging.INFO):
        async with http.post(url, data=body, headers={"content-type": JSON, "accept": accept}) as r:
            status, media, answer = r.status, r.content_type, await r.json(content_type=None)
    assert (status, media) == (400, accept)
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert message in answer["errors"][0]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_over_deep_get_variables_get_400(gateway):
    url, http = gateway
    query = "query=%7B__typename%7D&variables=" + "%5B" * 5000
    headers = {"apollo-require-preflight": "true"}
    async with http.get(yarl.URL(f"{url}?{query}", encoded=True), headers=headers) as r:
        assert r.status == 400
        assert (await r.json())["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 401)])
async def test_a_mutation_without_a_token_says_what_to_send(gateway, accept: str, status: int):
    body = {"query": TOP_UP, "variables": {"a": "5.00"}}
    got_status, _, answer = await post(gateway, body, accept)
    assert got_status == status
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "send Authorization: Bearer <driver token>" in error["message"]


async def test_a_qr_code_that_is_no_charger_code_names_the_accepted_formats(gateway):
    query = """mutation($in: StartChargingInput!) { startCharging(input: $in) {
      __typename ... on Error { code message } } }"""
    variables = {"in": {"idempotencyKey": "qr-hello", "qrCode": "hello"}}
    _, _, answer = await post(gateway, {"query": query, "variables": variables}, JSON, DRIVER)
    result = answer["data"]["startCharging"]
    assert result["__typename"] == "NotFound", answer
    assert "hlht://{ConnectorID}.{OperatorID}/" in result["message"]
