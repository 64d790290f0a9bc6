"""Sessions: idempotent creation under concurrency, monotonic progress, versions, keyset pages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.store import InvalidCursor, PaymentMode, SessionRecord, Store, progress_fields
from operators.domain import SessionPhase, SessionProgress

NewSession = Callable[..., Awaitable[SessionRecord]]


async def test_same_key_returns_the_same_session(store: Store, new_session: NewSession) -> None:
    first, created = await store.create_session(
        driver_id="alice", idempotency_key="k", operator_id="op", connector_id="c1",
        payment_mode=PaymentMode.PREPAID, currency="CNY", max_cost=Decimal("50"), tariff_json='{"t": 1}',
    )  # fmt: skip
    again, created_again = await store.create_session(
        driver_id="alice", idempotency_key="k", operator_id="other", connector_id="c9",
        payment_mode=PaymentMode.POSTPAID, currency="CNY",
    )  # fmt: skip
    assert created and not created_again
    assert again == first
    assert first.status is SessionPhase.STARTING and first.payment_mode is PaymentMode.PREPAID
    assert first.max_cost == Decimal("50") and first.tariff_json == '{"t": 1}' and first.version == 1
    bob, bob_created = await store.create_session(
        driver_id="bob", idempotency_key="k", operator_id="op", connector_id="c1",
        payment_mode=PaymentMode.POSTPAID, currency="CNY",
    )  # fmt: skip
    assert bob_created and bob.id != first.id  # keys are per driver
    assert (await store.get_driver("bob")) is not None  # drivers are created on first sight


async def test_concurrent_creates_with_one_key_make_one_session(store: Store) -> None:
    async def create() -> tuple[str, bool]:
        record, created = await store.create_session(
            driver_id="alice", idempotency_key="tap-twice", operator_id="op", connector_id="c1",
            payment_mode=PaymentMode.POSTPAID, currency="CNY",
        )  # fmt: skip
        return record.id, created

    results = await asyncio.gather(*(create() for _ in range(20)))
    assert len({session_id for session_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    page = await store.list_sessions("alice", first=50)
    assert len(page.items) == 1


async def test_progress_never_goes_backwards(store: Store, new_session: NewSession) -> None:
    session = await new_session()
    started = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    charging = await store.apply_progress(
        session.id, status=SessionPhase.CHARGING, energy_kwh=Decimal("5.5"), cost=Decimal("6.05"),
        power_kw=60.0, soc=40.0, started_at=started,
    )  # fmt: skip
    assert charging is not None
    assert (charging.status, charging.energy_kwh, charging.cost, charging.version) == (
        SessionPhase.CHARGING, Decimal("5.5"), Decimal("6.05"), 2,
    )  # fmt: skip
    # A late, stale report: lower numbers, earlier phase. Nothing moves back; nothing is written.
    stale = await store.apply_progress(
        session.id, status=SessionPhase.STARTING, energy_kwh=Decimal("2"), cost=Decimal("1"),
        started_at=datetime(2025, 1, 1, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    assert stale == charging
    done = await store.apply_progress(
        session.id, status=SessionPhase.COMPLETED, energy_kwh=Decimal("7.25"), cost=Decimal("8.1234"),
        ended_at=datetime(2025, 1, 1, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    assert done is not None and done.terminal and done.started_at == started
    # Terminal is final: no later report re-opens the session.
    after = await store.apply_progress(session.id, status=SessionPhase.CHARGING, power_kw=10.0)
    assert after == done
    failed = await store.apply_progress(session.id, status=SessionPhase.FAILED, failure="late")
    assert failed is not None and failed.status is SessionPhase.COMPLETED
    assert await store.apply_progress("nope", status=SessionPhase.CHARGING) is None


async def test_progress_from_the_domain_model(store: Store, new_session: NewSession) -> None:
    session = await new_session()
    progress = SessionProgress(
        session.id,
        "C1",
        SessionPhase.CHARGING,
        energy_kwh=Decimal("1.234567891"),
        cost=Decimal("1.23"),
        soc=12.5,
    )
    updated = await store.apply_progress(progress.session_ref, **progress_fields(progress))
    assert updated is not None and updated.soc == 12.5
    assert updated.energy_kwh == Decimal("1.234568")  # meter readings are kept to a millionth of a kWh


async def test_update_session_is_optimistic(store: Store, new_session: NewSession) -> None:
    session = await new_session()
    moved = await store.update_session(
        session.id, session.version, status=SessionPhase.STOPPING, operator_ref="R1"
    )
    assert (
        moved is not None and moved.status is SessionPhase.STOPPING and moved.version == session.version + 1
    )
    assert await store.update_session(session.id, session.version, status=SessionPhase.FAILED) is None
    assert (await store.get_session(session.id)) == moved
    with pytest.raises(TypeError):
        await store.update_session(session.id, moved.version, driver_id="mallory")


async def test_lookups_are_scoped_to_the_driver(store: Store, new_session: NewSession) -> None:
    session = await new_session("alice")
    assert await store.get_session_for_driver("alice", session.id) == session
    assert await store.get_session_for_driver("bob", session.id) is None
    assert await store.get_session("missing") is None


async def test_sessions_in_states_for_recovery(store: Store, new_session: NewSession) -> None:
    starting, charging, done = [await new_session() for _ in range(3)]
    await store.apply_progress(charging.id, status=SessionPhase.CHARGING)
    await store.apply_progress(done.id, status=SessionPhase.COMPLETED)
    pending = await store.sessions_in_states(
        [SessionPhase.STARTING, SessionPhase.CHARGING, SessionPhase.STOPPING]
    )
    assert [s.id for s in pending] == [starting.id, charging.id]


async def test_keyset_pagination_newest_first(store: Store, new_session: NewSession) -> None:
    made = [await new_session("alice") for _ in range(7)]
    await new_session("bob")
    everything = await store.list_sessions("alice", first=100)
    assert {s.id for s in everything.items} == {s.id for s in made} and not everything.has_next
    keys = [(s.created_at, s.id) for s in everything.items]
    assert keys == sorted(keys, reverse=True)
    seen, after = [], None
    while True:
        page = await store.list_sessions("alice", first=3, after=after)
        seen.extend(s.id for s in page.items)
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == [s.id for s in everything.items]
    empty = await store.list_sessions("alice", first=0)
    assert empty.items == () and empty.has_next
    with pytest.raises(InvalidCursor):
        await store.list_sessions("alice", first=3, after="not-a-cursor")


async def test_session_events_keep_order_and_payload(store: Store, new_session: NewSession) -> None:
    session = await new_session()
    await store.add_session_event(session.id, "START_REQUESTED", {"cost": Decimal("1.50")})
    await store.add_session_event(session.id, "OPERATOR_ACCEPTED")
    events = await store.session_events(session.id)
    assert [e.kind for e in events] == ["START_REQUESTED", "OPERATOR_ACCEPTED"]
    assert events[0].data == {"cost": "1.50"} and events[1].data == {}
