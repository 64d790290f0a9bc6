"""A production-mode gateway (two T/CEC simulators behind it) with a router's API key, a reader's
key and driver tokens; alice has a charging session and a bill in the ledger, bob one session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from gateway.identity.bearer import issue_token
from gateway.security.apikeys import NewKey, create_key
from gateway.settings.load import AuthSettings, GatewaySettings, SecuritySettings, Settings
from gateway.store import BillLineInput, BillStatus, LineKind, PaymentMode
from resolvers import ids
from tests.app.conftest import CENTERS, DEADLINE_S, HZ, SH, Stack, running_stack

PEPPER = "federation-test-pepper-0123456789"
JWT_KEY = "federation-test-jwt-key-0123456789abcdef"
ROUTER = create_key(["router", "stations:read"], PEPPER, key_id="router")
READER = create_key(["stations:read"], PEPPER, key_id="reader")


def table(new: NewKey) -> dict[str, object]:
    r = new.record
    return {"id": r.id, "name": r.name, "scopes": [s.value for s in r.scopes], "hash": r.digest}


def bearer(driver_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(driver_id, JWT_KEY)}"}


def as_router(driver_id: str | None = None) -> dict[str, str]:
    """Headers of a router calling on a driver's behalf (their Authorization header forwarded)."""
    return {"x-api-key": ROUTER.key, **(bearer(driver_id) if driver_id else {})}


@dataclass
class Ids:
    """Global IDs of one entity of each type, and bob's session (not alice's)."""

    station: str
    connector: str
    operator: str
    session: str
    bill: str
    driver: str
    bobs_session: str


@dataclass
class Subgraph:
    stack: Stack
    ids: Ids

    async def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        async with self.stack.http.post(f"{self.stack.url}/graphql", json=body, headers=headers or {}) as r:
            assert r.status == 200, await r.text()
            return await r.json()  # type: ignore[no-any-return]

    async def entities(
        self, representations: list[Any], selection: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        query = f"query ($r: [_Any!]!) {{ _entities(representations: $r) {{ {selection} }} }}"
        return await self.post({"query": query, "variables": {"r": representations}}, headers)


def settings(mode: str = "production") -> Settings:
    return Settings(
        gateway=GatewaySettings(mode=mode, request_deadline_s=DEADLINE_S),
        security=SecuritySettings(key_hash_secret=PEPPER, api_keys=(table(ROUTER), table(READER))),
        auth=AuthSettings(jwt_key=JWT_KEY),
    )


async def seed_ledger(stack: Stack) -> Ids:
    """A session and a bill for alice, a session for bob, on the first connector of an HZ station."""
    store = stack.runtime.sessions.store
    lat, lon = CENTERS[HZ]
    station = next(s for _, s in stack.runtime.catalogue.near(lat, lon, 50) if s.operator_id == HZ)
    connector = station.connectors[0]
    made = {}
    for driver in ("alice", "bob"):
        await store.ensure_driver(driver, driver.title())
        made[driver], _ = await store.create_session(
            driver_id=driver,
            idempotency_key=f"federation-{driver}",
            operator_id=HZ,
            connector_id=connector.id,
            station_id=station.id,
            payment_mode=PaymentMode.POSTPAID,
            currency="CNY",
        )
    line = BillLineInput(LineKind.ENERGY, Decimal("12.30"), "Electricity")
    due = datetime.now(UTC) + timedelta(days=14)
    bill, _ = await store.create_bill(
        made["alice"].id, "alice", "CNY", [line], Decimal("12.30"), None, BillStatus.UNPAID, due
    )
    return Ids(
        station=ids.station_id(HZ, station.id),
        connector=ids.connector_id(HZ, connector.id),
        operator=ids.operator_id(SH),
        session=ids.encode("ChargingSession", made["alice"].id),
        bill=ids.encode("Bill", bill.id),
        driver=ids.encode("Driver", "alice"),
        bobs_session=ids.encode("ChargingSession", made["bob"].id),
    )


@pytest.fixture
async def subgraph() -> AsyncIterator[Subgraph]:
    async with running_stack(settings("production")) as stack:
        yield Subgraph(stack, await seed_ledger(stack))
