"""WebSocket parity with HTTP, over real sockets: the same error codes over graphql-transport-ws, and
the legacy ``graphql-ws`` subprotocol never negotiated (Strawberry's handler for it runs only
subscriptions), so a client offering it first still gets a protocol that runs everything."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.identity.bearer import issue_token
from gateway.settings.load import AuthSettings, GatewaySettings, Settings

JWT_KEY = "websocket-parity-jwt-key-0123456789abcdef"
TRANSPORT_WS = "graphql-transport-ws"
TOP_UP = 'mutation { topUpWallet(input: {amount: "5.00", idempotencyKey: "k"}) { __typename } }'
CASES = {
    "validation": ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
    "missing variable": ("query($c: String!) { connectorByQrCode(code: $c) { id } }", {}, "BAD_USER_INPUT"),
    "mutation without a token": (TOP_UP, {}, "UNAUTHENTICATED"),
}


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    settings = Settings(gateway=GatewaySettings(mode="dev"), auth=AuthSettings(jwt_key=JWT_KEY))
    async with serving(create_app(settings), bind()) as url, aiohttp.ClientSession() as http:
        yield f"{url}/graphql", http


async def over_websocket(
    gateway: tuple[str, aiohttp.ClientSession], query: str, variables: dict[str, Any], protocols: list[str]
) -> tuple[str | None, list[dict[str, Any]]]:
    """The negotiated subprotocol and the errors the operation answered with."""
    url, http = gateway
    async with http.ws_connect(url, protocols=protocols) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        message = await ws.receive_json(timeout=5)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors") or []
        return ws.protocol, errors


@pytest.mark.parametrize("name", list(CASES))
async def test_websocket_errors_carry_the_codes_http_gives(
    gateway, caplog: pytest.LogCaptureFixture, name: str
):
    query, variables, code = CASES[name]
    url, http = gateway
    async with http.post(url, json={"query": query, "variables": variables}) as r:
        over_http = [e["extensions"]["code"] for e in (await r.json())["errors"]]
    with caplog.at_level(logging.INFO):
        _, errors = await over_websocket(gateway, query, variables, [TRANSPORT_WS])
    assert [e.get("extensions", {}).get("code") for e in errors] == over_http == [code]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_client_offering_graphql_ws_first_gets_graphql_transport_ws(gateway, caplog):
    token = issue_token("alice", JWT_KEY)
    url, http = gateway
    with caplog.at_level(logging.INFO):
        async with http.ws_connect(url, protocols=["graphql-ws", TRANSPORT_WS]) as ws:
            assert ws.protocol == TRANSPORT_WS
            await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json({"id": "q", "type": "subscribe", "payload": {"query": "{ operators { id } }"}})
            assert await ws.receive_json(timeout=5) == {
                "id": "q",
                "type": "next",
                "payload": {"data": {"operators": []}},
            }
            assert await ws.receive_json(timeout=5) == {"id": "q", "type": "complete"}
            await ws.send_json({"id": "m", "type": "subscribe", "payload": {"query": TOP_UP}})
            answer = await ws.receive_json(timeout=5)
            assert answer["type"] == "next" and answer["payload"]["data"]["topUpWallet"]["__typename"], answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_graphql_ws_alone_is_not_negotiated(gateway, caplog):
    url, http = gateway
    with caplog.at_level(logging.INFO):
        async with http.ws_connect(url, protocols=["graphql-ws"]) as ws:
            assert ws.protocol is None
            message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
