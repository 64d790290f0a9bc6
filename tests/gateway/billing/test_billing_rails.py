"""Sessions and bills on a credit rail, end to end against the rail simulators on SQLite and PostgreSQL:
authorised at start for the cap, collected at settlement, cancelled without a bill, declined, and —
across kill-and-restart, lost answers and duplicate notifications — never lost and never collected
twice (counted in the simulator's own books)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest

from gateway.billing import BillingService, BillRecord, BillStatus, KeyConflict, PaymentMode, PaymentStatus
from gateway.billing.admin import Resolution
from gateway.billing.rails import MAX_ATTEMPTS, RETRY_AFTER_S, Enrolment, RailBilling
from gateway.rails.alipay import zhima
from gateway.rails.alipay.client import AlipayClient
from gateway.rails.bureau.check import CreditCheck
from gateway.rails.bureau.decision import DenialReason, Denied
from gateway.rails.card import DemoCard
from gateway.rails.port import OrderState
from gateway.rails.reconcile import MismatchKind
from gateway.rails.sim.faults import RailFaults
from gateway.settings.load import LedgerSettings
from gateway.store import RefundRecord, Store
from operators.domain import SessionPhase
from tests.gateway.billing.rail_harness import (
    NewBilling,
    Rail,
    acknowledging,
    failed_collection,
    open_postpaid,
    port_of,
    rails_of,
)
from tests.gateway.billing.test_billing_exposure import order, start
from tests.rails.conftest import MerchantEndpoint


async def test_authorised_at_start_and_collected_at_settlement(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    session = await open_postpaid(billing)
    on_rail = rails_of(billing).rail_for(session)
    assert on_rail is not None and (await on_rail.query(session.id)).state is OrderState.AUTHORISED
    booking = await billing.settle(session, order(session, "42.50"))
    assert booking.bill.status is BillStatus.UNPAID  # booked first, then collected
    bill = await store.get_bill(booking.bill.id)
    assert bill is not None and bill.status is BillStatus.PAID
    [payment] = (await store.payments_for_bills([bill.id]))[bill.id]
    assert payment.status is PaymentStatus.SETTLED and payment.provider_reference
    assert rail.collected() == "42.50"
    assert await store.check_ledger() == []


async def test_kill_and_restart_between_authorise_and_complete(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    session = await open_postpaid(new_billing())
    # A new process books the bill, but the rail's answer to complete is lost: the payment stays PENDING.
    rail.sim.faults = RailFaults(timeout_rate=1.0)
    booking = await new_billing().settle(session, order(session, "20.00"))
    [pending] = (await store.payments_for_bills([booking.bill.id]))[booking.bill.id]
    assert pending.status is PaymentStatus.PENDING
    rail.sim.faults = RailFaults()
    # Yet another process reconciles: it completes the same order again; the rail collected once.
    assert await new_billing().reconcile_payments(grace=timedelta(0)) == 1
    assert await new_billing().reconcile_payments(grace=timedelta(0)) == 0
    bill = await store.get_bill(booking.bill.id)
    assert bill is not None and bill.status is BillStatus.PAID
    assert rail.collected() == "20.00"
    assert await store.check_ledger() == []


async def test_early_and_duplicate_notifications_are_applied_once(
    new_billing: NewBilling, rail: Rail, store: Store, merchant: MerchantEndpoint
) -> None:
    billing = new_billing()
    applied: list[str] = []
    merchant.answer = acknowledging(billing, rail, applied)
    session = await open_postpaid(billing)
    rail.sim.faults = RailFaults(duplicate_notifications=True, notify_before_response=True)
    booking = await billing.settle(session, order(session, "15.00"))
    assert len(applied) == 2 and applied[0] == applied[1]  # the same notification, before the answer
    payments = (await store.payments_for_bills([booking.bill.id]))[booking.bill.id]
    assert [p.status for p in payments] == [PaymentStatus.SETTLED]
    assert rail.collected() == "15.00"
    assert await store.check_ledger() == []


async def test_declined_credit_starts_nothing_and_frees_the_reservation(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing(rail.declined)
    before = (await billing.credit_status("alice")).available
    denied = await billing.open_session("alice", "k1", start("300", PaymentMode.POSTPAID))
    assert isinstance(denied, Denied) and denied.reason_code is DenialReason.RAIL_DECLINED
    assert (await billing.credit_status("alice")).available == before
    session = await store.get_session(
        start("1").session_id.replace("s", "s")
    )  # unrelated id: no such session
    assert session is None


async def test_a_session_without_a_bill_cancels_its_order(new_billing: NewBilling, rail: Rail) -> None:
    billing = new_billing()
    session = await open_postpaid(billing)
    await billing.release(session.id)
    assert (await port_of(billing, rail).query(session.id)).state is OrderState.CANCELLED
    assert rail.collected() == "0.00"


async def test_a_disputed_bill_is_not_collected(new_billing: NewBilling, rail: Rail, store: Store) -> None:
    billing = new_billing()
    session = await open_postpaid(billing, cap="6.48")
    booking = await billing.settle(session, order(session, "11.20"))  # past the cap: held for review
    assert booking.bill.review and rail.collected() == "0.00"
    assert (await store.payments_for_bills([booking.bill.id]))[booking.bill.id] == []


def test_enrolment_on_an_unconfigured_rail_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="not configured"):
        RailBilling(store, {}, {"alice": Enrolment("alipay", "x")})


async def test_admin_refunds_go_back_through_the_rail_once(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    session = await open_postpaid(billing)
    booking = await billing.settle(session, order(session, "30.00"))
    [payment] = (await store.payments_for_bills([booking.bill.id]))[booking.bill.id]
    part = await billing.refund("admin", "r1", payment.id, Decimal("10.00"), "operator dispute")
    again = await billing.refund("admin", "r1", payment.id, Decimal("10.00"), "operator dispute")
    assert isinstance(part, RefundRecord) and part == again
    rest = await billing.refund("admin", "r2", payment.id, None, "the rest")
    assert isinstance(rest, RefundRecord) and rest.amount == Decimal("20.00")
    assert rail.sim.ledger.to_json()["refunded"] == "30.00"
    assert await store.check_ledger() == []


async def test_a_resolved_dispute_is_collected_by_the_rail(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    session = await open_postpaid(billing)
    final = order(session, "18.00")
    due = datetime.now(UTC) + timedelta(days=14)
    booked = await store.book_bill(
        session.id, "alice", "CNY", final.lines, final.total, Decimal("16.00"), BillStatus.DISPUTED, due
    )
    assert rail.collected() == "0.00"  # a DISPUTED bill is not collected
    resolved = await billing.resolve_bill("admin", "d1", booked.bill.id, Resolution.OURS, None, "checked")
    assert isinstance(resolved, BillRecord) and resolved.status is BillStatus.PAID
    assert rail.collected() == "16.00"
    # The same key for another resolution is refused as such, and the rail collects nothing more.
    reused = await billing.resolve_bill("admin", "d1", booked.bill.id, Resolution.OPERATOR, None, "again")
    assert isinstance(reused, KeyConflict)
    assert rail.collected() == "16.00"
    assert await store.check_ledger() == []


async def test_collections_are_checked_against_the_ledger(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    booked, unbooked = [await open_postpaid(billing, key) for key in ("a", "b")]
    await billing.settle(booked, order(booked, "20.00"))  # collected and booked: agrees
    await port_of(billing, rail).complete(unbooked.id, Decimal("5.00"), "EV charging")  # behind the ledger
    for session in (booked, unbooked):
        await store.apply_progress(session.id, status=SessionPhase.COMPLETED)
    found = await rails_of(billing).check_collections()
    assert [(m.reference, m.kind, m.theirs) for m in found] == [
        (unbooked.id, MismatchKind.UNBOOKED_COLLECTION, Decimal("5.00"))
    ]


async def test_a_failed_collection_takes_nothing_and_is_flagged(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    session, booked = await failed_collection(billing, rail)
    bill = await store.get_bill(booked.id)
    assert bill is not None and bill.status is BillStatus.UNPAID and rail.collected() == "0.00"
    [payment] = (await store.payments_for_bills([bill.id]))[bill.id]
    # Alipay closes the trade (the payment fails; the driver pays otherwise); WeChat Pay keeps trying.
    assert payment.status is (PaymentStatus.FAILED if rail.name == "alipay" else PaymentStatus.PENDING)
    await store.apply_progress(session.id, status=SessionPhase.COMPLETED)
    [mismatch] = await rails_of(billing).check_collections()
    assert (mismatch.reference, mismatch.kind) == (session.id, MismatchKind.PENDING)
    assert await store.check_ledger() == []


async def test_an_account_is_used_only_by_the_driver_whose_sign_in_holds_it(
    rail: Rail, store: Store, credit: CreditCheck, http: aiohttp.ClientSession, request: pytest.FixtureRequest
) -> None:
    """The agreement (openid) on file must be held by the provider user the driver signs in as."""
    from gateway.identity.store import How, IdentityStore

    identities = IdentityStore(store.database)
    on_rail = rail.make(http)
    if rail.name == "alipay":
        client: AlipayClient = request.getfixturevalue("alipay")
        others = (await zhima.sign_agreement(client, "AGRmallory", "mallory@example.com")).credit_agreement_id
    else:
        others = "o-mallory"
    for driver, account in (("alice", rail.good), ("mallory", others)):
        await store.ensure_driver(driver)
        await identities.bind(driver, on_rail.identity, await on_rail.holder(account), How.DEMO)

    def billing(account: str) -> BillingService:
        rails = RailBilling(
            store, {rail.name: on_rail}, {"alice": Enrolment(rail.name, account)}, identities.linked_driver
        )
        return BillingService(store, credit, DemoCard(), LedgerSettings(), "CNY", rails)

    denied = await billing(others).open_session("alice", "k1", start("300", PaymentMode.POSTPAID))
    assert isinstance(denied, Denied) and denied.reason_code is DenialReason.RAIL_DECLINED
    assert "not yours" in denied.message and rail.sim.ledger.to_json()["collected"] == "0.00"
    opened = await billing(rail.good).open_session("alice", "k2", start("300", PaymentMode.POSTPAID))
    assert isinstance(opened, tuple) and (await on_rail.query(opened[0].id)).state is OrderState.AUTHORISED


async def test_a_failed_collection_is_retried_with_backoff_once_per_attempt(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    if rail.name != "alipay":
        pytest.skip("WeChat Pay keeps deducting a failed collection itself: the payment stays PENDING")
    billing = new_billing()
    rails = rails_of(billing)
    _, booked = await failed_collection(billing, rail)
    rail.sim.faults = RailFaults()
    now = datetime.now(UTC)
    assert await rails.retry_collections(now) == 0  # not due yet: backoff
    # Attempt 2 is due; its answer is lost (timeout), so its payment stays PENDING ...
    rail.sim.faults = RailFaults(timeout_rate=1.0)
    due = now + timedelta(seconds=RETRY_AFTER_S[0] + 1)
    assert await rails.retry_collections(due) == 1
    assert await rails.retry_collections(due) == 0  # a live payment: nothing more
    rail.sim.faults = RailFaults()
    # ... and a restarted process resolves it as the same attempt (the same out_trade_no): once.
    assert await new_billing().reconcile_payments(grace=timedelta(0)) == 1
    bill = await store.get_bill(booked.id)
    assert bill is not None and bill.status is BillStatus.PAID
    payments = (await store.payments_for_bills([bill.id]))[bill.id]
    assert [p.status for p in payments] == [PaymentStatus.FAILED, PaymentStatus.SETTLED]
    assert rail.collected() == "12.00"
    assert await rails_of(new_billing()).retry_collections(due + timedelta(days=1)) == 0
    assert await store.check_ledger() == []


async def test_a_collection_that_finally_fails_leaves_the_bill_unpaid_and_flagged(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    if rail.name != "alipay":
        pytest.skip("WeChat Pay keeps deducting a failed collection itself: the payment stays PENDING")
    billing = new_billing()
    rails = rails_of(billing)
    session, booked = await failed_collection(billing, rail)
    later = datetime.now(UTC)
    for _ in range(MAX_ATTEMPTS - 1):
        later += timedelta(days=1)
        assert await rails.retry_collections(later) == 1
    assert await rails.retry_collections(later + timedelta(days=30)) == 0  # bounded
    bill = await store.get_bill(booked.id)
    assert bill is not None and bill.status is BillStatus.UNPAID and rail.collected() == "0.00"
    payments = (await store.payments_for_bills([bill.id]))[bill.id]
    assert [p.status for p in payments] == [PaymentStatus.FAILED] * MAX_ATTEMPTS
    [kept] = await store.mismatches()
    assert (kept.rail, kept.reference, kept.kind, kept.ours) == (
        rail.name, session.id, "COLLECTION_FAILED", Decimal("12.00"),
    )  # fmt: skip
    # The driver can still pay the bill otherwise; it was never lost.
    assert (await billing.bills("alice", 10, None)).items[0].status is BillStatus.UNPAID
    assert await store.check_ledger() == []


async def test_mismatches_are_kept_in_the_ledger_and_resolved_with_an_audit_row(
    new_billing: NewBilling, rail: Rail, store: Store
) -> None:
    billing = new_billing()
    unbooked = await open_postpaid(billing)
    await port_of(billing, rail).complete(unbooked.id, Decimal("5.00"), "EV charging")  # behind our back
    await store.apply_progress(unbooked.id, status=SessionPhase.COMPLETED)
    assert len(await rails_of(billing).check_collections()) == 1
    assert len(await rails_of(billing).check_collections()) == 1  # found again: still one row
    [kept] = await store.mismatches()
    assert (kept.kind, kept.theirs, kept.open) == ("UNBOOKED_COLLECTION", Decimal("5.00"), True)
    resolved = await store.resolve_mismatch("admin:ops", kept.id, "refunded by hand")
    again = await store.resolve_mismatch("admin:other", kept.id, "twice")
    assert resolved is not None and resolved == again and resolved.resolved_by == "admin:ops"
    assert await store.mismatches() == [] and len(await store.mismatches(open_only=False)) == 1
    assert await store.resolve_mismatch("admin:ops", "nope", "x") is None
    audited = await store.audit_trail(kept.id)
    assert [(a["actor"], a["action"], a["note"]) for a in audited] == [
        ("admin:ops", "resolveRailMismatch", "refunded by hand")
    ]


async def test_a_driver_on_the_bureau_rail_is_authorised_by_the_bureau_and_collected_by_the_card(
    store: Store, credit: CreditCheck
) -> None:
    from gateway.rails.bureau.rail import BureauRail
    from gateway.rails.card import CardBooks

    books = CardBooks()

    def billing() -> BillingService:  # a fresh process each time; the card's books are the acquirer's
        card = DemoCard(books)
        rails = RailBilling(
            store, {"bureau": BureauRail(credit, card)}, {"alice": Enrolment("bureau", "alice")}
        )
        return BillingService(store, credit, card, LedgerSettings(), "CNY", rails)

    session = await open_postpaid(billing())
    assert books.orders[session.id].risk_amount == Decimal("300.00")  # the card holds the cap
    booking = await billing().settle(session, order(session, "42.50"))
    bill = await store.get_bill(booking.bill.id)
    assert bill is not None and bill.status is BillStatus.PAID
    [payment] = (await store.payments_for_bills([bill.id]))[bill.id]
    refund = await billing().refund("admin", "r1", payment.id, Decimal("2.50"), "dispute")
    assert isinstance(refund, RefundRecord) and refund.provider_reference == f"bureau:{refund.id}"
    assert (books.collected(), books.refunded()) == (Decimal("42.50"), Decimal("2.50"))
    assert await rails_of(billing()).check_collections() == []
    assert await store.check_ledger() == []


async def test_a_collection_the_provider_keeps_trying_is_flagged_once_stale_and_cleared_when_paid(
    new_billing: NewBilling, rail: Rail, store: Store, http: aiohttp.ClientSession
) -> None:
    if rail.name != "wechatpay":
        pytest.skip("Alipay closes a failed collection: see the retry tests")
    billing = new_billing()
    rails = rails_of(billing)
    session, booked = await failed_collection(billing, rail)
    await store.apply_progress(session.id, status=SessionPhase.COMPLETED)
    assert await billing.reconcile_payments(grace=timedelta(0)) == 0  # WeChat Pay is deducting: wait
    kinds = {m.kind for m in await rails.check_collections()}
    assert MismatchKind.COLLECTION_FAILED not in kinds  # not stale yet
    later = datetime.now(UTC) + timedelta(hours=2)
    assert MismatchKind.COLLECTION_FAILED in {m.kind for m in await rails.check_collections(now=later)}
    [kept] = [m for m in await store.mismatches() if m.kind == "COLLECTION_FAILED"]
    rail.sim.faults = RailFaults()
    await rail.make(http).complete(session.id, Decimal("12.00"), "EV charging", attempt=2)  # deducted now
    assert await billing.reconcile_payments(grace=timedelta(0)) == 1
    bill = await store.get_bill(booked.id)
    assert bill is not None and bill.status is BillStatus.PAID and rail.collected() == "12.00"
    assert await rails.check_collections(now=later) == []
    cleared = await store.get_mismatch(kept.id)
    assert cleared is not None and cleared.resolved_by == "reconciliation"
