"""GraphQL over HTTP response negotiation: ``application/graphql-response+json`` or legacy JSON.

With ``application/json`` every well-formed request gets 200 (what older clients expect). A
client that accepts ``application/graphql-response+json`` gets that media type, and a *request
error* — the document did not parse or validate, variables did not coerce, a limit or the caller's
scopes refused it, so nothing executed — comes back as 4xx without a ``data`` entry, as the
GraphQL over HTTP spec asks. Partial results with field errors stay 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.http import GraphQLHTTPResponse

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ERROR_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL_SERVER_ERROR": 500}


def media_type(accept: str | None) -> str:
    """The response media type for an ``Accept`` header (JSON when absent or anything goes)."""
    best, best_q = JSON, -1.0
    for part in (accept or "").split(","):
        mime, _, params = part.strip().partition(";")
        mime = mime.strip().lower()
        if mime not in (GRAPHQL_RESPONSE, JSON):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # On a tie the newer media type wins: a client listing both understands it.
        if q > best_q or (q == best_q and mime == GRAPHQL_RESPONSE):
            best, best_q = mime, q
    return best if best_q > 0 else JSON


STREAMING = ("text/event-stream", "multipart/")  # Strawberry's SSE and multipart transports


def may_stream(accept: str) -> bool:
    """Does ``Accept`` mention a streaming transport? (Then the GraphQL view decides how to answer.)"""
    lowered = accept.lower()
    return any(media in lowered for media in STREAMING)


def is_request_error(response: Mapping[str, Any]) -> bool:
    """Nothing executed: no data, and no error carries a path (field errors always do)."""
    errors = response.get("errors") or ()
    return response.get("data") is None and bool(errors) and all("path" not in e for e in errors)


def shape(response: GraphQLHTTPResponse, media: str) -> tuple[GraphQLHTTPResponse, int]:
    """The body and status for one GraphQL response under the negotiated media type."""
    if media != GRAPHQL_RESPONSE or not is_request_error(response):
        return response, 200
    errors: list[Any] = response.get("errors") or []
    codes = {(e.get("extensions") or {}).get("code", "") for e in errors}
    status = max((REQUEST_ERROR_STATUS.get(code, 400) for code in codes), default=400)
    body = response.copy()
    body.pop("data", None)
    return body, status
