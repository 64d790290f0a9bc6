"""The whole gateway in this process over fake operators: no socket, no simulator, no uvicorn.

The app is built by ``create_app`` from settings as any deployment is — each fake is an operator table
of protocol ``fake`` (:mod:`operators.testing`), so it goes through the registry, the runtime's
wrappers (cache, breaker, metrics), the catalogue sync and the session service like an adapter —
with its lifespan entered directly and requests sent through httpx's ASGI transport. Tests drive the
fakes (faults, statuses, session progress, final orders) through :meth:`InProcess.fake`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from gateway.app.asgi import create_app
from gateway.identity.bearer import issue_token
from gateway.runtime import Runtime
from gateway.settings.load import AuthSettings, GatewaySettings, Settings
from operators.testing import FakeOperator

JWT_KEY = "in-process-jwt-key-0123456789abcdef"
# Two operators a few km apart, so one search can span both; their native ids overlap on purpose
# (both have a station S0001): the global keys are (operator, native id).
FAKES: dict[str, tuple[float, float]] = {"FK1": (31.230, 121.474), "FK2": (31.260, 121.520)}


def fake_tables(**options: Any) -> tuple[dict[str, Any], ...]:
    """Operator tables for the fakes in :data:`FAKES`; ``options`` go into every table."""
    return tuple(
        {"id": op_id, "protocol": "fake", "name": f"Fake {op_id}", "stations": 40, "seed": seed}
        | {"center": list(center)}
        | options
        for seed, (op_id, center) in enumerate(FAKES.items(), start=1)
    )


def default_settings() -> Settings:
    return Settings(gateway=GatewaySettings(mode="dev"), auth=AuthSettings(jwt_key=JWT_KEY))


@dataclass
class InProcess:
    client: httpx.AsyncClient
    runtime: Runtime

    def fake(self, operator_id: str) -> FakeOperator:
        adapter = self.runtime.records[operator_id].adapter
        assert isinstance(adapter, FakeOperator)
        return adapter

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, driver: str | None = None
    ) -> dict[str, Any]:
        """The response body (``data`` and ``errors``) of one operation, as ``driver`` if given."""
        headers = {"authorization": f"Bearer {issue_token(driver, JWT_KEY)}"} if driver else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: Mapping[str, Any] | None = None, *, driver: str | None = None
    ) -> dict[str, Any]:
        body = await self.graphql(query, variables, driver=driver)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@contextlib.asynccontextmanager
async def in_process(
    settings: Settings | None = None, operators: Sequence[Mapping[str, Any]] | None = None
) -> AsyncIterator[InProcess]:
    """The app over ``operators`` (default: :func:`fake_tables`), its first catalogue sync done."""
    settings = (settings or default_settings()).with_operators(tuple(operators or fake_tables()))
    settings = replace(settings, gateway=replace(settings.gateway, public_url="http://gateway.test"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        async with asyncio.timeout(10):
            await runtime.catalogue.first_sync_done.wait()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield InProcess(client, runtime)
