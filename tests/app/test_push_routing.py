"""The operators' push apps as the gateway mounts them: each at its prefix, beside the gateway's own
routes, with the router's usual answers (404, 405, trailing-slash redirect) everywhere else."""

from __future__ import annotations

from operators.domain import ConnectorStatus
from resolvers import ids
from tests.app.conftest import HZ, OCPI, SH, Stack, running_stack
from tests.inprocess import in_process


async def test_each_operator_answers_under_its_own_prefix(stack_settings) -> None:
    async with running_stack(stack_settings, ocpi_stations=2) as stack:
        for op_id in (HZ, SH):  # T/CEC answers a refusal in its own envelope: the route is there
            async with stack.http.post(f"{stack.url}/push/tcec/{op_id}/query_token", data=b"{}") as r:
                assert r.status == 200 and "Ret" in await r.json(content_type=None)
        async with stack.http.get(f"{stack.url}/ocpi/{OCPI}/versions") as r:
            assert r.status == 401  # OCPI: the route is there, the token is missing
            assert (await r.json())["status_code"] == 2000


async def test_outside_every_prefix_is_the_routers_404(stack: Stack) -> None:
    for path in ("/push/tcec/NOBODY/query_token", f"/push/tcec/{HZ}/no_such_interface", "/nowhere"):
        async with stack.http.post(f"{stack.url}{path}", data=b"{}") as r:
            assert (r.status, await r.text()) == (404, "Not Found"), path
    async with stack.http.get(f"{stack.url}/push/tcec/{HZ}/query_token") as r:
        assert r.status == 405  # the push app's own route, wrong method
    async with stack.http.get(f"{stack.url}/healthz/", allow_redirects=False) as r:
        assert (r.status, r.headers["location"]) == (307, f"{stack.url}/healthz")


async def test_a_push_app_without_a_web_framework_is_mounted_in_process():
    """The fake operator's push app is plain ASGI: mounted like the others, no socket needed."""
    async with in_process() as gateway:
        fake = gateway.fake("FK1")
        connector = next(cid for cid, s in fake.statuses.items() if s is ConnectorStatus.AVAILABLE)
        pushed = await gateway.client.post(
            "/push/fake/FK1/status", json={"connector": connector, "status": "FAULTED"}
        )
        assert pushed.status_code == 204 and fake.statuses[connector] is ConnectorStatus.FAULTED
        station = fake.stations[connector.rpartition("-")[0]]
        node = "query($id: ID!) { node(id: $id) { ... on Station { connectors { id status } } } }"
        shown = (await gateway.data(node, {"id": ids.station_id("FK1", station.id)}))["node"]
        assert {"id": ids.connector_id("FK1", connector), "status": "FAULTED"} in shown["connectors"]
        refused = {
            ("POST", "/push/fake/FK1/status", b"{}"): 400,
            ("POST", "/push/fake/FK1/status", b'{"connector": "NOPE", "status": "FAULTED"}'): 404,
            ("GET", "/push/fake/FK1/status", b""): 405,
            ("POST", "/push/fake/FK1/other", b"{}"): 404,
            ("POST", "/push/fake/NOBODY/status", b"{}"): 404,
        }
        for (method, path, body), status in refused.items():
            response = await gateway.client.request(method, path, content=body)
            assert response.status_code == status, (method, path, response.text)
