"""status_code / HTTP / transport failures → the port's error tree; fault injection; config validation."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from operators.base import (
    OperatorAuthError,
    OperatorConfigError,
    OperatorError,
    OperatorProtocolError,
    OperatorRejected,
    OperatorTimeout,
    OperatorUnavailable,
)
from operators.ocpi.adapter import build
from operators.ocpi.client import error_for_http, error_for_status_code
from tests.operators.ocpi.helpers import Gateway


@pytest.mark.parametrize(
    ("status_code", "error"),
    [
        (1000, None),
        (1901, None),
        (2000, OperatorRejected),
        (2001, OperatorRejected),
        (2003, OperatorRejected),
        (2004, OperatorRejected),
        (2901, OperatorRejected),
        (3000, OperatorUnavailable),
        (3001, OperatorUnavailable),
        (3002, OperatorProtocolError),
        (3003, OperatorProtocolError),
        (4001, OperatorUnavailable),
        (4002, OperatorTimeout),
        (999, OperatorProtocolError),
        (5000, OperatorProtocolError),
    ],
)
def test_status_code_table(status_code: int, error: type[OperatorError] | None) -> None:
    assert error_for_status_code(status_code) is error


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, OperatorRejected),
        (401, OperatorAuthError),
        (403, OperatorAuthError),
        (404, OperatorRejected),
        (405, OperatorRejected),
        (429, OperatorUnavailable),
        (500, OperatorUnavailable),
        (503, OperatorUnavailable),
        (504, OperatorTimeout),
    ],
)
def test_http_status_table(status: int, error: type[OperatorError]) -> None:
    assert error_for_http(status) is error


async def _registered(gw: Gateway) -> None:
    await gw.op.list_stations(None, None)


@pytest.mark.parametrize(
    ("fault", "value", "error"),
    [
        ("down", True, OperatorUnavailable),
        ("error_rate", 1.0, OperatorUnavailable),
        ("malformed_rate", 1.0, OperatorProtocolError),
        ("timeout_rate", 1.0, OperatorTimeout),
    ],
)
async def test_faults_become_port_errors(ocpi_gateway: Gateway, fault: str, value: Any, error: type) -> None:
    gw = ocpi_gateway
    await _registered(gw)
    setattr(gw.sim.faults, fault, value)
    gw.op.client.timeout = aiohttp.ClientTimeout(total=0.3)
    with pytest.raises(error) as caught:
        await gw.op.list_stations(None, None)
    assert caught.value.operator_id == "CNSHA"
    if fault == "timeout_rate":
        assert isinstance(caught.value.__cause__, TimeoutError)  # raised from the cause
    assert gw.sim.token_c not in str(caught.value) and gw.op.token_b not in str(caught.value)


async def test_error_rate_is_seeded_and_partial(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await _registered(gw)
    gw.sim.faults.error_rate = 0.5
    outcomes = []
    for _ in range(20):
        try:
            await gw.op.connector_statuses(["LOC00001"])
            outcomes.append("ok")
        except OperatorUnavailable:
            outcomes.append("error")
    assert 0 < outcomes.count("error") < 20


async def test_latency_within_timeout_is_fine(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await _registered(gw)
    gw.sim.faults.latency_s = 0.05
    page = await gw.op.list_stations(None, None)
    assert len(page.stations) == 10


async def test_statuses_survive_partial_failures(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await _registered(gw)
    states = await gw.op.connector_statuses(["LOC00001", "MISSING"])
    assert states and all(k.startswith("LOC00001*") for k in states)


async def test_unreachable_operator(ocpi_http: aiohttp.ClientSession) -> None:
    async def sink(operator_id: str, event: object) -> None:
        raise AssertionError("no pushes expected")

    config = {"id": "CNSHA", "name": "x", "versions_url": "http://127.0.0.1:9/ocpi/versions", "token": "t"}
    op = build(config, ocpi_http, sink, "http://127.0.0.1:1")
    with pytest.raises(OperatorUnavailable) as caught:
        await op.list_stations(None, None)
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


GOOD = {"id": "CNSHA", "name": "Sim", "versions_url": "http://x/ocpi/versions", "token": "abc"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"id": "CN*SHA"}, "id"),
        ({"id": None}, "id"),
        ({"name": ""}, "name"),
        ({"versions_url": "ftp://x"}, "versions_url"),
        ({"token": "has space"}, "token"),
        ({"token": 5}, "token"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": True}, "timeout_s"),
        ({"country_code": "china"}, "country_code"),
        ({"party_id": "TOOLONG"}, "party_id"),
        ({"token_encoding": "hex"}, "token_encoding"),
        ({"concurrency": 2.5}, "concurrency"),
    ],
)
async def test_config_errors_name_the_key(ocpi_http: aiohttp.ClientSession, change: dict, key: str) -> None:
    async def sink(operator_id: str, event: object) -> None: ...

    config = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(OperatorConfigError) as caught:
        build(config, ocpi_http, sink, "http://127.0.0.1:8000")
    assert caught.value.key == key


async def test_config_defaults(ocpi_http: aiohttp.ClientSession) -> None:
    async def sink(operator_id: str, event: object) -> None: ...

    op = build(GOOD, ocpi_http, sink, "http://127.0.0.1:8000/")
    assert op.settings.timeout_s == 2.0 and op.settings.country_code == "CN" and op.settings.party_id == "CGW"
    assert op.our_credentials("b").url == "http://127.0.0.1:8000/ocpi/CNSHA/versions"
    assert "abc" not in repr(op.settings)
