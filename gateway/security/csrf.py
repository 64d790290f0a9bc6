"""CSRF prevention as Apollo Router does it: refuse "simple" requests a browser sends cross-site
without a CORS preflight.

A request is safe when it could only have been sent after a preflight: it has a ``content-type``
other than the three a plain HTML form may send, or it carries one of the
:data:`PREFLIGHT_HEADERS`. Otherwise a page on any site could make a visitor's browser run an
operation (a GET query, or a ``text/plain`` POST) with the visitor's ambient credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")
OPERATION_PARAMETERS = frozenset({"query", "extensions"})  # GET parameters that make it run something

MESSAGE = (
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either "
    "specify a 'content-type' header (with a mime-type that is not one of "
    f"{', '.join(sorted(SIMPLE_CONTENT_TYPES))}) or provide one of the following headers: "
    f"{', '.join(PREFLIGHT_HEADERS)}"
)


def is_preflighted(headers: Mapping[str, str]) -> bool:
    """``headers`` is looked up by lower-case name (Starlette's ``Headers``)."""
    if any(name in headers for name in PREFLIGHT_HEADERS):
        return True
    content_type = headers.get("content-type")
    if content_type is None:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime not in SIMPLE_CONTENT_TYPES


def runs_an_operation(method: str, query_string: bytes) -> bool:
    """Whether the request could execute anything: a GET without ``query`` or ``extensions``
    (persisted queries) only renders GraphiQL or fails, so it is not refused.

    Names are compared after URL-decoding, exactly as Starlette decodes them for the GraphQL app
    (``%71uery`` is ``query``), so an encoded or repeated name cannot walk around the check.
    """
    if method != "GET":
        return True
    names = {name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)}
    return not names.isdisjoint(OPERATION_PARAMETERS)
