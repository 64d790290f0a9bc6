"""HttpCreditProvider against the bureau simulator over real loopback HTTP (nothing mocked)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from gateway.rails.bureau.http import HttpCreditProvider, parse_answer
from gateway.rails.bureau.provider import CreditUnavailable
from gateway.rails.bureau.sim.server import BureauConfig, BureauFaults, CreditBureauSimulator, derived_score

AT = datetime(2025, 1, 1, tzinfo=UTC)
BUREAU_KEY = "test-bureau-key-0123456789"  # the conftest's bureau; asserted below


async def test_demo_driver_score(provider, bureau):
    before = datetime.now(UTC)
    answer = await provider.score("alice")
    assert answer.driver_id == "alice" and answer.score == 720
    assert before <= answer.fetched_at <= datetime.now(UTC)
    assert bureau.calls["alice"] == 1


async def test_other_drivers_get_a_stable_derived_score(provider, bureau):
    assert bureau.config.api_key == BUREAU_KEY
    first = await provider.score("dave")
    assert first.score == derived_score(bureau.config.seed, "dave") == (await provider.score("dave")).score


async def test_driver_ids_are_escaped_in_the_path(provider, bureau):
    bureau.set_score("fleet 42/ü?x", 610)
    assert (await provider.score("fleet 42/ü?x")).score == 610
    assert bureau.calls["fleet 42/ü?x"] == 1


async def test_unknown_driver_is_no_score(http):
    config = BureauConfig(api_key=BUREAU_KEY, derive_unknown=False)
    async with CreditBureauSimulator(config) as sim:
        provider = HttpCreditProvider(http, sim.base_url, BUREAU_KEY)
        answer = await provider.score("nobody")
        assert answer.driver_id == "nobody" and answer.score is None
        assert (await provider.score("carol")).score == 520


async def test_wrong_or_missing_key_is_unavailable_and_never_leaks_the_key(http, bureau):
    for key in ("wrong-key-xyz", ""):
        provider = HttpCreditProvider(http, bureau.base_url, key)
        with pytest.raises(CreditUnavailable) as info:
            await provider.score("alice")
        assert info.value.reason == "auth" and "401" in str(info.value)
        assert "wrong-key-xyz" not in str(info.value) and BUREAU_KEY not in str(info.value)


@pytest.mark.parametrize(
    ("faults", "reason", "status"),
    [
        (BureauFaults(down=True), "down", "503"),
        (BureauFaults(error_rate=1.0), "down", "500"),
    ],
)
async def test_bureau_failures_are_unavailable(provider, bureau, faults, reason, status):
    bureau.faults = faults
    with pytest.raises(CreditUnavailable) as info:
        await provider.score("alice")
    assert info.value.reason == reason and status in str(info.value)


@pytest.mark.parametrize("faults", [BureauFaults(timeout_rate=1.0), BureauFaults(latency_ms=2000)])
async def test_a_slow_bureau_times_out_within_the_timeout(http, bureau, faults):
    bureau.faults = faults
    provider = HttpCreditProvider(http, bureau.base_url, BUREAU_KEY, timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(CreditUnavailable) as info:
        await provider.score("alice")
    assert info.value.reason == "timeout" and "0.2 s" in str(info.value)
    assert time.monotonic() - started < 1.0


async def test_nobody_listening_is_down(http):
    sim = CreditBureauSimulator(BureauConfig(api_key=BUREAU_KEY))
    async with sim:
        url = sim.base_url
    with pytest.raises(CreditUnavailable) as info:
        await HttpCreditProvider(http, url, BUREAU_KEY, timeout_s=1.0).score("alice")
    assert info.value.reason == "down" and "unreachable" in str(info.value)


async def test_a_404_that_is_not_the_bureaus_is_a_bad_answer(http, bureau):
    provider = HttpCreditProvider(http, f"{bureau.base_url}/wrong-prefix", BUREAU_KEY)
    with pytest.raises(CreditUnavailable) as info:
        await provider.score("alice")
    assert info.value.reason == "bad_answer"


async def test_the_fault_admin_endpoint_and_its_auth(http, bureau, provider):
    url = f"{bureau.base_url}/_sim/faults"
    async with http.post(url, json={"down": True}) as resp:
        assert resp.status == 401
    headers = {"Authorization": f"Bearer {BUREAU_KEY}"}
    async with http.post(url, json={"down": True}, headers=headers) as resp:
        assert resp.status == 200 and (await resp.json())["down"] is True
    with pytest.raises(CreditUnavailable):
        await provider.score("alice")
    async with http.post(url, json={"down": "yes"}, headers=headers) as resp:
        assert resp.status == 400
    async with http.post(url, json={"down": False}, headers=headers) as resp:
        assert resp.status == 200
    async with http.put(f"{bureau.base_url}/_sim/scores/alice", json={"score": 640}, headers=headers) as resp:
        assert resp.status == 200
    assert (await provider.score("alice")).score == 640
    async with http.put(
        f"{bureau.base_url}/_sim/scores/alice", json={"score": 9000}, headers=headers
    ) as resp:
        assert resp.status == 400


async def test_concurrent_requests(provider, bureau):
    drivers = [f"driver-{i}" for i in range(20)]
    answers = await asyncio.gather(*(provider.score(d) for d in drivers))
    assert [a.score for a in answers] == [derived_score(bureau.config.seed, d) for d in drivers]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, b"not json", "bad_answer"),
        (200, b"[]", "bad_answer"),
        (200, b'{"driverId": "bob", "score": 700}', "bad_answer"),  # somebody else's score
        (200, b'{"driverId": "alice", "score": "720"}', "bad_answer"),
        (200, b'{"driverId": "alice", "score": true}', "bad_answer"),
        (200, b'{"driverId": "alice", "score": 720.5}', "bad_answer"),
        (200, b'{"driverId": "alice", "score": 299}', "bad_answer"),
        (200, b'{"driverId": "alice", "score": 851}', "bad_answer"),
        (200, b'{"driverId": "alice", "score": 1, "pad": "' + b"x" * 70000 + b'"}', "bad_answer"),
        (404, b"<html>not found</html>", "bad_answer"),
        (403, b"", "auth"),
        (302, b"", "down"),
        (502, b"<html>bad gateway</html>", "down"),
    ],
)
def test_parse_answer_rejects(status, body, reason):
    with pytest.raises(CreditUnavailable) as info:
        parse_answer("alice", status, body, AT)
    assert info.value.reason == reason
    assert "<html>" not in str(info.value)


@pytest.mark.parametrize(
    ("status", "body", "score"),
    [
        (200, b'{"driverId": "alice", "score": 720, "asOf": "2025-01-01T00:00:00Z"}', 720),
        (200, b'{"driverId": "alice", "score": 300}', 300),
        (200, b'{"driverId": "alice", "score": 850}', 850),
        (200, b'{"driverId": "alice", "score": null}', None),
        (404, b'{"error": "unknown_driver"}', None),
    ],
)
def test_parse_answer_accepts(status, body, score):
    answer = parse_answer("alice", status, body, AT)
    assert (answer.driver_id, answer.score, answer.fetched_at) == ("alice", score, AT)


async def test_timeout_must_be_positive(http):
    with pytest.raises(ValueError, match="timeout_s"):
        HttpCreditProvider(http, "http://127.0.0.1:9", "k", timeout_s=0)


async def test_latency_under_the_timeout_still_answers(provider, bureau):
    bureau.faults = BureauFaults(latency_ms=30)
    assert (await provider.score("bob")).score == 480
