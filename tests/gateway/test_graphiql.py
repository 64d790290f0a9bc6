"""GraphiQL works offline: the gateway serves the page and every asset, and headless Chromium renders
the editor with the network to the outside world off; queries and subscriptions run from the page
with the headers of its headers editor.

Chromium is Debian's (``scripts/chromium.sh`` apt-installs it when missing), driven over the
DevTools protocol (a WebSocket) with the ``websockets`` client the project already depends on. The
screenshot of the rendered page is left at ``$CHARGEGATE_GRAPHIQL_SCREENSHOT`` when that is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from gateway.app.asgi import create_app
from gateway.app.graphiql import ASSETS
from gateway.app.server import bind, serving
from gateway.identity.bearer import issue_token
from gateway.settings.load import AuthSettings, GatewaySettings, Settings

ROOT = Path(__file__).resolve().parents[2]
JWT_KEY = "graphiql-test-jwt-key-0123456789abcdef"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,800",
    "--remote-debugging-port=0",
]
DEADLINE_S = 60.0  # a first start of Chromium on a loaded machine is slow
EDITOR = ".graphiql-query-editor .CodeMirror"


def chromium() -> str:
    found = subprocess.run(
        ["bash", str(ROOT / "scripts" / "chromium.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(f"scripts/chromium.sh could not provide Chromium:\n{found.stderr}")
    return found.stdout.strip().splitlines()[-1]


class Page:
    """One browser tab over the DevTools protocol."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        await self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"{expression} still {value!r} after {DEADLINE_S}s")
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    with tempfile.TemporaryDirectory(prefix="chargegate-chromium-", ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the helper processes end with it
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + DEADLINE_S
            while not (port_file.exists() and port_file.read_text().strip()):
                assert loop.time() < deadline, "Chromium did not open its DevTools port"
                await asyncio.sleep(0.1)
            port = port_file.read_text().split()[0]
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/json/list") as r:
                targets = await r.json()
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with websockets.connect(url, max_size=None) as ws:
                yield Page(ws)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def test_the_page_loads_nothing_from_elsewhere():
    page = (ASSETS / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("graphiql/") for s in sources), sources
    for source in sources:
        assert (ASSETS / source.removeprefix("graphiql/")).is_file(), source
    versions = (ASSETS / "VERSIONS").read_text(encoding="utf-8")
    for package in ("react", "react-dom", "graphiql", "graphql-ws"):
        assert re.search(rf"^{package}@\d+\.\d+\.\d+$", versions, re.M), package
        assert (ASSETS / f"LICENSE.{package}").is_file()


async def test_graphiql_renders_offline_and_runs_operations_with_its_headers():
    settings = Settings(gateway=GatewaySettings(mode="dev"), auth=AuthSettings(jwt_key=JWT_KEY))
    token = issue_token("alice", JWT_KEY)
    async with serving(create_app(settings), bind()) as url, browser_page() as page:
        await page.call("Page.enable")
        await page.call("Page.navigate", url=f"{url}/graphql")
        assert await page.wait_for(f"document.querySelector({EDITOR!r}) !== null")
        assert await page.evaluate("document.title") == "chargegate · GraphiQL"
        # Introspection over HTTP filled the docs: the schema's types are known to the editor.
        await page.wait_for("document.querySelector('.graphiql-container') !== null")

        run = """(async () => {{
            const result = await window.chargegateFetcher({{query: {query!r}}}, {{headers: {headers}}});
            if (result && result[Symbol.asyncIterator]) {{ for await (const item of result) return item; }}
            return result;
        }})()"""
        bearer = json.dumps({"Authorization": f"Bearer {token}"})
        anonymous = await page.evaluate(run.format(query="{ me { id } }", headers="{}"))
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", anonymous
        signed_in = await page.evaluate(run.format(query="{ me { id } }", headers=bearer))
        assert "errors" not in signed_in and "me" in signed_in["data"], (
            signed_in
        )  # over HTTP, with the header
        subscription = 'subscription { chargingSession(id: "Q2hhcmdpbmdTZXNzaW9uH3g") { status } }'
        without = await page.evaluate(run.format(query=subscription, headers="{}"))
        assert without["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", without
        with_token = await page.evaluate(run.format(query=subscription, headers=bearer))
        assert with_token["errors"][0]["extensions"]["code"] == "NOT_FOUND", with_token  # over WebSocket

        shot = await page.call("Page.captureScreenshot", format="png")
        if os.environ.get("CHARGEGATE_GRAPHIQL_SCREENSHOT"):
            import base64

            Path(os.environ["CHARGEGATE_GRAPHIQL_SCREENSHOT"]).write_bytes(base64.b64decode(shot["data"]))
