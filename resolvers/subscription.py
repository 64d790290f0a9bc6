"""``Subscription.chargingSession``: every change of one of the caller's sessions until it ends."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from resolvers import charging_types as ct
from resolvers import ids
from resolvers.driver import require_driver


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The session now, then on every change, until COMPLETED or FAILED.")
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
            while not record.terminal:
                record = await updates.get()
                if record.version > version:
                    version = record.version
                    info.context.renew_deadline()
                    yield ct.session(record)
