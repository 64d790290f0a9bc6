"""The Redis value codec (tagged JSON, a closed list of types) and the Redis cache built on it."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from gateway.observability.metrics import Metrics
from gateway.rails.bureau.cached import CachedCreditProvider
from gateway.rails.bureau.provider import CreditScore
from gateway.replicas import codec as redis_codec
from gateway.replicas.cache_backend import build_backend
from gateway.settings.load import CacheSettings
from gateway.store import PaymentMode, SessionEndReason, SessionRecord
from gateway.upstream.cache import Cache
from operators.domain import (
    Connector,
    ConnectorState,
    ConnectorStatus,
    ConnectorType,
    GeoPoint,
    PowerType,
    SessionPhase,
    Station,
    StatusSource,
    Tariff,
    TariffExtra,
    TariffPeriod,
)

NOW = datetime(2026, 11, 24, 14, 30, 5, 123456, tzinfo=UTC)
STATE = ConnectorState("C1", ConnectorStatus.CHARGING, NOW, StatusSource.PUSH)
TARIFF = Tariff(
    "CNY",
    (
        TariffPeriod(time(0, 0), Decimal("0.3500"), Decimal("0.40")),
        TariffPeriod(time(8, 30), Decimal("1.2000"), Decimal("0.80")),
    ),
    "Asia/Shanghai",
    (TariffExtra("PARKING", Decimal("5.00"), "hour"),),
)
SCORE = CreditScore("alice", 712, NOW)
STATION = Station(
    "MA1HZTEST",
    "S1",
    "West Lake 1",
    GeoPoint(30.274, 120.155),
    None,
    (
        Connector("C1", "S1", ConnectorType.GBT_DC, PowerType.DC, 120.0, "hlht://C1.MA1HZTEST/"),
        Connector("C2", "S1", ConnectorType.GBT_AC, PowerType.AC, 7.0),
    ),
    updated_at=NOW.astimezone(timezone(timedelta(hours=8))),
)
SESSION = SessionRecord(
    id="cs_1", driver_id="alice", idempotency_key="k1", operator_id="MA1HZTEST", station_id="S1",
    connector_id="C1", operator_ref=None, payment_mode=PaymentMode.POSTPAID, status=SessionPhase.CHARGING,
    currency="CNY", energy_kwh=Decimal("12.345"), cost=Decimal("18.52"), power_kw=60.5, soc=None,
    max_cost=Decimal("300"), max_energy_kwh=None, tariff_json='{"v": 1}', failure=None,
    end_reason=SessionEndReason.COST_CAP, created_at=NOW, started_at=NOW, ended_at=None, updated_at=NOW,
    version=7,
)  # fmt: skip


@pytest.mark.parametrize("value", [STATE, TARIFF, SCORE, STATION, SESSION, None, "x", 3, 2.5, True])
def test_round_trip_is_exact(value):
    back = redis_codec.loads(redis_codec.dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_money_and_time_keep_their_precision_and_offset():
    back = redis_codec.loads(redis_codec.dumps(STATION))
    assert back.updated_at.utcoffset() == timedelta(hours=8)
    tariff = redis_codec.loads(redis_codec.dumps(TARIFF))
    assert str(tariff.periods[0].energy_per_kwh) == "0.3500"  # Decimal, not float
    assert isinstance(tariff.periods, tuple) and hash(tariff.periods[0])


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], object(), b"bytes", datetime.now().date()])
def test_only_known_types_go_in(value):
    with pytest.raises(TypeError):
        redis_codec.dumps(value)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        pickle.dumps(STATE),  # never unpickled
        orjson.dumps({"$": "Popen", "f": {"args": ["sh"]}}),  # a type outside the list
        orjson.dumps({"$": "ConnectorStatus", "f": {}}),  # an enum is not a dataclass
        orjson.dumps({"$e": "Station", "v": "x"}),  # nor a dataclass an enum
        orjson.dumps({"$": "GeoPoint", "f": {"lat": 1.0}}),  # a missing field
        orjson.dumps({"$": "GeoPoint", "f": {"lat": 1.0, "lon": 2.0, "alt": 3.0}}),  # an extra one
        orjson.dumps({"$e": "ConnectorStatus", "v": "EXPLODED"}),  # not a member
        orjson.dumps({"$d": "NaN-ish"}),
        orjson.dumps({"plain": "dict"}),
    ],
)
def test_anything_else_is_refused_on_the_way_out(raw):
    with pytest.raises(ValueError):
        redis_codec.loads(raw)


def test_the_serializer_reads_an_unreadable_value_as_a_miss():
    serializer = redis_codec.DomainSerializer()
    assert serializer.encoding is None  # aiocache must hand us bytes
    assert serializer.loads(b"\x80garbage") is None
    assert serializer.loads(None) is None
    assert serializer.loads(serializer.dumps(STATE)) == STATE


async def test_two_replicas_share_the_redis_cache(redis_settings: CacheSettings):
    a = Cache(build_backend("redis", redis_settings), Metrics())
    b = Cache(build_backend("redis", redis_settings), Metrics())
    try:
        await a.set_many("status", "OP", {"C1": STATE}, ttl=30.0)
        await a.set_many("tariff", "OP", {"C1": TARIFF}, ttl=30.0)
        assert await b.get_many("status", "OP", ["C1", "C2"]) == {"C1": STATE}
        assert await b.get_many("tariff", "OP", ["C1"]) == {"C1": TARIFF}
        # Keys live under the deployment's prefix.
        raw = await b.backend.client.get(f"{redis_settings.redis_prefix}:cache:status:OP:C1")
        assert redis_codec.loads(raw) == STATE
        # A TTL in seconds (float) is honoured.
        await a.set_many("status", "OP", {"C9": STATE}, ttl=0.2)
        await asyncio.sleep(0.4)
        assert await b.get_many("status", "OP", ["C9"]) == {}
        # A value another version wrote that we cannot read is a miss, not an error.
        await b.backend.client.set(f"{redis_settings.redis_prefix}:cache:status:OP:C3", b'{"$": "Gone"}')
        assert await a.get_many("status", "OP", ["C3"]) == {}
    finally:
        await a.close()
        await b.close()


class CountingBureau:
    def __init__(self) -> None:
        self.calls = 0

    async def score(self, driver_id: str) -> CreditScore:
        self.calls += 1
        return CreditScore(driver_id, 700, NOW)


async def test_a_credit_score_fetched_by_one_replica_serves_the_other(redis_settings: CacheSettings):
    bureau = CountingBureau()
    caches = [Cache(build_backend("redis", redis_settings), Metrics()) for _ in range(2)]
    try:
        a, b = (CachedCreditProvider(bureau, cache, 60.0) for cache in caches)
        assert await a.score("alice") == CreditScore("alice", 700, NOW)
        assert await b.score("alice") == CreditScore("alice", 700, NOW)
        assert bureau.calls == 1
        await b.forget("alice")
        await a.score("alice")
        assert bureau.calls == 2
    finally:
        for cache in caches:
            await cache.close()


async def test_with_redis_down_the_cache_is_all_misses_and_requests_carry_on(redis_settings: CacheSettings):
    from dataclasses import replace

    dead = replace(redis_settings, redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.2)
    cache = Cache(build_backend("redis", dead), Metrics())
    try:
        await cache.set_many("status", "OP", {"C1": STATE}, ttl=30.0)  # dropped, no error
        assert await cache.get_many("status", "OP", ["C1"]) == {}
    finally:
        await cache.close()
