"""The server stack: uvloop + httptools when installed (the default of ``chargegate serve``), and
the pure-Python fallback; both parsers serve the app alike."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.app.server import FAST, PLAIN, Stack, bind, default_stack, serving

# uvloop and httptools are dependencies; a virtualenv made before they were still runs on the fallback
needs_fast = pytest.mark.skipif(not FAST.available(), reason="uvloop/httptools not installed")


def test_the_default_is_the_fast_stack_when_installed_else_the_fallback() -> None:
    assert PLAIN.available()
    assert default_stack() == (FAST if FAST.available() else PLAIN)
    assert not Stack("nosuchloop", "h11").available()


@needs_fast
def test_a_stack_runs_its_own_event_loop() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert FAST.run(loop_module()).startswith("uvloop")
    assert PLAIN.run(loop_module()).startswith("asyncio")


@pytest.mark.parametrize("http", ["h11", pytest.param("httptools", marks=needs_fast)])
async def test_either_parser_serves_the_app(http: str) -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"got": (await request.json())["x"], "path": request.url.path})

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    async with serving(app, bind(), http=http) as url, aiohttp.ClientSession() as client:
        for i in range(3):  # one keep-alive connection, several requests
            async with client.post(f"{url}/echo", json={"x": i}) as r:
                assert r.status == 200
                assert await r.json() == {"got": i, "path": "/echo"}
