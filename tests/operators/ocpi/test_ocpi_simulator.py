"""The simulator on its own: determinism, plausible networks, strict OCPI objects, paging rules, CLI."""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import pytest

from operators.ocpi import auth, codec
from operators.ocpi.models import Location, Tariff
from operators.ocpi.sim import cli as simulator_cli
from operators.ocpi.sim.server import OcpiSimulator
from tests.operators.ocpi.helpers import eventually


def test_same_seed_same_network() -> None:
    a, b, c = (
        OcpiSimulator(stations=20, seed=3),
        OcpiSimulator(stations=20, seed=3),
        OcpiSimulator(stations=20, seed=4),
    )
    assert a.locations == b.locations and a.tariffs == b.tariffs
    assert a.locations != c.locations


def test_china_network_uses_gbt_and_cny() -> None:
    sim = OcpiSimulator(stations=40, seed=1)
    locations = [codec.from_json(Location, raw) for raw in sim.locations.values()]  # strict parsing
    standards = {c.standard for loc in locations for e in loc.evses for c in e.connectors}
    assert standards == {"GBT_AC", "GBT_DC"}
    assert all(abs(float(loc.coordinates.latitude) - 31.23) < 0.2 for loc in locations)
    tariffs = [codec.from_json(Tariff, raw) for raw in sim.tariffs.values()]
    assert {t.currency for t in tariffs} == {"CNY"}
    assert {loc.time_zone for loc in locations} == {"Asia/Shanghai"}


def test_european_network_follows_country_code() -> None:
    sim = OcpiSimulator(stations=40, seed=1, country_code="DE", party_id="SIM", center=(52.52, 13.405))
    standards = {
        c["standard"] for loc in sim.locations.values() for e in loc["evses"] for c in e["connectors"]
    }
    assert standards == {"IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO"}
    assert {t["currency"] for t in sim.tariffs.values()} == {"EUR"}


async def test_paging_rules(ocpi_http: aiohttp.ClientSession) -> None:
    async with OcpiSimulator(stations=0, seed=1) as sim:
        # Without registration token A opens only versions and credentials.
        headers = {"Authorization": auth.header(sim.config.token)}
        async with ocpi_http.get(sim.url("locations"), headers=headers) as resp:
            assert resp.status == 401
        sim.token_c = "c-token"  # as if registered
        headers = {"Authorization": auth.header("c-token")}
        async with ocpi_http.get(sim.url("sessions"), headers=headers) as resp:
            assert resp.status == 400 and (await resp.json())["status_code"] == 2001  # date_from required
        async with ocpi_http.get(sim.url("tariffs"), params={"limit": "1"}, headers=headers) as resp:
            body = codec.loads(await resp.read())
            assert resp.headers["X-Total-Count"] == "2" and resp.headers["X-Limit"] == "50"
            assert len(body["data"]) == 1 and "offset=1" in resp.links["next"]["url"].query_string
        async with ocpi_http.get(sim.url("tariffs"), params={"offset": "1"}, headers=headers) as resp:
            assert "Link" not in resp.headers  # last page
        async with ocpi_http.get(sim.url("tariffs"), params={"limit": "x"}, headers=headers) as resp:
            assert resp.status == 400
        async with ocpi_http.post(sim.url("credentials"), headers=headers, data="{}") as resp:
            assert resp.status == 405  # already registered
        assert sim.calls["tariffs"] == 3


async def test_credentials_callback_failure_is_3001(ocpi_http: aiohttp.ClientSession) -> None:
    async with OcpiSimulator(stations=1, seed=1) as sim:
        creds = {"token": "b", "url": "http://127.0.0.1:9/versions", "roles": []}
        headers = {"Authorization": auth.header(sim.config.token)}
        async with ocpi_http.post(sim.url("credentials"), data=codec.dumps(creds), headers=headers) as resp:
            assert (await resp.json())["status_code"] == 3001
        assert sim.token_c is None


def test_cli_arguments() -> None:
    parser = argparse.ArgumentParser()
    simulator_cli.add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--token",
            "T",
            "--stations",
            "5",
            "--seed",
            "9",
            "--center",
            "30.274,120.155",
            "--error-rate",
            "0.1",
        ]
    )
    config = simulator_cli.config_from_args(args)
    assert (config.port, config.token, config.stations, config.seed) == (0, "T", 5, 9)
    assert config.center == (30.274, 120.155) and config.faults.error_rate == 0.1
    with pytest.raises(SystemExit):
        parser.parse_args(["--center", "north"])


async def test_cli_run_prints_where_it_listens(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    simulator_cli.add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--token", "secret-token-a", "--stations", "3"])
    task = asyncio.create_task(simulator_cli.run(args))
    out: list[str] = []
    await eventually(
        lambda: out.append(capsys.readouterr().out) or "versions endpoint: http://" in "".join(out)
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "secret-token-a" not in "".join(out)
