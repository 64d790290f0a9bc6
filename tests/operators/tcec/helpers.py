"""Shared helpers of the T/CEC receiver tests: a uvicorn server, the operator side by hand, a sink."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from operators.domain import OperatorEvent
from operators.tcec import codec
from operators.tcec.profile import PRESETS, Profile
from operators.tcec.receiver import TcecReceiver
from operators.tcec.sessions import SessionSeqs

OPERATOR_ID = "MA1G55M8X"
OPERATOR_SECRET = "op-secret-16byte"
OUR_ID = "MA1AGGR01"
SECRETS = codec.Secrets("1234567890abcdef", "fedcba0987654321", "sig-secret-16byt")
CONNECTOR = "11000000000000090000341000"


async def tcec_eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds, failing after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


class TcecServer:
    """A Starlette app on uvicorn, port 0, in this event loop. Routes may be added after start."""

    def __init__(self) -> None:
        self.app = Starlette(routes=[])
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
        )
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        await tcec_eventually(lambda: self._server.started)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


class Pusher:
    """The operator side, by hand: signs and encrypts pushes with the codec."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, now: Callable[[], datetime] | None = None
    ) -> None:
        self.http = http
        self.base = base
        self.now = now  # the operator's clock (None: the real one)
        self.token: str | None = None
        self.seq = codec.SeqCounter()  # §2.1: a new Seq for each push within the same second

    async def post(self, interface: str, body: Any, token: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.http.post(f"{self.base}/{interface}", data=data, headers=headers) as resp:
            assert resp.headers["Content-Type"].startswith("application/json")
            return resp.status, await resp.json(content_type=None)

    async def call(
        self,
        interface: str,
        payload: dict[str, Any],
        *,
        token: str | None = None,
        secrets: codec.Secrets = SECRETS,
    ) -> codec.Response:
        """A signed push; asserts HTTP 200 and a correctly signed answer, returns it decrypted."""
        ts = codec.timestamp(self.now() if self.now else None)
        envelope = codec.build_request(OPERATOR_ID, payload, secrets, ts=ts, seq=self.seq.next(ts))
        status, envelope = await self.post(interface, envelope, token)
        assert status == 200
        return codec.parse_response(envelope, SECRETS)

    async def get_token(self, secret: str = OPERATOR_SECRET) -> codec.Response:
        return await self.call("query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": secret})

    async def push(self, interface: str, payload: dict[str, Any]) -> codec.Response:
        if self.token is None:
            answer = await self.get_token()
            assert answer.data is not None
            self.token = answer.data["AccessToken"]
        return await self.call(interface, payload, token=self.token)


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, OperatorEvent]] = []
        self.fail = False

    async def __call__(self, operator_id: str, event: OperatorEvent) -> None:
        if self.fail:
            raise RuntimeError("inbox is down")
        self.events.append((operator_id, event))


def tcec_receiver(
    server: TcecServer,
    sink: Sink,
    seqs: SessionSeqs,
    profile: Profile = PRESETS["2016"],
    **options: Any,
) -> str:
    receiver = TcecReceiver(
        operator_id=OPERATOR_ID,
        operator_secret=OPERATOR_SECRET,
        secrets=SECRETS,
        profile=profile,
        sink=sink,
        seqs=seqs,
        **options,
    )
    push = receiver.push_app()
    server.app.router.routes.append(Mount(push.prefix, push.app))
    return f"{server.url}/push/tcec/{OPERATOR_ID}"
