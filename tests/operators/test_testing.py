"""The in-memory operator's own surface: its table, its network, faults, and what it pushes.

What it shares with every adapter is tested by the contract suite (test_contract.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from operators import registry
from operators.base import OperatorConfigError, OperatorRejected, OperatorTimeout, OperatorUnavailable
from operators.domain import ConnectorState, ConnectorStatus, FinalOrder, SessionPhase, SessionProgress
from operators.testing import FakeOperator, FakeSettings, Faults, parse_settings


class Sink:
    def __init__(self) -> None:
        self.events: list[object] = []

    async def __call__(self, operator_id: str, event: object) -> None:
        assert operator_id == "FK"
        self.events.append(event)


def idle(fake: FakeOperator, skip: int = 0) -> str:
    return [cid for cid, s in fake.statuses.items() if s is ConnectorStatus.AVAILABLE][skip]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({}, "id"),
        ({"id": "FK", "stations": 0}, "stations"),
        ({"id": "FK", "center": [31.2]}, "center"),
        ({"id": "FK", "timeout_s": "soon"}, "timeout_s"),
        ({"id": "FK", "step_kwh": "lots"}, "step_kwh"),
    ],
)
def test_a_bad_table_names_its_key(table, key):
    with pytest.raises(OperatorConfigError) as caught:
        parse_settings(table)
    assert caught.value.key == key


def test_the_registry_knows_the_fake_and_refuses_unknown_keys():
    registry.check({"id": "FK", "protocol": "fake", "stations": 3}, "http://gateway")
    with pytest.raises(OperatorConfigError) as caught:
        registry.check({"id": "FK", "protocol": "fake", "stattions": 3}, "http://gateway")
    assert caught.value.key == "stattions"


def network(seed: int) -> tuple[object, ...]:
    fake = FakeOperator(FakeSettings("FK", seed=seed))
    stations = [replace(s, updated_at=None) for s in fake.stations.values()]  # the fake's clock
    return stations, fake.statuses, fake.tariff_of


def test_the_same_seed_is_the_same_network():
    assert network(4) == network(4)
    assert network(4)[0] != network(5)[0]


async def test_faults_hit_only_the_methods_named():
    fake = FakeOperator(FakeSettings("FK", timeout_s=0.05))
    some = list(fake.stations)[:2]
    fake.faults = Faults(down=True, methods=frozenset({"tariffs"}))
    assert await fake.connector_statuses(some)
    with pytest.raises(OperatorUnavailable):
        await fake.tariffs(list(fake.tariff_of))
    fake.faults = Faults(slow_s=10.0)
    with pytest.raises(OperatorTimeout) as caught:
        await fake.connector_statuses(some)
    assert caught.value.operator_id == "FK"
    assert fake.calls == {"connector_statuses": 2, "tariffs": 1}


async def test_a_session_pushes_its_progress_the_connector_and_then_its_order():
    sink = Sink()
    fake = FakeOperator(FakeSettings("FK"), sink)
    connector = idle(fake)
    started = await fake.start_session("ref-1", connector)
    assert started.phase is SessionPhase.STARTING
    assert await fake.start_session("ref-1", connector) == started  # one ref, one session
    with pytest.raises(OperatorRejected):
        await fake.start_session("ref-2", connector)  # busy now
    await fake.charge("ref-1", Decimal("3.25"))
    await fake.stop_session("ref-1", connector)
    order = await fake.finish("ref-1", reason="full")
    kinds = [(type(e).__name__, getattr(e, "phase", getattr(e, "status", None))) for e in sink.events]
    assert kinds == [
        ("ConnectorState", ConnectorStatus.CHARGING),
        ("SessionProgress", SessionPhase.CHARGING),
        ("SessionProgress", SessionPhase.COMPLETED),
        ("ConnectorState", ConnectorStatus.AVAILABLE),
        ("FinalOrder", None),
    ]
    assert isinstance(sink.events[-1], FinalOrder) and sink.events[-1] == order
    assert order.energy_kwh == Decimal("3.25") and order.stop_reason == "full"
    assert order.total == sum(line.amount for line in order.lines) > 0
    assert order.total == (await fake.session_status("ref-1")).cost


async def test_the_autopilot_charges_and_ends_a_stopped_session():
    sink = Sink()
    fake = FakeOperator(FakeSettings("FK", autopilot_s=0.01, step_kwh=Decimal("1")), sink)
    connector = idle(fake)
    await fake.start_session("ref-1", connector)
    async with asyncio.timeout(5):
        while (await fake.session_status("ref-1")).energy_kwh < 2:
            await asyncio.sleep(0.01)
        await fake.stop_session("ref-1", connector)
        while not any(isinstance(e, FinalOrder) for e in sink.events):
            await asyncio.sleep(0.01)
    await fake.aclose()
    progress = [e for e in sink.events if isinstance(e, SessionProgress)]
    assert progress[-1].phase is SessionPhase.COMPLETED
    assert [e.status for e in sink.events if isinstance(e, ConnectorState)][-1] is ConnectorStatus.AVAILABLE
