"""OCPI request-id and routing headers (OCPI 2.2.1 §4.1.3 request ids, §4.1.4 message routing).

Every request carries a fresh ``X-Request-ID`` and ``X-Correlation-ID`` (UUIDs, as the spec
advises); every response echoes both as they were sent, and on functional modules a response swaps
the ``OCPI-from-*`` / ``OCPI-to-*`` routing headers of its request. Our adapter, our receiver and
the CPO simulator all build their headers here, so the three cannot drift apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
# request header → the response header carrying the same value (§4.1.4: the response swaps them)
ROUTING_SWAP = {
    "OCPI-from-country-code": "OCPI-to-country-code",
    "OCPI-from-party-id": "OCPI-to-party-id",
    "OCPI-to-country-code": "OCPI-from-country-code",
    "OCPI-to-party-id": "OCPI-from-party-id",
}
UNROUTED_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})  # §4.1.4: never routed


def new_ids() -> dict[str, str]:
    """A fresh, unique request id and correlation id for one outgoing request."""
    return {REQUEST_ID: str(uuid.uuid4()), CORRELATION_ID: str(uuid.uuid4())}


def echo(request: Mapping[str, str], *, routed: bool) -> dict[str, str]:
    """The headers a response to ``request`` must carry: both ids and, if ``routed``, swapped routing.

    A request without ids (a peer that ignores §4.1.3) still gets fresh ones, so every response
    can be traced.
    """
    out = {name: request.get(name) or str(uuid.uuid4()) for name in (REQUEST_ID, CORRELATION_ID)}
    if routed:
        out |= {ROUTING_SWAP[name]: request[name] for name in ROUTING_SWAP if request.get(name)}
    return out
