"""`chargegate serve --demo`: two T/CEC simulators embedded, 600 stations, the README's first query."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import aiohttp

from gateway.app.asgi import create_app
from gateway.app.demo import demo_lifespan
from gateway.app.server import bind, serving
from gateway.settings.load import load
from tests.app.conftest import poll

FIRST_QUERY = (
    "{ stations(near:{lat:30.274,lon:120.155}, radiusKm:5, first:10){ totalCount edges{ distanceKm "
    "node{ id name operator{ id name } connectors{ id status type powerType maxPowerKw "
    "currentPrice{ totalPerKwh{ amount currency } } } } } } }"
)

SHANGHAI = (
    "{ stations(near:{lat:31.230,lon:121.474}, radiusKm:5, first:40){ edges{ node{ operator{ protocol } "
    "connectors{ status currentPrice{ totalPerKwh{ amount currency } } } } } } }"
)


async def test_demo_serves_the_first_query():
    sock = bind()
    settings = load(None, env={}, mode="demo")
    settings = replace(settings, gateway=replace(settings.gateway, port=sock.getsockname()[1]))
    app = create_app(settings, extra_lifespan=demo_lifespan)
    async with serving(app, sock) as url, aiohttp.ClientSession() as http:

        async def ready():
            async with http.get(f"{url}/readyz") as r:
                return (await r.json()) if r.status == 200 else None

        async def all_synced():
            body = await ready()
            return body if body and body["stations"] >= 820 else None

        assert (await poll(all_synced, timeout_s=20))["stations"] >= 820
        async with http.get(f"{url}/graphql", headers={"accept": "text/html"}) as r:
            assert r.status == 200 and "graphiql" in (await r.text()).lower()  # the IDE is on in demo mode
        async with http.post(f"{url}/graphql", json={"query": FIRST_QUERY}) as r:
            body = await r.json()
        assert "errors" not in body
        edges = body["data"]["stations"]["edges"]
        assert len(edges) == 10
        assert [e["distanceKm"] for e in edges] == sorted(e["distanceKm"] for e in edges)
        for e in edges:
            for c in e["node"]["connectors"]:
                assert c["status"] != "UNKNOWN"
                assert c["currentPrice"]["totalPerKwh"]["currency"] == "CNY"
                assert Decimal(c["currentPrice"]["totalPerKwh"]["amount"]) > 0
        async with http.post(f"{url}/graphql", json={"query": "{ operators { name protocol } }"}) as r:
            operators = (await r.json())["data"]["operators"]
        assert sum(1 for o in operators if o["protocol"] == "tcec") >= 2
        assert sum(1 for o in operators if o["protocol"] == "ocpi") >= 1
        async with http.post(f"{url}/graphql", json={"query": SHANGHAI}) as r:
            body = await r.json()
        assert "errors" not in body
        by_protocol: dict[str, list] = {}
        for e in body["data"]["stations"]["edges"]:
            by_protocol.setdefault(e["node"]["operator"]["protocol"], []).extend(e["node"]["connectors"])
        assert set(by_protocol) == {"tcec", "ocpi"}
        for connectors in by_protocol.values():
            assert all(c["status"] != "UNKNOWN" and c["currentPrice"] for c in connectors)


def test_demo_mode_has_a_public_admin_key_and_production_does_not():
    from gateway.app.demo import DEMO_ADMIN_KEY, with_demo_admin_key
    from gateway.security.apikeys import KeyStore, Scope, parse_key_records

    demo = with_demo_admin_key(load(None, env={}, mode="demo")).security
    key = KeyStore(parse_key_records(demo.api_keys), demo.key_hash_secret).authenticate(DEMO_ADMIN_KEY)
    assert key is not None and key.allows(Scope.ADMIN)
    production = with_demo_admin_key(load(None, env={})).security
    assert production.api_keys == () and not production.key_hash_secret
