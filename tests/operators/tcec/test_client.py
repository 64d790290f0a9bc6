"""TcecClient against the simulator on loopback: tokens, retries and error translation.

Nothing is mocked. Return codes the simulator has no fault for (4001, 4003, 4004 on demand, 4002
twice) come from a scripted T/CEC server: a real aiohttp app that signs what it is told to answer.
Uses the simulator helper's ``sim_start``/``sim_http`` fixtures from ``conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from operators.base import (
    OperatorAuthError,
    OperatorError,
    OperatorProtocolError,
    OperatorRejected,
    OperatorTimeout,
    OperatorUnavailable,
)
from operators.tcec import codec
from operators.tcec.client import TcecClient
from operators.tcec.profile import PRESETS
from operators.tcec.sim.faults import Faults
from operators.tcec.sim.server import TcecSimulator

SimFactory = Callable[..., Awaitable[TcecSimulator]]
STATUS = "query_station_status"


class FakeClock:
    """A monotonic clock the test moves by hand (the token expiry test must not sleep 2 hours)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tcec_client(http: aiohttp.ClientSession, sim: TcecSimulator, **overrides: Any) -> TcecClient:
    config = sim.config
    kwargs: dict[str, Any] = {
        "http": http,
        "operator_id": config.operator_id,
        "our_operator_id": config.aggregator_operator_id,
        "operator_secret": config.operator_secret,
        "secrets": config.secrets,
        "base_url": sim.base_url,
        "profile": PRESETS["2016"],
        "timeout_s": 2.0,
        "backoff_s": 0.001,
    }
    return TcecClient(**(kwargs | overrides))


def tcec_assert_clean(exc: OperatorError, sim: TcecSimulator, client: TcecClient | None = None) -> None:
    """Error messages never carry secrets or tokens, and always keep their cause."""
    text = str(exc)
    secrets = sim.config.secrets
    for secret in (sim.config.operator_secret, secrets.data_secret, secrets.data_iv, secrets.sig_secret):
        assert secret not in text
    if client is not None and client._token:
        assert client._token not in text
    assert exc.operator_id == sim.config.operator_id


async def test_token_is_fetched_once_and_cached(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim)
    station_id = sim.network.stations[0].id
    for _ in range(3):
        data = await client.call(STATUS, {"StationIDs": [station_id]})
        assert data["StationStatusInfos"][0]["StationID"] == station_id
    assert sim.calls == Counter({"query_token": 1, STATUS: 3})


async def test_concurrent_callers_share_one_token_fetch(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim)
    await asyncio.gather(*(client.call(STATUS, {"StationIDs": []}) for _ in range(10)))
    assert sim.calls["query_token"] == 1


