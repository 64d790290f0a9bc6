"""Our receiver endpoints over real HTTP: auth, OCPI error envelopes, PUT/PATCH merges reaching the sink."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from operators import domain
from operators.ocpi import auth, codec, mapping
from tests.operators.ocpi.helpers import Gateway

EXAMPLES = Path(__file__).resolve().parent / "official"  # unmodified copies of shared/specs/ocpi-examples


def _example(name: str) -> Any:
    return codec.loads((EXAMPLES / name).read_bytes())


def _location() -> dict[str, Any]:
    loc = _example("location_example.json")
    loc["country_code"], loc["party_id"] = "CN", "SHA"
    return loc


async def _send(
    gw: Gateway, method: str, path: str, body: Any = None, token: str | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    url = f"{gw.op.public_url}{gw.op.base_path}{path}"
    headers = {
        "Authorization": auth.header(token or await gw.op.accepted_token()),
        "Content-Type": "application/json",
    }
    data = raw if raw is not None else (codec.dumps(body).encode() if body is not None else None)
    async with gw.http.request(method, url, data=data, headers=headers) as resp:
        return resp.status, codec.loads(await resp.read())


LOC = "/2.2.1/locations/CN/SHA/LOC1"


async def test_versions_and_details_need_token_b(ocpi_gateway: Gateway) -> None:
    status, body = await _send(ocpi_gateway, "GET", "/versions")
    assert status == 200 and body["data"][0]["version"] == "2.2.1"
    status, body = await _send(ocpi_gateway, "GET", "/2.2.1")
    assert {e["identifier"] for e in body["data"]["endpoints"]} >= {
        "locations",
        "sessions",
        "cdrs",
        "commands",
    }
    status, body = await _send(ocpi_gateway, "GET", "/versions", token="wrong")
    assert status == 401 and body["status_code"] == 2000 and "timestamp" in body


async def test_plain_token_is_accepted(ocpi_gateway: Gateway) -> None:
    url = f"{ocpi_gateway.op.public_url}{ocpi_gateway.op.base_path}/versions"
    async with ocpi_gateway.http.get(
        url, headers={"Authorization": auth.header(await ocpi_gateway.op.accepted_token(), "plain")}
    ) as r:
        assert r.status == 200


async def test_location_put_then_patches_merge(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    assert (await _send(gw, "PUT", LOC, _location()))[0] == 201
    station = gw.of(domain.Station)[-1]
    assert station.id == "LOC1" and len(station.connectors) == 3 and station.timezone == "Europe/Brussels"
    assert len(gw.of(domain.ConnectorState)) == 3

    status, _ = await _send(gw, "PATCH", LOC, _example("location_patch_example_location.json"))
    assert status == 200
    renamed = gw.of(domain.Station)[-1]
    assert renamed.name == "Interparking Gent Zuid" and len(renamed.connectors) == 3  # EVSEs kept

    await _send(gw, "PATCH", LOC + "/3257", _example("location_patch_example_status.json"))
    state = gw.of(domain.ConnectorState)[-1]
    assert (state.connector_id, state.status, state.source) == (
        mapping.connector_key("LOC1", "3257", "1"),
        domain.ConnectorStatus.CHARGING,
        domain.StatusSource.PUSH,
    )
    stored = await gw.op.store.location("LOC1")
    assert stored is not None
    assert stored["last_updated"] == "2019-06-24T12:39:09Z"  # parent bumped (§8.2.2)

    await _send(gw, "PATCH", LOC + "/3256/2", _example("location_patch_example_tariff.json"))
    patched = await gw.op.store.location("LOC1")
    assert patched is not None and patched != stored
    assert patched["evses"][0]["connectors"][1]["tariff_ids"] == ["15"]
    assert patched["evses"][0]["connectors"][1]["standard"] == "IEC_62196_T2"

    await _send(gw, "PATCH", LOC + "/3256", _example("location_patch_example_remove_evse.json"))
    assert [c.id for c in gw.of(domain.Station)[-1].connectors] == [
        mapping.connector_key("LOC1", "3257", "1")
    ]

    status, body = await _send(gw, "GET", LOC + "/3256/2")
    assert status == 200 and body["data"]["tariff_ids"] == ["15"]


async def test_evse_put_replaces_the_evse(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    await _send(gw, "PUT", LOC, _location())
    evse = copy.deepcopy(_location()["evses"][1])
    evse["connectors"][0]["standard"] = "CHADEMO"
    evse["connectors"][0]["power_type"] = "DC"
    assert (await _send(gw, "PUT", LOC + "/3257", evse))[0] == 200
    station = gw.of(domain.Station)[-1]
    chademo = next(c for c in station.connectors if c.id == mapping.connector_key("LOC1", "3257", "1"))
    assert chademo.type is domain.ConnectorType.CHADEMO and chademo.power_type is domain.PowerType.DC


@pytest.mark.parametrize(
    ("method", "path", "body", "raw", "http", "code"),
    [
        ("PUT", LOC, None, b"{not json", 400, 2001),
        ("PUT", LOC, {"id": "LOC1"}, None, 400, 2001),  # missing required fields
        ("PUT", "/2.2.1/locations/CN/SHA/OTHER", "location", None, 400, 2001),  # id differs from URL
        ("PATCH", LOC, {"name": "x"}, None, 400, 2001),  # PATCH without last_updated
        (
            "PATCH",
            "/2.2.1/locations/CN/SHA/UNKNOWN/1",
            {"status": "CHARGING", "last_updated": "2024-01-01T00:00:00Z"},
            None,
            404,
            2003,
        ),
        ("PUT", "/2.2.1/locations/NL/TNM/LOC1", "location", None, 404, 2000),  # not this CPO's country/party
        ("PUT", "/2.2.1/sessions/CN/SHA/S1", [1, 2], None, 400, 2001),
        (
            "PATCH",
            "/2.2.1/sessions/CN/SHA/S9",
            {"kwh": 1, "last_updated": "2024-01-01T00:00:00Z"},
            None,
            404,
            2001,
        ),
        ("POST", "/2.2.1/cdrs", {"id": "x"}, None, 400, 2001),
        ("POST", "/commands/START_SESSION/unknown-ref", {"result": "ACCEPTED"}, None, 404, 2000),
        ("POST", "/2.2.1/credentials", {}, None, 405, 2000),
    ],
)
async def test_bad_input_gets_an_ocpi_error(
    ocpi_gateway: Gateway, method: str, path: str, body: Any, raw: bytes | None, http: int, code: int
) -> None:
    payload = _location() if body == "location" else body
    status, envelope = await _send(ocpi_gateway, method, path, payload, raw=raw)
    assert (status, envelope["status_code"]) == (http, code)
    assert "timestamp" in envelope
    assert not ocpi_gateway.events


async def test_session_put_patch_and_cdr(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    session = _example("session_example_1_simple_start.json")
    session |= {"country_code": "CN", "party_id": "SHA", "authorization_reference": "my-ref"}
    assert (await _send(gw, "PUT", "/2.2.1/sessions/CN/SHA/101", session))[0] == 201
    await _send(
        gw,
        "PATCH",
        "/2.2.1/sessions/CN/SHA/101",
        {"status": "ACTIVE", "last_updated": "2020-03-09T10:18:00Z"},
    )
    patch = _example("session_patch_example_charging_period.json")
    await _send(gw, "PATCH", "/2.2.1/sessions/CN/SHA/101", patch)
    await _send(gw, "PATCH", "/2.2.1/sessions/CN/SHA/101", patch)
    assert (
        len((await gw.op.store.session("101") or {})["charging_periods"]) == 2
    )  # PATCHed periods are appended
    progress = gw.of(domain.SessionProgress)
    assert [p.phase for p in progress] == [domain.SessionPhase.STARTING] + [domain.SessionPhase.CHARGING] * 3
    assert progress[-1].session_ref == "my-ref" and progress[-1].energy_kwh == 15
    assert progress[-1].cost == codec.loads("0.88")

    cdr = _example("cdr_example.json") | {"session_id": "101"}
    url = f"{gw.op.public_url}{gw.op.base_path}/2.2.1/cdrs"
    headers = {"Authorization": auth.header(await gw.op.accepted_token())}
    async with gw.http.post(url, data=codec.dumps(cdr), headers=headers) as resp:
        assert resp.status == 201 and resp.headers["Location"].endswith("/2.2.1/cdrs/12345")
    order = gw.of(domain.FinalOrder)[0]
    assert order.session_ref == "my-ref" and order.total == codec.loads("4.40")
    assert [(line.kind, line.amount) for line in order.lines] == [("TIME", codec.loads("4.40"))]
    status, body = await _send(gw, "GET", "/2.2.1/cdrs/12345")
    assert status == 200 and body["data"]["id"] == "12345"


async def test_tariff_push_updates_the_table(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    tariff = _example("tariff_1_simple_2hour.json") | {"country_code": "CN", "party_id": "SHA"}
    assert (await _send(gw, "PUT", "/2.2.1/tariffs/CN/SHA/12", tariff))[0] == 200
    assert gw.op.store.tariffs["12"].currency == "EUR"
    assert (await _send(gw, "GET", "/2.2.1/tariffs/CN/SHA/12"))[1]["data"]["currency"] == "EUR"
    await _send(gw, "DELETE", "/2.2.1/tariffs/CN/SHA/12")
    assert "12" not in gw.op.store.tariffs and await gw.op.store.tariff("12") is None
