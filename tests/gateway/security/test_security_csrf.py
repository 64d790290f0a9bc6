"""CSRF prevention: which requests a browser could send cross-site without a preflight."""

import pytest
from starlette.datastructures import Headers

from gateway.security.csrf import is_preflighted, runs_an_operation


@pytest.mark.parametrize(
    ("headers", "safe"),
    [
        ({}, False),
        ({"content-type": "text/plain"}, False),
        ({"content-type": "application/x-www-form-urlencoded"}, False),
        ({"content-type": "multipart/form-data; boundary=x"}, False),
        ({"content-type": "Text/Plain; charset=utf-8"}, False),
        ({"content-type": "application/json"}, True),
        ({"content-type": "application/json; charset=utf-8"}, True),
        ({"apollo-require-preflight": "true"}, True),
        ({"x-apollo-operation-name": "Stations", "content-type": "text/plain"}, True),
    ],
)
def test_preflight_forcing_requests(headers, safe):
    assert is_preflighted(Headers(headers)) is safe


@pytest.mark.parametrize(
    ("method", "query_string", "runs"),
    [
        ("GET", b"", False),  # GraphiQL page or a 4xx: nothing executes
        ("GET", b"foo=1", False),
        ("GET", b"query=%7B__typename%7D", True),
        ("GET", b"extensions=%7B%7D", True),  # a persisted query by hash
        ("GET", b"%71uery=%7B__typename%7D", True),  # an encoded name is still `query`
        ("GET", b"%71%75%65%72%79=x", True),
        ("GET", b"%65xtensions=%7B%7D", True),
        ("GET", b"foo=1&query=%7B__typename%7D&query=x", True),  # repeated: Starlette takes the last
        ("GET", b"query=&foo=1", True),
        ("GET", b"qu+ery=x&%71uer=1", False),  # `qu ery`, `quer`: not the parameter
        ("POST", b"", True),
    ],
)
def test_which_requests_could_run_an_operation(method, query_string, runs):
    assert runs_an_operation(method, query_string) is runs
