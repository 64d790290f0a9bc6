"""Fixtures for the T/CEC simulator tests: a raw aggregator-side client and a tiny push receiver.

Everything talks real HTTP on loopback with the codec; nothing is mocked. Fixture names start with
``sim_`` so they cannot clash with the adapter's fixtures.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from operators.tcec import codec
from operators.tcec.sessions import SessionSeqs
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator
from tests.operators.tcec.helpers import OUR_ID, Pusher, Sink, TcecServer, tcec_receiver

SIM_SECRETS = codec.Secrets("1234567890abcdef", "fedcba0987654321", "sig-secret-16byt")
SIM_OPERATOR_ID = "MA1SIMTC1"
SIM_OPERATOR_SECRET = "op-secret-16byte"
AGGREGATOR_ID = "MA1AGGR01"


class SimClient:
    """The aggregator side, by hand: builds envelopes with the codec and checks every answer."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, operator_id: str = AGGREGATOR_ID) -> None:
        self.http = http
        self.base_url = base_url
        self.operator_id = operator_id
        self._token: str | None = None

    async def raw(self, interface: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.http.post(f"{self.base_url}/{interface}", data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None) if resp.status == 200 else None

    async def call(self, interface: str, payload: dict[str, Any], token: str | None = None) -> codec.Response:
        status, envelope = await self.raw(
            interface, codec.build_request(self.operator_id, payload, SIM_SECRETS), token
        )
        assert status == 200
        return codec.parse_response(envelope, SIM_SECRETS)

    async def token(self, secret: str = SIM_OPERATOR_SECRET) -> str:
        response = await self.call("query_token", {"OperatorID": self.operator_id, "OperatorSecret": secret})
        assert response.ret == 0 and response.data is not None
        assert response.data["SuccStat"] == 0, response.data
        return str(response.data["AccessToken"])

    async def query(self, interface: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A business call that must succeed (Ret 0); returns the decrypted Data."""
        if self._token is None:
            self._token = await self.token()
        response = await self.call(interface, payload, self._token)
        assert response.ret == 0, (response.ret, response.msg)
        assert response.data is not None
        return response.data


class PushReceiver:
    """A minimal aggregator notification endpoint: query_token plus every O→A interface.

    Records each verified push per interface and answers as the spec says; ``confirm_results`` is
    the sequence of ConfirmResult values given to successive charge orders (then 0).
    """

    def __init__(self) -> None:
        self.token = "receiver-token-0001"  # change it to make the simulator's cached token stale
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.token_requests = 0
        self.confirm_results: list[int] = []
        self.arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify/{interface}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/notify"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, interface: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait (with a deadline) until ``count`` pushes of ``interface`` have arrived."""
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received[interface]) >= count)
        return self.received[interface]

    async def _handle(self, request: web.Request) -> web.Response:
        interface = request.match_info["interface"]
        try:
            req = codec.parse_request(await request.json(), SIM_SECRETS)
        except codec.CodecError:
            return self._reply(4001, None)
        if req.operator_id != SIM_OPERATOR_ID:
            return self._reply(4003, None)
        if interface == "query_token":
            self.token_requests += 1
            ok = req.data.get("OperatorSecret") == SIM_OPERATOR_SECRET
            answer = {"OperatorID": SIM_OPERATOR_ID, "SuccStat": 0 if ok else 1, "TokenAvailableTime": 7200,
                      "AccessToken": self.token if ok else "", "FailReason": 0 if ok else 2}  # fmt: skip
            return self._reply(0, answer)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(4002, None)
        data = req.data
        answer: dict[str, Any]
        if interface == "notification_stationStatus":
            answer = {"Status": 0}
        elif interface == "notification_charge_order_info":
            result = self.confirm_results.pop(0) if self.confirm_results else 0
            answer = {"StartChargeSeq": data["StartChargeSeq"], "ConnectorID": data["ConnectorID"],
                      "ConfirmResult": result}  # fmt: skip
        elif interface == "check_charge_orders":
            answer = {"CheckOrderSeq": data["CheckOrderSeq"], "StartTime": data["StartTime"],
                      "EndTime": data["EndTime"], "TotalDisputeOrder": 0, "TotalDisputePower": 0,
                      "TotalDisputeMoney": 0, "DisputeOrders": []}  # fmt: skip
        else:
            answer = {"StartChargeSeq": data.get("StartChargeSeq"), "SuccStat": 0, "FailReason": 0}
        async with self.arrived:
            self.received[interface].append(data)
            self.arrived.notify_all()
        return self._reply(0, answer)

    @staticmethod
    def _reply(ret: int, payload: dict[str, Any] | None) -> web.Response:
        return web.json_response(codec.build_response(ret, "", payload, SIM_SECRETS))


def sim_base_config(**overrides: Any) -> SimulatorConfig:
    config = SimulatorConfig(
        operator_id=SIM_OPERATOR_ID,
        operator_secret=SIM_OPERATOR_SECRET,
        secrets=SIM_SECRETS,
        stations=40,
        seed=7,
        aggregator_operator_id=AGGREGATOR_ID,
    )
    return replace(config, **overrides)


SimFactory = Callable[..., Awaitable[TcecSimulator]]


@pytest.fixture
async def sim_http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        yield http


@pytest.fixture
async def sim_start() -> AsyncIterator[SimFactory]:
    """``await sim_start(**config_overrides)`` → a started simulator, stopped at teardown."""
    started: list[TcecSimulator] = []

    async def start(**overrides: Any) -> TcecSimulator:
        sim = TcecSimulator(sim_base_config(**overrides))
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim_server(sim_start: SimFactory) -> TcecSimulator:
    """A simulator with the default test config (40 stations, seed 7, no pushes)."""
    return await sim_start()


@pytest.fixture
def sim_client(sim_server: TcecSimulator, sim_http: aiohttp.ClientSession) -> SimClient:
    return SimClient(sim_http, sim_server.base_url)


@pytest.fixture
def sim_secrets() -> codec.Secrets:
    return SIM_SECRETS


@pytest.fixture
def sim_client_for(sim_http: aiohttp.ClientSession) -> Callable[[TcecSimulator], SimClient]:
    """A fresh aggregator-side client for a given simulator."""
    return lambda sim: SimClient(sim_http, sim.base_url)


@pytest.fixture
async def sim_receiver() -> AsyncIterator[PushReceiver]:
    receiver = PushReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


# --- the receiver tests: a uvicorn server and the operator side by hand (helpers) -----------


@pytest.fixture
async def tcec_http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        yield http


@pytest.fixture
async def tcec_server() -> AsyncIterator[TcecServer]:
    server = TcecServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def tcec_seqs() -> SessionSeqs:
    return SessionSeqs(OUR_ID)


@pytest.fixture
def tcec_sink() -> Sink:
    return Sink()


@pytest.fixture
def tcec_pusher(
    tcec_server: TcecServer, tcec_http: aiohttp.ClientSession, tcec_sink: Sink, tcec_seqs: SessionSeqs
) -> Pusher:
    return Pusher(tcec_http, tcec_receiver(tcec_server, tcec_sink, tcec_seqs))
