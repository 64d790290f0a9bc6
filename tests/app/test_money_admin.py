"""Internal tooling over GraphQL: an admin key resolves a DISPUTED bill and refunds payments, each
idempotent and audited; nobody else may."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from gateway.identity.bearer import issue_token
from gateway.security.apikeys import NewKey, create_key
from gateway.settings.load import AuthSettings, SecuritySettings, Settings
from gateway.store import BillLineInput, BillStatus, LineKind, PaymentMode, Store
from resolvers import ids
from tests.app.conftest import HZ, Stack, running_stack

JWT_KEY = "test-jwt-key-0123456789-0123456789-abcdef"
PEPPER = "test-pepper-money-0123456789abcdef"
ADMIN = create_key(["admin"], PEPPER, key_id="ops")
READER = create_key(["stations:read", "drivers:act"], PEPPER, key_id="app")
RESOLVE = """mutation($input: ResolveBillInput!) { resolveBill(input: $input) { __typename
  ... on Bill { status total { amount } lines { kind amount { amount } } }
  ... on Error { code message } } }"""
REFUND = """mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename
  ... on Refund { id amount { amount } status providerReference } ... on Error { code message }
  ... on InvalidInput { field } } }"""
PAY = """mutation($id: ID!, $method: PaymentMethod!) { payBill(input: {billId: $id, method: $method}) {
  __typename ... on Bill { status payments { id status } } } }"""


def table(new: NewKey) -> dict[str, object]:
    r = new.record
    return {"id": r.id, "name": r.name, "scopes": [s.value for s in r.scopes], "hash": r.digest}


@pytest.fixture
async def stack(stack_settings: Settings) -> AsyncIterator[Stack]:
    settings = replace(
        stack_settings,
        auth=AuthSettings(jwt_key=JWT_KEY),
        security=SecuritySettings(key_hash_secret=PEPPER, api_keys=(table(ADMIN), table(READER))),
    )
    async with running_stack(settings) as running:
        yield running


async def gql(stack: Stack, query: str, variables: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    async with stack.http.post(
        f"{stack.url}/graphql", json={"query": query, "variables": variables}, headers=headers
    ) as r:
        return await r.json()


def as_admin() -> dict[str, str]:
    return {"x-api-key": ADMIN.key}


def as_driver(name: str) -> dict[str, str]:
    return {"x-api-key": READER.key, "Authorization": f"Bearer {issue_token(name, JWT_KEY)}"}


async def disputed_bill(stack: Stack) -> str:
    store: Store = stack.runtime.sessions.store
    session, _ = await store.create_session(
        driver_id="alice", idempotency_key="disputed", operator_id=HZ, connector_id="C1",
        payment_mode=PaymentMode.POSTPAID, currency="CNY",
    )  # fmt: skip
    line = BillLineInput(LineKind.ENERGY, Decimal("30.00"), "Electricity")
    due = datetime.now(UTC) + timedelta(days=7)
    bill, _ = await store.create_bill(
        session.id, "alice", "CNY", [line], Decimal("30.00"), Decimal("24.50"), BillStatus.DISPUTED, due
    )
    return bill.id


async def test_an_admin_resolves_a_dispute_and_refunds_in_part_then_whole(stack: Stack):
    bill_id = await disputed_bill(stack)
    gid = ids.encode("Bill", bill_id)
    resolution = {
        "billId": gid,
        "resolution": "OURS",
        "note": "meter reading confirmed",
        "idempotencyKey": "r1",
    }
    for headers in ({"x-api-key": READER.key}, as_driver("alice")):
        body = await gql(stack, RESOLVE, {"input": resolution}, headers)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    resolved = (await gql(stack, RESOLVE, {"input": resolution}, as_admin()))["data"]["resolveBill"]
    assert resolved["status"] == "UNPAID" and resolved["total"] == {"amount": "24.50"}, resolved
    assert resolved["lines"][-1] == {"kind": "ADJUSTMENT", "amount": {"amount": "-5.50"}}
    again = (await gql(stack, RESOLVE, {"input": resolution}, as_admin()))["data"]["resolveBill"]
    assert again == resolved
    other = {**resolution, "resolution": "OPERATOR"}
    conflict = (await gql(stack, RESOLVE, {"input": other}, as_admin()))["data"]["resolveBill"]
    assert conflict["code"] == "IDEMPOTENCY_CONFLICT"
    trail = await stack.runtime.sessions.store.audit_trail(bill_id)
    assert [(a["actor"], a["action"], a["note"]) for a in trail] == [
        ("admin:ops", "resolveBill", "meter reading confirmed")
    ]

    paid = (await gql(stack, PAY, {"id": gid, "method": "PROVIDER"}, as_driver("alice")))["data"]["payBill"]
    assert paid["status"] == "PAID", paid
    payment_id = paid["payments"][0]["id"]
    part = {"paymentId": payment_id, "amount": "4.50", "note": "goodwill", "idempotencyKey": "f1"}
    first = (await gql(stack, REFUND, {"input": part}, as_admin()))["data"]["refundPayment"]
    assert first["__typename"] == "Refund" and first["status"] == "SETTLED" and first["providerReference"]
    assert first["amount"] == {"amount": "4.50"}
    assert (await gql(stack, REFUND, {"input": part}, as_admin()))["data"]["refundPayment"] == first
    rest = {"paymentId": payment_id, "note": "closing the account", "idempotencyKey": "f2"}
    whole = (await gql(stack, REFUND, {"input": rest}, as_admin()))["data"]["refundPayment"]
    assert whole["amount"] == {"amount": "20.00"}, whole
    more = {**part, "idempotencyKey": "f3"}
    refused = (await gql(stack, REFUND, {"input": more}, as_admin()))["data"]["refundPayment"]
    assert refused["__typename"] == "InvalidInput" and refused["field"] == "amount", refused
    assert len([r for o in stack.runtime.card.books.orders.values() for r in o.refunds]) == 2  # type: ignore[attr-defined]
    native = ids.decode(payment_id)[1][0]
    trail = await stack.runtime.sessions.store.audit_trail(native)
    assert [a["note"] for a in trail] == ["goodwill", "closing the account"]
    assert await stack.runtime.sessions.store.check_ledger() == []


MISMATCHES = """query($open: Boolean!) { railMismatches(open: $open) { id rail reference kind ours theirs
  detail resolvedBy resolution } }"""
RESOLVE_MISMATCH = """mutation($input: ResolveRailMismatchInput!) { resolveRailMismatch(input: $input) {
  __typename ... on RailMismatch { id resolvedBy resolution } ... on Error { code message } } }"""


async def test_rail_mismatches_are_shown_to_admins_and_resolved_with_an_audit_row(stack: Stack):
    store: Store = stack.runtime.sessions.store
    found = ("alipay", "S1", "UNBOOKED_COLLECTION", Decimal("0.00"), Decimal("5.00"), "COLLECTED")
    kept = await store.record_mismatch(*found)
    denied = await gql(stack, MISMATCHES, {"open": True}, as_driver("alice"))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [shown] = (await gql(stack, MISMATCHES, {"open": True}, as_admin()))["data"]["railMismatches"]
    assert (shown["rail"], shown["reference"], shown["kind"], shown["theirs"]) == (
        "alipay", "S1", "UNBOOKED_COLLECTION", "5.00",
    )  # fmt: skip
    refused = await gql(
        stack, RESOLVE_MISMATCH, {"input": {"mismatchId": shown["id"], "note": " "}}, as_admin()
    )
    assert refused["data"]["resolveRailMismatch"]["__typename"] == "InvalidInput"
    forbidden = await gql(
        stack, RESOLVE_MISMATCH, {"input": {"mismatchId": shown["id"], "note": "x"}}, as_driver("alice")
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = await gql(
        stack,
        RESOLVE_MISMATCH,
        {"input": {"mismatchId": shown["id"], "note": "refunded by hand"}},
        as_admin(),
    )
    resolved = done["data"]["resolveRailMismatch"]
    assert (resolved["id"], resolved["resolvedBy"], resolved["resolution"]) == (
        shown["id"], "admin:ops", "refunded by hand",
    )  # fmt: skip
    assert (await gql(stack, MISMATCHES, {"open": True}, as_admin()))["data"]["railMismatches"] == []
    assert len((await gql(stack, MISMATCHES, {"open": False}, as_admin()))["data"]["railMismatches"]) == 1
    [row] = await store.audit_trail(kept.id)
    assert (row["actor"], row["action"], row["note"]) == (
        "admin:ops",
        "resolveRailMismatch",
        "refunded by hand",
    )