async def test_token_refreshed_shortly_before_expiry(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    clock = FakeClock()
    client = tcec_client(sim_http, sim, clock=clock)
    margin = PRESETS["2016"].token_refresh_margin_s
    await client.call(STATUS, {"StationIDs": []})
    clock.now += 7200 - margin - 1  # still inside the margin-reduced lifetime
    await client.call(STATUS, {"StationIDs": []})
    assert sim.calls["query_token"] == 1
    clock.now += 2  # now within `margin` seconds of TokenAvailableTime
    await client.call(STATUS, {"StationIDs": []})
    assert sim.calls["query_token"] == 2


async def test_refused_token_is_refreshed_and_the_call_retried_once(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    # With re-issue policy "new", a second client with the same account revokes our token (4002).
    sim = await sim_start(token_reissue="new")
    ours, rival = tcec_client(sim_http, sim), tcec_client(sim_http, sim)
    await ours.call(STATUS, {"StationIDs": []})
    await rival.call(STATUS, {"StationIDs": []})
    data = await ours.call(STATUS, {"StationIDs": [sim.network.stations[0].id]})
    assert len(data["StationStatusInfos"]) == 1
    assert sim.calls == Counter({"query_token": 3, STATUS: 4})  # ours: 2 tries of the last call


async def test_wrong_operator_secret_is_an_auth_error(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim, operator_secret="wrong-secret-16b")
    with pytest.raises(OperatorAuthError, match="FailReason 2") as info:
        await client.call(STATUS, {"StationIDs": []})
    assert "wrong-secret-16b" not in str(info.value)
    tcec_assert_clean(info.value, sim)


@pytest.mark.parametrize("fault", ["busy_rate", "error_rate"])
async def test_busy_queries_are_retried_a_bounded_number_of_times(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession, fault: str
) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim, retries=2)
    await client.call(STATUS, {"StationIDs": []})
    sim.faults = Faults(**{fault: 1.0})
    with pytest.raises(OperatorUnavailable, match="Ret (-1|500)") as info:
        await client.call(STATUS, {"StationIDs": []})
    assert sim.calls[STATUS] == 1 + 3
    assert info.value.__cause__ is None  # a protocol answer, not an exception, caused it
    tcec_assert_clean(info.value, sim, client)


async def test_start_charge_is_never_retried(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim, retries=5)
    await client.call(STATUS, {"StationIDs": []})
    sim.faults = Faults(busy_rate=1.0)
    connector = next(iter(sim.network.by_connector))
    payload = {"StartChargeSeq": f"{sim.config.aggregator_operator_id}{'1' * 18}", "ConnectorID": connector}
    with pytest.raises(OperatorUnavailable):
        await client.call("query_start_charge", payload, idempotent=False)
    assert sim.calls["query_start_charge"] == 1


async def test_outage_is_unavailable(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    sim = await sim_start(faults=Faults(down=True))
    client = tcec_client(sim_http, sim)
    with pytest.raises(OperatorUnavailable, match="HTTP 503") as info:
        await client.call(STATUS, {"StationIDs": []})
    assert not isinstance(info.value, OperatorTimeout)
    tcec_assert_clean(info.value, sim)


async def test_connection_refused_is_unavailable(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    await sim.stop()  # the port is closed now
    client = tcec_client(sim_http, sim)
    with pytest.raises(OperatorUnavailable, match="cannot reach") as info:
        await client.call(STATUS, {"StationIDs": []})
    assert isinstance(info.value.__cause__, aiohttp.ClientError)
    tcec_assert_clean(info.value, sim)


async def test_no_answer_is_a_timeout(sim_start: SimFactory, sim_http: aiohttp.ClientSession) -> None:
    sim = await sim_start(faults=Faults(timeout_rate=1.0))
    client = tcec_client(sim_http, sim, timeout_s=0.2)
    with pytest.raises(OperatorTimeout) as info:
        await client.call(STATUS, {"StationIDs": []})
    assert isinstance(info.value.__cause__, TimeoutError)
    tcec_assert_clean(info.value, sim)


@pytest.mark.parametrize(
    ("fault", "cause"),
    [("bad_signature_rate", codec.SignatureError), ("malformed_data_rate", codec.CodecError)],
)
async def test_unverifiable_answers_are_protocol_errors(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession, fault: str, cause: type[Exception]
) -> None:
    sim = await sim_start()
    client = tcec_client(sim_http, sim)
    await client.call(STATUS, {"StationIDs": []})
    sim.faults = Faults(**{fault: 1.0})
    for _ in range(3):  # the malformed fault has three flavours; every one must be caught
        with pytest.raises(OperatorProtocolError) as info:
            await client.call(STATUS, {"StationIDs": []})
        assert isinstance(info.value.__cause__, cause)
        tcec_assert_clean(info.value, sim, client)


async def test_wrong_sig_secret_cannot_verify_the_refusal(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    # The simulator answers 4001, signed with its key; we cannot trust an answer we cannot verify.
    sim = await sim_start()
    wrong = codec.Secrets(sim.config.secrets.data_secret, sim.config.secrets.data_iv, "another-sig-key!")
    with pytest.raises(OperatorProtocolError, match="signature"):
        await tcec_client(sim_http, sim, secrets=wrong).call(STATUS, {"StationIDs": []})


async def test_business_parameter_error_is_rejected(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    sim = await sim_start()
    with pytest.raises(OperatorRejected, match="Ret 4004") as info:
        await tcec_client(sim_http, sim).call(STATUS, {"StationIDs": [str(i) for i in range(51)]})
    tcec_assert_clean(info.value, sim)


# --- scripted server: every Ret on demand ------------------------------------------------------------


class ScriptedOperator:
    """A real T/CEC endpoint that issues tokens and answers business calls with scripted Rets."""

    def __init__(self, sim: TcecSimulator) -> None:
        self.secrets = sim.config.secrets
        self.rets: list[int] = []
        self.calls: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/evcs/{interface}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/evcs"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        interface = request.match_info["interface"]
        self.calls[interface] += 1
        codec.parse_request(await request.json(), self.secrets)
        if interface == "query_token":
            token = {
                "SuccStat": 0,
                "AccessToken": f"token-{self.calls[interface]}",
                "TokenAvailableTime": 7200,
            }
            return web.json_response(codec.build_response(0, "", token, self.secrets))
        ret = self.rets.pop(0) if self.rets else 0
        return web.json_response(
            codec.build_response(ret, "系统消息", {"Status": 0} if ret == 0 else None, self.secrets)
        )


@pytest.fixture
async def tcec_scripted(sim_start: SimFactory) -> AsyncIterator[tuple[ScriptedOperator, TcecSimulator]]:
    sim = await sim_start()  # only for its credentials
    scripted = ScriptedOperator(sim)
    await scripted.start()
    yield scripted, sim
    await scripted.stop()


@pytest.mark.parametrize(
    ("rets", "error", "calls"),
    [
        ([-1, -1, -1], OperatorUnavailable, 3),
        ([500, 500, 500], OperatorUnavailable, 3),
        ([4001], OperatorAuthError, 1),
        ([4002, 4002], OperatorAuthError, 2),
        ([4003], OperatorProtocolError, 1),
        ([4004], OperatorRejected, 1),
        ([4999], OperatorProtocolError, 1),
        ([-1, 0], None, 2),
        ([4002, 0], None, 2),
    ],
)
async def test_every_ret_is_translated(
    tcec_scripted: tuple[ScriptedOperator, TcecSimulator],
    sim_http: aiohttp.ClientSession,
    rets: list[int],
    error: type[OperatorError] | None,
    calls: int,
) -> None:
    scripted, sim = tcec_scripted
    client = tcec_client(sim_http, sim, base_url=scripted.base_url, retries=2)
    scripted.rets = list(rets)
    if error is None:
        assert await client.call("query_station_status", {"StationIDs": []}) == {"Status": 0}
    else:
        with pytest.raises(error, match=f"Ret {rets[-1]}") as info:
            await client.call("query_station_status", {"StationIDs": []})
        assert type(info.value) is error
        assert "token-" not in str(info.value)
    assert scripted.calls["query_station_status"] == calls
    assert scripted.calls["query_token"] == 1 + (rets[0] == 4002)  # one refresh at most


async def test_profile_paths_reach_the_operator(
    sim_start: SimFactory, sim_http: aiohttp.ClientSession
) -> None:
    # A Didi-style layout: the base URL is the bare origin and the profile adds the paths.
    sim = await sim_start(path_prefix="/evcs/v1")
    profile = replace(PRESETS["didi"], token_path="/evcs/v1/query_token")
    client = tcec_client(sim_http, sim, base_url=f"http://127.0.0.1:{sim.port}", profile=profile)
    await client.call(STATUS, {"StationIDs": []})
    assert sim.calls == Counter({"query_token": 1, STATUS: 1})
