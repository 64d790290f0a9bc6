"""The fake operator's push endpoint: a plain ASGI app, no web framework, as the port allows.

``POST {prefix}/status`` with ``{"connector": "S0001-1", "status": "FAULTED"}`` sets a connector's
status as :meth:`FakeOperator.set_status` does (which pushes it to the sink); 204 when taken, 400 for
a body that is not that, 404 for an unknown connector or path, 405 for another method.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from operators.asgi import ASGIApp, Receive, Scope, Send
from operators.domain import ConnectorStatus

SetStatus = Callable[[str, ConnectorStatus], Awaitable[None]]


def status_app(known: Callable[[str], bool], set_status: SetStatus) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        if path != "/status":
            await answer(send, 404, "no such endpoint")
        elif scope["method"] != "POST":
            await answer(send, 405, "POST only")
        else:
            try:
                body = json.loads(await read(receive))
                connector, status = str(body["connector"]), ConnectorStatus(body["status"])
            except (ValueError, KeyError, TypeError) as exc:
                await answer(send, 400, f"bad push: {exc}")
                return
            if not known(connector):
                await answer(send, 404, f"unknown connector {connector}")
                return
            await set_status(connector, status)
            await answer(send, 204, "")

    return app


async def read(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def answer(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode() if error else b""
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
