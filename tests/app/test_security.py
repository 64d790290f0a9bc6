"""Opening the API to third parties, over real HTTP: keys and scopes, 429 with Retry-After, limits
refused before any upstream call, 413, CSRF, CORS, persisted queries, batching, response types."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
import yarl

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.security.apikeys import NewKey, create_key
from gateway.settings.load import GatewaySettings, SecuritySettings, Settings
from tests.app.conftest import Stack

PEPPER = "test-pepper-0123456789abcdef0123"
READER = create_key(["stations:read"], PEPPER, key_id="reader")
DRIVER_APP = create_key(["drivers:act"], PEPPER, key_id="driver-app")
ADMIN = create_key(["admin"], PEPPER, key_id="ops")
TINY = create_key(["stations:read"], PEPPER, key_id="tiny")
ORIGIN = "https://app.example"
JSON_HEADERS = {"content-type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
STATIONS = "{ stations(near: {lat: 30.274, lon: 120.155}, first: 3) { edges { node { name } } } }"


def table(new: NewKey, **extra: object) -> dict[str, object]:
    r = new.record
    return {"id": r.id, "name": r.name, "scopes": [s.value for s in r.scopes], "hash": r.digest, **extra}


SECURITY = SecuritySettings(
    key_hash_secret=PEPPER,
    api_keys=(table(READER), table(DRIVER_APP), table(ADMIN), table(TINY, rate_per_s=0.01, burst=2)),
    cors_origins=(ORIGIN,),
)


@pytest.fixture
def stack_settings(stack_settings: Settings) -> Settings:
    return replace(stack_settings, security=SECURITY)


def key(new: NewKey) -> dict[str, str]:
    return {**JSON_HEADERS, "x-api-key": new.key}


async def post(stack: Stack, body: object, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    async with stack.http.post(f"{stack.url}/graphql", json=body, headers=headers) as r:
        await r.read()
        return r


def upstream_calls(stack: Stack) -> dict[str, Counter[str]]:
    return {op: Counter(sim.calls) for op, sim in stack.sims.items()}


def nested(depth: int) -> str:
    path = ["connectors" if level % 2 == 0 else "station" for level in range(depth - 2)]
    inner = "id"
    for name in reversed(path):
        inner = f"{name} {{ {inner} }}"
    station_id = "U3RhdGlvbjpNQTFIWlRFU1Q6MQ"  # any ID: nothing may run anyway
    return f'{{ node(id: "{station_id}") {{ ... on Station {{ {inner} }} }} }}'


async def test_a_key_over_its_limit_gets_429_with_retry_after(stack: Stack):
    headers = {**key(TINY), "origin": ORIGIN}
    assert [(await post(stack, {"query": "{ __typename }"}, headers)).status for _ in range(2)] == [200, 200]
    refused = await post(stack, {"query": "{ __typename }"}, headers)
    assert refused.status == 429
    assert refused.headers["retry-after"] == "100"  # one token at 0.01/s
    assert refused.headers["access-control-allow-origin"] == ORIGIN  # the browser may read it
    assert (await refused.json())["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert (await post(stack, {"query": "{ __typename }"}, key(READER))).status == 200  # its own bucket
    assert (await post(stack, {"query": "{ __typename }"}, JSON_HEADERS)).status == 200  # anonymous too


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (nested(30), "MAX_DEPTH_EXCEEDED"),
        ("{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }", "MAX_ALIASES_EXCEEDED"),
        (
            "{ "
            + " ".join(f"s{i}: stations(near: {{lat: 30, lon: 120}}) {{ totalCount }}" for i in range(600))
            + " }",
            "MAX_TOKENS_EXCEEDED",
        ),
    ],
    ids=["30-deep", "1000-aliases", "tokens"],
)
async def test_oversized_queries_are_refused_before_any_upstream_call(stack: Stack, query, code):
    before = upstream_calls(stack)
    legacy = await post(stack, {"query": query}, key(READER))
    assert legacy.status == 200
    body = await legacy.json()
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == [code]
    modern = await post(stack, {"query": query}, {**key(READER), "accept": GRAPHQL_RESPONSE})
    assert modern.status == 400 and modern.content_type == GRAPHQL_RESPONSE
    assert "data" not in await modern.json()
    assert upstream_calls(stack) == before


async def test_large_bodies_get_413(stack: Stack):
    padding = "x" * 200_000
    declared = await post(stack, {"query": "{ __typename }", "extensions": {"pad": padding}}, JSON_HEADERS)
    assert declared.status == 413
    assert (await declared.json())["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # no Content-Length: counted while read
        for _ in range(20):
            yield b" " * 10_000

    async with stack.http.post(f"{stack.url}/graphql", data=chunks(), headers=JSON_HEADERS) as r:
        assert r.status == 413


@pytest.mark.parametrize(
    ("method", "headers", "params", "data"),
    [
        ("GET", {}, {"query": "{ __typename }"}, None),
        ("POST", {"content-type": "text/plain"}, None, '{"query": "{ __typename }"}'),
        ("POST", {"content-type": "application/x-www-form-urlencoded"}, None, "query=%7B__typename%7D"),
        ("POST", {"content-type": "multipart/form-data; boundary=x"}, None, "--x--"),
    ],
)
async def test_simple_requests_are_refused_as_csrf(stack: Stack, method, headers, params, data):
    async with stack.http.request(
        method, f"{stack.url}/graphql", headers=headers, params=params, data=data
    ) as r:
        assert r.status == 400
        body = await r.json()
    assert body["errors"][0]["extensions"]["code"] == "CSRF_BLOCKED"
    assert "apollo-require-preflight" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "query_string",
    [
        "%71uery=%7B__typename%7D",
        "%71%75%65%72%79=%7B__typename%7D",
        "foo=1&query=x&%71uery=%7B__typename%7D",
    ],
)
async def test_encoded_or_repeated_parameter_names_are_refused_as_csrf(stack: Stack, query_string: str):
    url = yarl.URL(f"{stack.url}/graphql?{query_string}", encoded=True)  # sent exactly as written
    async with stack.http.get(url) as r:
        assert r.status == 400
        body = await r.json()
    assert body["errors"][0]["extensions"]["code"] == "CSRF_BLOCKED"


async def test_preflighted_gets_and_the_graphiql_page_pass(stack: Stack):
    url = f"{stack.url}/graphql"
    for headers in ({"apollo-require-preflight": "true"}, {"x-apollo-operation-name": "Q"}):
        async with stack.http.get(url, params={"query": "{ __typename }"}, headers=headers) as r:
            assert r.status == 200 and (await r.json())["data"] == {"__typename": "Query"}
    async with stack.http.get(url, headers={"accept": "text/html"}) as r:
        assert r.status == 200 and r.content_type == "text/html"  # dev mode: GraphiQL


async def test_scopes_are_enforced_once_per_operation(stack: Stack):
    before = upstream_calls(stack)
    refused = await (await post(stack, {"query": STATIONS}, key(DRIVER_APP))).json()
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scopes": ["stations:read"]}
    assert upstream_calls(stack) == before
    for allowed in (READER, ADMIN):
        body = await (await post(stack, {"query": STATIONS}, key(allowed))).json()
        assert len(body["data"]["stations"]["edges"]) == 3, body
    assert (await (await post(stack, {"query": "{ __typename }"}, key(DRIVER_APP))).json())["data"]
    anonymous = await (await post(stack, {"query": STATIONS}, JSON_HEADERS)).json()
    assert len(anonymous["data"]["stations"]["edges"]) == 3  # anonymous station reads are allowed


async def test_a_bad_key_gets_401_and_no_key_is_ever_logged(stack: Stack, caplog):
    caplog.set_level(logging.DEBUG)
    forged = READER.key[:-4] + "abcd"
    refused = await post(stack, {"query": "{ __typename }"}, {**JSON_HEADERS, "x-api-key": forged})
    assert refused.status == 401
    assert (await refused.json())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await post(stack, {"query": STATIONS}, key(READER))).status == 200
    secret_parts = {READER.key.split("_", 2)[2], forged.split("_", 2)[2]}
    assert not any(part in caplog.text for part in secret_parts)
    assert not any(part in repr(SECURITY) for part in secret_parts)  # settings hold hashes only


async def test_a_websocket_with_a_bad_key_is_refused(stack: Stack):
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await stack.http.ws_connect(
            f"{stack.url}/graphql", protocols=["graphql-transport-ws"], headers={"x-api-key": "cg_bad_key"}
        )
    assert caught.value.status in (401, 403)  # 401 when uvicorn has no WebSocket library installed


async def test_automatic_persisted_queries_round_trip(stack: Stack):
    query = "{ operators { protocol } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    miss = await (await post(stack, {"extensions": extensions}, JSON_HEADERS)).json()
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await (await post(stack, {"query": query, "extensions": extensions}, JSON_HEADERS)).json()
    assert registered["data"]["operators"] == [{"protocol": "tcec"}] * 2
    by_hash = await (await post(stack, {"extensions": extensions}, JSON_HEADERS)).json()
    assert by_hash == registered
    params = {"extensions": json.dumps(extensions)}
    async with stack.http.get(
        f"{stack.url}/graphql", params=params, headers={"apollo-require-preflight": "1"}
    ) as r:
        assert (await r.json()) == registered


async def test_batches_are_bounded(stack: Stack):
    ok = await post(
        stack, [{"query": "{ __typename }"}, {"query": "{ operators { protocol } }"}], JSON_HEADERS
    )
    assert [item["data"] for item in await ok.json()] == [
        {"__typename": "Query"},
        {"operators": [{"protocol": "tcec"}] * 2},
    ]
    too_many = await post(stack, [{"query": "{ __typename }"}] * 11, JSON_HEADERS)
    assert too_many.status == 400


async def test_cors_preflight_for_the_configured_origin_only(stack: Stack):
    ask = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-api-key",
    }
    async with stack.http.options(f"{stack.url}/graphql", headers={"origin": ORIGIN, **ask}) as r:
        assert r.status == 200 and r.headers["access-control-allow-origin"] == ORIGIN
        assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
    async with stack.http.options(
        f"{stack.url}/graphql", headers={"origin": "https://evil.example", **ask}
    ) as r:
        assert r.status == 400


@contextlib.asynccontextmanager
async def bare_gateway(security: SecuritySettings) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """A production-mode gateway without operators: the HTTP layer is all these tests need."""
    settings = Settings(gateway=GatewaySettings(mode="production"), security=security)
    async with serving(create_app(settings), bind()) as url, aiohttp.ClientSession() as http:
        yield f"{url}/graphql", http


async def test_production_mode_can_require_a_key_and_hides_the_schema():
    async with bare_gateway(replace(SECURITY, require_api_key=True)) as (url, http):
        async with http.post(url, json={"query": "{ __typename }"}) as r:
            assert r.status == 401
        introspect = {"query": "{ __schema { types { name } } }"}
        async with http.post(url, json=introspect, headers=key(ADMIN)) as r:
            errors = (await r.json())["errors"]
            assert "introspection has been disabled" in errors[0]["message"]
        async with http.post(url, json={"query": "{ operatorz { id } }"}, headers=key(ADMIN)) as r:
            assert "Did you mean" not in (await r.json())["errors"][0]["message"]
        async with http.get(url, headers={"accept": "text/html", "x-api-key": ADMIN.key}) as r:
            assert r.status == 404  # no GraphiQL


async def test_anonymous_callers_are_limited_per_address():
    async with bare_gateway(replace(SECURITY, anonymous_rate_per_s=0.5, anonymous_burst=1)) as (url, http):
        statuses = []
        for _ in range(2):
            async with http.post(url, json={"query": "{ __typename }"}) as r:
                statuses.append((r.status, r.headers.get("retry-after")))
        assert statuses == [(200, None), (429, "2")]
        async with http.post(url, json={"query": "{ __typename }"}, headers=key(READER)) as r:
            assert r.status == 200
