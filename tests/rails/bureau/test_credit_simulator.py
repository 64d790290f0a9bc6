"""The credit-bureau simulator on its own: determinism, configuration, faults, start/stop."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from gateway.rails.bureau.provider import SCORE_MAX, SCORE_MIN
from gateway.rails.bureau.sim.server import BureauConfig, BureauFaults, CreditBureauSimulator, derived_score


def test_derived_scores_are_stable_in_range_and_seeded():
    drivers = [f"driver-{i}" for i in range(500)]
    scores = [derived_score(1, d) for d in drivers]
    assert scores == [derived_score(1, d) for d in drivers]
    assert all(SCORE_MIN <= s <= SCORE_MAX for s in scores)
    assert len(set(scores)) > 200  # spread over the range, not a constant
    assert any(s >= 600 for s in scores) and any(s < 600 for s in scores)
    assert scores != [derived_score(2, d) for d in drivers]
    assert derived_score(1, "dave") == 309  # pinned: the demo's "other driver" must not drift


def test_default_config_knows_the_demo_drivers():
    sim = CreditBureauSimulator()
    assert [sim.score_of(d) for d in ("alice", "bob", "carol")] == [720, 480, 520]
    assert sim.score_of("zed") == derived_score(1, "zed")
    table_only = CreditBureauSimulator(BureauConfig(scores={"x": 700}, derive_unknown=False))
    assert (table_only.score_of("x"), table_only.score_of("alice")) == (700, None)


def test_config_scores_are_read_only_and_copied():
    scores = {"x": 700}
    config = BureauConfig(scores=scores)
    scores["x"] = 300
    assert config.scores["x"] == 700
    with pytest.raises(TypeError):
        config.scores["x"] = 1  # type: ignore[index]
    sim = CreditBureauSimulator(config)
    sim.set_score("x", 650)
    assert sim.score_of("x") == 650 and config.scores["x"] == 700


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"api_key": ""}, "api_key"),
        ({"scores": {"x": 299}}, "score of 'x'"),
        ({"scores": {"x": 851}}, "score of 'x'"),
        ({"scores": {"x": True}}, "score of 'x'"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BureauConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"timeout_rate": -0.1}, "timeout"),
    ],
)
def test_fault_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BureauFaults(**kwargs)


def test_faults_updated_from_json():
    faults = BureauFaults().updated({"error_rate": 1, "down": True})
    assert faults == BureauFaults(error_rate=1.0, down=True)
    assert faults.to_json() == {"latency_ms": 0.0, "error_rate": 1.0, "timeout_rate": 0.0, "down": True}
    for bad in ([], {"nope": 1}, {"down": 1}, {"latency_ms": "5"}, {"error_rate": True}):
        with pytest.raises(ValueError):
            BureauFaults().updated(bad)


def test_set_score_bounds():
    sim = CreditBureauSimulator()
    with pytest.raises(ValueError):
        sim.set_score("alice", 900)
    sim.set_score("alice", None)
    assert sim.score_of("alice") is None


async def test_error_rate_dice_are_seeded(http):
    async def outcomes(seed: int) -> list[int]:
        config = BureauConfig(api_key="k", seed=seed, faults=BureauFaults(error_rate=0.5))
        async with CreditBureauSimulator(config) as sim:
            statuses = []
            for _ in range(12):
                async with http.get(
                    f"{sim.base_url}/v1/scores/alice", headers={"Authorization": "Bearer k"}
                ) as r:
                    statuses.append(r.status)
            return statuses

    first = await outcomes(3)
    assert first == await outcomes(3)
    assert set(first) == {200, 500}


async def test_start_twice_and_restart():
    sim = CreditBureauSimulator()
    async with sim:
        with pytest.raises(RuntimeError, match="already started"):
            await sim.start()
    await sim.stop()  # idempotent
    async with sim:
        assert sim.port > 0


async def test_stop_releases_hung_requests_at_once(http):
    sim = CreditBureauSimulator(BureauConfig(api_key="k", faults=BureauFaults(timeout_rate=1.0)))
    await sim.start()
    url = f"{sim.base_url}/v1/scores/alice"
    request = asyncio.create_task(http.get(url, headers={"Authorization": "Bearer k"}))
    async with asyncio.timeout(5):
        while sim.calls["alice"] == 0:
            await asyncio.sleep(0.01)
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 1.5  # not the 2 s shutdown timeout, let alone HANG_S
    try:
        async with asyncio.timeout(5):
            resp = await request
        status: int | None = resp.status
        resp.release()
    except aiohttp.ClientError:
        status = None  # the connection was closed under the request
    assert status in (None, 503)
