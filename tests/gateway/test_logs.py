"""Structured logs: the JSON formatter, credential scrubbing, and the request id's round trip over
real HTTP (echoed, generated, replaced when not sane, and on the log lines of that request)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.observability.logs import (
    REQUEST_ID,
    JsonFormatter,
    TextFormatter,
    install,
    redact,
    redact_headers,
)
from gateway.settings.load import GatewaySettings, Settings

GENERATED = re.compile(r"^[0-9a-f]{32}$")


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("chargegate.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_the_json_formatter_writes_one_object_per_line():
    token = REQUEST_ID.set("req-42")
    try:
        line = JsonFormatter().format(record("synced %s in %.1fs", "HZ", 1.25))
    finally:
        REQUEST_ID.reset(token)
    assert "\n" not in line
    out = json.loads(line)
    assert out["level"] == "WARNING" and out["logger"] == "chargegate.test"
    assert out["message"] == "synced HZ in 1.2s" and out["request_id"] == "req-42"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", out["time"])
    assert "exception" not in out


def test_the_json_formatter_carries_the_exception_text_and_no_request_id_outside_requests():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        line = JsonFormatter().format(record("failed", exc_info=sys.exc_info()))
    out = json.loads(line)
    assert out["request_id"] is None
    assert "Traceback" in out["exception"] and "ValueError: boom" in out["exception"]


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("headers: {'authorization': 'Bearer eyJhbGciOi.abc.def', 'accept': '*/*'}", "eyJhbGciOi"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("sent x-api-key=cg_fleet-1_s3cr3tS3cr3t", "s3cr3tS3cr3t"),
        ("[(b'x-api-key', b'cg_ops_AbCdEf0123')]", "AbCdEf0123"),
        ("client used cg_fleet-1_Zm9vYmFyYmF6 from 10.0.0.1", "Zm9vYmFyYmF6"),
        ("token Bearer abc.def.ghi rejected", "abc.def.ghi"),
    ],
)
def test_credentials_are_scrubbed_from_log_lines(text, leaked):
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record(text))
        assert leaked not in line and "[REDACTED]" in line
    assert "cg_fleet-1_[REDACTED]" in redact("key cg_fleet-1_Zm9vYmFyYmF6")  # the public id stays


def test_redact_headers():
    headers = {"Authorization": "Bearer x", "X-Api-Key": "cg_a12_b", "Accept": "*/*"}
    assert redact_headers(headers) == {
        "Authorization": "[REDACTED]",
        "X-Api-Key": "[REDACTED]",
        "Accept": "*/*",
    }


def test_install_routes_the_root_logger_through_one_handler():
    root = logging.getLogger()
    saved, level, disabled = list(root.handlers), root.level, root.manager.disable
    stream = io.StringIO()
    logger = logging.getLogger("chargegate.tests.install")
    try:
        # Other tests in the process (uvicorn, schemathesis, …) may leave global logging switches
        # set; this test is about where records go once they are emitted.
        logging.disable(logging.NOTSET)
        logger.disabled = False
        install("json", logging.INFO, stream)
        logger.info("started")  # any logger, through the root
        assert json.loads(stream.getvalue())["logger"] == "chargegate.tests.install"
        with pytest.raises(ValueError, match="log format"):
            install("xml")
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
        logging.disable(disabled)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    app = create_app(Settings(gateway=GatewaySettings(mode="dev")))
    async with serving(app, bind()) as url, aiohttp.ClientSession() as http:
        yield url, http


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("client-req-0001", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("caf\u00e9", False),  # not ASCII
        ("tab\there", False),
        ("", False),
        (None, False),
    ],
)
async def test_the_request_id_round_trip(gateway, sent, kept):
    url, http = gateway
    headers = {"x-request-id": sent} if sent is not None else {}
    body = {"query": "{ __typename }"}
    async with http.post(f"{url}/graphql", json=body, headers=headers) as r:
        assert r.status == 200
        got = r.headers["x-request-id"]
    assert got == sent if kept else GENERATED.match(got)


async def test_every_route_and_refusal_carries_a_request_id_and_log_lines_name_it(gateway):
    url, http = gateway
    async with http.get(f"{url}/healthz") as r:
        assert GENERATED.match(r.headers["x-request-id"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway.security.middleware")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        headers = {"x-request-id": "trace-me", "x-api-key": "cg_nobody_notAValidSecret"}
        async with http.post(f"{url}/graphql", json={"query": "{ __typename }"}, headers=headers) as r:
            assert r.status == 401 and r.headers["x-request-id"] == "trace-me"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["trace-me"]
    assert "notAValidSecret" not in stream.getvalue()
