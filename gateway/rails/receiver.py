"""The notification endpoint: ``POST /payments/{rail}/notify``, for every configured rail.

A notification is verified by its rail before anything is applied; one that does not verify is
answered 400 and changes nothing. A verified one is applied (``apply`` must be idempotent: providers
redeliver) and acknowledged the way its provider expects, which stops the redelivery; if applying
fails the answer is 500 and the provider tries again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from gateway.rails.port import CreditRail, RailBadNotification, RailEvent

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
Apply = Callable[[CreditRail, RailEvent], Awaitable[None]]


async def receive(request: Request, rails: Mapping[str, CreditRail], apply: Apply) -> Response:
    """Verify, apply and acknowledge one notification to the rail the path names (404 for a rail
    that is not configured)."""
    rail = rails.get(request.path_params["rail"])
    if rail is None:
        return Response("no such payment rail", status_code=404)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return Response("too large", status_code=413)
    try:
        event = rail.notification(request.headers, body)
    except RailBadNotification as exc:
        log.warning("%s notification refused: %s", rail.name, exc)
        return Response("invalid notification", status_code=400)
    try:
        await apply(rail, event)
    except Exception:  # the provider redelivers; nothing was acknowledged
        log.exception("%s notification %s not applied", rail.name, event.event_id)
        return Response("not applied", status_code=500)
    ack = rail.acknowledgement
    return Response(
        ack.body or None, status_code=ack.status, media_type=ack.content_type if ack.body else None
    )
