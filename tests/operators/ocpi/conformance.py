"""An OCPI 2.2.1 conformance checker of our own: envelopes, headers and field lengths of responses.

Written from the spec summary (specs/ocpi.md §1.5 envelope, §1.8 routing, §1.9 request ids, §1.10
types and the per-object field tables), independently of the codec, so it judges what actually
went over the wire. :class:`Recorder` is an aiohttp ``TraceConfig`` that records every exchange of
a real client session (request headers, response status, headers and body).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import aiohttp

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z?$")  # RFC 3339 UTC, string(25)
DATETIME_FIELDS = frozenset(
    {"timestamp", "last_updated", "start_date_time", "end_date_time", "period_begin", "period_end"}
)
# field → max length (CiString(n) / string(n)), from the object tables of specs/ocpi.md
MAX_LENGTHS = {
    "country_code": 2,
    "party_id": 3,
    "id": 39,  # CiString(36) everywhere except CDR ids (39)
    "uid": 36,
    "evse_id": 48,
    "location_id": 36,
    "evse_uid": 36,
    "connector_id": 36,
    "session_id": 36,
    "authorization_reference": 36,
    "tariff_id": 36,
    "contract_id": 36,
    "currency": 3,
    "token": 64,
    "url": 255,
    "response_url": 255,
}
# response header → the request header whose value it must carry (the response swaps from and to)
ROUTING_SWAP = {
    "OCPI-from-country-code": "OCPI-to-country-code",
    "OCPI-from-party-id": "OCPI-to-party-id",
    "OCPI-to-country-code": "OCPI-from-country-code",
    "OCPI-to-party-id": "OCPI-from-party-id",
}
UNROUTED = ("versions", "credentials", "2.2.1")  # path parts whose responses carry no routing headers


@dataclass
class Exchange:
    method: str
    url: str
    sent: dict[str, str]
    status: int = 0
    received: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def answered(self) -> bool:
        """The whole response is in: its status, and as many body bytes as its Content-Length says."""
        length = {k.lower(): v for k, v in self.received.items()}.get("content-length")
        return self.status != 0 and (length is None or int(length) == len(self.body))


@dataclass
class Recorder:
    exchanges: list[Exchange] = field(default_factory=list)

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def start(_s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
            ctx.exchange = Exchange(params.method, str(params.url), dict(params.headers))
            self.exchanges.append(ctx.exchange)

        async def end(_s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
            ctx.exchange.status = params.response.status
            ctx.exchange.received = dict(params.response.headers)

        async def chunk(
            _s: Any, ctx: SimpleNamespace, params: aiohttp.TraceResponseChunkReceivedParams
        ) -> None:
            ctx.exchange.body += params.chunk

        trace.on_request_start.append(start)
        trace.on_request_end.append(end)
        trace.on_response_chunk_received.append(chunk)
        return trace

    def answered(self) -> list[Exchange]:
        """Copies of the exchanges answered so far; one still in flight when a walk ends (a push the
        other side sent while we stop) is no answer of either side and is left out."""
        answered = (x for x in self.exchanges if x.answered)
        return [replace(x, sent=dict(x.sent), received=dict(x.received)) for x in answered]


def problems(x: Exchange) -> list[str]:
    """Everything wrong with one response (an empty list means it conforms)."""
    method, url, sent, status, received, body = x.method, x.url, x.sent, x.status, x.received, x.body
    where = f"{method} {url}"
    found: list[str] = []
    lower = {k.lower(): v for k, v in received.items()}
    for name in ("X-Request-ID", "X-Correlation-ID"):  # §1.9: echoed on every response
        if lower.get(name.lower()) != sent.get(name):
            found.append(f"{where}: {name} {lower.get(name.lower())!r} does not echo {sent.get(name)!r}")
    routed = not any(part in UNROUTED for part in url.split("?")[0].rstrip("/").split("/")[-1:])
    if routed and sent.get("OCPI-from-party-id"):  # §1.8: a response swaps the request's routing
        for name, swapped in ROUTING_SWAP.items():
            if lower.get(name.lower()) != sent.get(swapped):
                found.append(f"{where}: {name} should be {sent.get(swapped)!r}")
    try:
        envelope = json.loads(body)
    except ValueError:
        return [*found, f"{where}: HTTP {status} body is not JSON"]
    if not isinstance(envelope, dict) or not isinstance(envelope.get("status_code"), int):
        return [*found, f"{where}: not an OCPI envelope"]
    if not 1000 <= envelope["status_code"] <= 4999:
        found.append(f"{where}: status_code {envelope['status_code']} out of range")
    if not isinstance(envelope.get("timestamp"), str):
        found.append(f"{where}: envelope without timestamp")
    if "status_message" in envelope and not isinstance(envelope["status_message"], str):
        found.append(f"{where}: status_message is not a string")
    found += [f"{where}: {p}" for p in field_problems(envelope, "")]
    return found


def field_problems(value: Any, path: str) -> list[str]:
    """DateTime string(25) and the string length limits, recursively."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in DATETIME_FIELDS and item is not None:
                if not (isinstance(item, str) and len(item) <= 25 and DATETIME.match(item)):
                    found.append(f"{sub}: DateTime {item!r} is not string(25) RFC 3339 UTC")
            elif key in MAX_LENGTHS and isinstance(item, str) and len(item) > MAX_LENGTHS[key]:
                found.append(f"{sub}: {len(item)} characters, at most {MAX_LENGTHS[key]}")
            found += field_problems(item, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += field_problems(item, f"{path}[{i}]")
    return found
