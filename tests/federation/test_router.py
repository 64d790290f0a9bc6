"""A real router: chargegate (production mode) and the example loyalty subgraph composed with
@theguild/federation-composition and served by Hive Gateway; queries that join both subgraphs,
with and without a driver's token passed through.

Node.js comes from scripts/node.sh, the npm packages from examples/router's package-lock.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from gateway.app.server import bind, serving
from resolvers import ids
from tests.federation.conftest import ROUTER, Subgraph, bearer

ROOT = Path(__file__).resolve().parent.parent.parent
ROUTER_DIR = ROOT / "examples" / "router"
START_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def node() -> str:
    """node's path, after installing Node.js (when missing) and the router's locked packages."""
    if not (ROUTER_DIR / "node_modules" / "@graphql-hive" / "gateway-runtime" / "package.json").exists():
        subprocess.run([str(ROUTER_DIR / "install.sh")], check=True, timeout=600)
    found = subprocess.run(
        [str(ROOT / "scripts" / "node.sh")], check=True, capture_output=True, text=True, timeout=600
    )
    return found.stdout.strip()


def loyalty_example() -> ModuleType:
    name = "chargegate_example_loyalty"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "loyalty" / "loyalty.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


def router_env(key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CHARGEGATE_ROUTER_KEY"}
    return {**env, "CHARGEGATE_ROUTER_KEY": key} if key else env


async def run_node(node: str, *args: str, key: str | None = ROUTER.key) -> tuple[int, str, str]:
    env = router_env(key)
    proc = await asyncio.create_subprocess_exec(
        node, *args, cwd=ROUTER_DIR, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=START_TIMEOUT_S)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def router(node: str, supergraph: Path) -> AsyncIterator[str]:
    """Hive Gateway serving ``supergraph``; yields its /graphql URL."""
    env = {**os.environ, "CHARGEGATE_ROUTER_KEY": ROUTER.key}
    proc = await asyncio.create_subprocess_exec(
        node,
        "serve.mjs",
        str(supergraph),
        "--port",
        "0",
        cwd=ROUTER_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=START_TIMEOUT_S)).decode()
        assert line.startswith("router listening on "), line
        yield line.split()[-1]
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def ask(
    http: aiohttp.ClientSession, url: str, query: str, headers: dict[str, str] | None = None
) -> Any:
    async with http.post(url, json={"query": query}, headers=headers or {}) as r:
        return await r.json()


async def test_a_router_composes_chargegate_with_loyalty_and_joins_them(
    node: str, subgraph: Subgraph, tmp_path: Path
):
    catalogue = subgraph.stack.runtime.catalogue
    stations = [s for _, s in catalogue.near(30.274, 120.155, 50)][:3]
    station_ids = [ids.station_id(s.operator_id, s.id) for s in stations]
    alice, bob = ids.encode("Driver", "alice"), ids.encode("Driver", "bob")
    example = loyalty_example()
    loyalty = example.Loyalty.from_json(
        {
            "drivers": {
                alice: {"points": 120, "favourites": station_ids[:2]},
                bob: {"points": 300, "favourites": station_ids[1:3]},
            }
        }
    )
    http = subgraph.stack.http
    async with serving(example.create_app(loyalty), bind()) as loyalty_url:
        supergraph, public = tmp_path / "supergraph.graphql", tmp_path / "public.graphql"
        status, _, err = await run_node(
            node,
            "compose.mjs",
            f"chargegate={subgraph.stack.url}/graphql",
            f"loyalty={loyalty_url}/graphql",
            "--out",
            str(supergraph),
            "--public",
            str(public),
        )
        assert status == 0, err
        api = public.read_text(encoding="utf-8")
        assert "loyaltyPoints: Int!" in api and "favouriteCount: Int!" in api and "stationCount" in api
        assert "OperatorHealth" not in api and "_entities" not in api  # internal fields stay inside

        async with router(node, supergraph) as url:
            # The driver's token passes through: chargegate's `me`, loyalty's points, and the
            # favourite stations resolved back in chargegate through _entities.
            favourites = "favouriteStations { id name favouriteCount operator { name } }"
            mine = await ask(http, url, f"{{ me {{ id name loyaltyPoints {favourites} }} }}", bearer("alice"))
            assert not mine.get("errors"), mine
            me = mine["data"]["me"]
            assert (me["id"], me["name"], me["loyaltyPoints"]) == (alice, "Alice", 120)
            assert [s["id"] for s in me["favouriteStations"]] == station_ids[:2]
            assert [s["name"] for s in me["favouriteStations"]] == [s.name for s in stations[:2]]
            assert [s["favouriteCount"] for s in me["favouriteStations"]] == [1, 2]
            assert all(s["operator"]["name"] for s in me["favouriteStations"])

            # From chargegate's search into loyalty, anonymously.
            near = "near: {lat: 30.274, lon: 120.155}, radiusKm: 50, first: 3"
            found = await ask(
                http, url, f"{{ stations({near}) {{ edges {{ node {{ id favouriteCount }} }} }} }}"
            )
            assert not found.get("errors"), found
            counts = {
                e["node"]["id"]: e["node"]["favouriteCount"] for e in found["data"]["stations"]["edges"]
            }
            assert counts == dict(zip(station_ids, [1, 2, 1], strict=True))

            # From loyalty into chargegate: only the caller's own Driver resolves there.
            leaders = "{ topDrivers { id loyaltyPoints name } }"
            as_alice = await ask(http, url, leaders, bearer("alice"))
            assert as_alice["data"]["topDrivers"] == [
                {"id": bob, "loyaltyPoints": 300, "name": None},
                {"id": alice, "loyaltyPoints": 120, "name": "Alice"},
            ], as_alice
            anonymous = await ask(http, url, leaders)
            assert [d["name"] for d in anonymous["data"]["topDrivers"]] == [None, None], anonymous

            hidden = await ask(http, url, "{ operators { name health { status } } }")
            assert hidden.get("errors") and not hidden.get("data"), hidden  # not in the supergraph


async def test_composition_needs_the_router_key_in_production(node: str, subgraph: Subgraph, tmp_path: Path):
    out = tmp_path / "supergraph.graphql"
    status, _, err = await run_node(
        node, "compose.mjs", f"chargegate={subgraph.stack.url}/graphql", "--out", str(out), key=None
    )
    assert status == 1 and "FORBIDDEN" in err, err
    assert not out.exists()
