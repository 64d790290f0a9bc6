"""``Subscription.chargingSession``: every change of one of the caller's sessions until it is billed.

The stream ends with the truth: its last message is the session COMPLETED with its final order
booked (``endedAt``, and energy and cost equal to the bill), or FAILED. When the operator reports the
end, the session is STOPPING with ``endedAt`` until the final order arrives; if none arrives within
``ledger.final_order_wait_s`` of the end, the stream ends with a ``FINAL_ORDER_LATE`` error instead
(the session stays STOPPING, and its bill appears whenever the operator sends the order).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.billing import SessionRecord
from gateway.clock import utc_now
from resolvers import ids
from resolvers.charging import types as ct
from resolvers.drivers.driver import require_driver


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The session now, then on every change, until COMPLETED (billed: the last message "
        "has `endedAt`, and energy and cost equal to the bill) or FAILED. If the operator's final order "
        "has not arrived `ledger.final_order_wait_s` after the end, the stream ends with a "
        "FINAL_ORDER_LATE error; the bill appears on the session when the order does."
    )
    async def charging_session(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[ct.ChargingSession, None]:
        driver_id = require_driver(info)
        decoded = ids.decode(str(id))
        sessions = info.context.runtime.sessions
        not_found = GraphQLError("no such charging session", extensions={"code": "NOT_FOUND"})
        if decoded is None or decoded[0] != "ChargingSession" or len(decoded[1]) != 1:
            raise not_found
        session_id = decoded[1][0]
        async with sessions.broker.subscribe(session_id) as updates:
            # Read after subscribing, so no change between the read and the first update is lost.
            record = await sessions.session_for(driver_id, session_id)
            if record is None:
                raise not_found
            version = record.version
            info.context.renew_deadline()
            yield ct.session(record)
            wait_s = info.context.runtime.settings.ledger.final_order_wait_s
            while not record.terminal:
                try:
                    record = await asyncio.wait_for(updates.get(), _left(record, wait_s))
                except TimeoutError:
                    raise GraphQLError(
                        f"the session ended, but the operator's final order has not arrived within "
                        f"{wait_s:g} s; query the session later for its bill",
                        extensions={"code": "FINAL_ORDER_LATE"},
                    ) from None
                if record.version > version:
                    version = record.version
                    info.context.renew_deadline()
                    yield ct.session(record)


def _left(record: SessionRecord, wait_s: float) -> float | None:
    """How long to wait for the next change: for ever while charging, then until the bill is late."""
    if record.ended_at is None:
        return None
    return max(wait_s - (utc_now() - record.ended_at).total_seconds(), 0.0)
