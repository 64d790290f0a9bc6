"""``Query.me``: the calling driver, their credit, wallet, sessions and bills (never anyone else's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.billing import InvalidCursor, Page
from gateway.identity.bearer import AuthError
from resolvers import ids
from resolvers.charging import types as ct
from resolvers.context import RequestContext
from resolvers.federation_directives import KEY
from resolvers.stations import types as t

MAX_PAGE = 100
T = TypeVar("T")


def current_driver(info: Info) -> str | None:
    """The calling driver, None when anonymous; a bad token is an ``UNAUTHENTICATED`` error."""
    ctx: RequestContext = info.context
    try:
        return ctx.driver_id()
    except AuthError as exc:
        raise GraphQLError(str(exc), extensions={"code": "UNAUTHENTICATED", "reason": exc.code}) from None


def require_driver(info: Info) -> str:
    driver_id = current_driver(info)
    if driver_id is None:
        raise GraphQLError(
            "sign in first: send Authorization: Bearer <driver token>", extensions={"code": "UNAUTHENTICATED"}
        )
    return driver_id


@strawberry.type(directives=KEY)
class Driver(t.Node):
    id: strawberry.ID
    name: str | None
    driver_id: strawberry.Private[str]

    @strawberry.field
    async def credit(self, info: Info) -> ct.CreditStatus:
        billing = info.context.runtime.sessions.billing
        report = await billing.credit_status(self.driver_id)
        return ct.CreditStatus(
            score=report.score,
            postpay_eligible=report.postpay_eligible,
            limit=ct.ledger_money(report.limit, billing.currency),
            available=ct.ledger_money(report.available, billing.currency),
        )

    @strawberry.field
    async def wallet(self, info: Info) -> t.Money:
        billing = info.context.runtime.sessions.billing
        return ct.ledger_money(await billing.wallet(self.driver_id), billing.currency)

    @strawberry.field
    async def sessions(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ct.ChargingSessionConnection:
        page = await _fetch(info.context.runtime.sessions.history, self.driver_id, first, after)
        return ct.ChargingSessionConnection(
            nodes=[ct.session(r) for r in page.items], page_info=ct.page_info(page, after)
        )

    @strawberry.field
    async def bills(self, info: Info, first: int = 20, after: str | None = None) -> ct.BillConnection:
        page = await _fetch(info.context.runtime.sessions.billing.bills, self.driver_id, first, after)
        return ct.BillConnection(nodes=[ct.bill(r) for r in page.items], page_info=ct.page_info(page, after))


async def _fetch(
    list_page: Callable[[str, int, str | None], Awaitable[Page[T]]],
    driver_id: str,
    first: int,
    after: str | None,
) -> Page[T]:
    """One page of the driver's history; bad ``first``/``after`` are ``BAD_USER_INPUT``."""
    if not 1 <= first <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}", extensions={"code": "BAD_USER_INPUT"})
    try:
        return await list_page(driver_id, first, after)
    except InvalidCursor:
        raise GraphQLError(
            "after is not a cursor of this list", extensions={"code": "BAD_USER_INPUT"}
        ) from None


async def driver(info: Info, driver_id: str) -> Driver:
    record = await info.context.runtime.sessions.billing.driver(driver_id)
    return Driver(id=ids.encode("Driver", driver_id), name=record.name, driver_id=driver_id)


async def owned_node(info: Info, kind: str, native_id: str) -> t.Node | None:
    """A ChargingSession, Bill or Driver by id, only when it belongs to the calling driver."""
    driver_id = current_driver(info)
    if driver_id is None:
        return None
    sessions = info.context.runtime.sessions
    if kind == "ChargingSession":
        record = await sessions.session_for(driver_id, native_id)
        return ct.session(record) if record else None
    if kind == "Bill":
        bill = await sessions.billing.bill(driver_id, native_id)
        return ct.bill(bill) if bill else None
    if kind == "Driver" and native_id == driver_id:
        return await driver(info, driver_id)
    return None
