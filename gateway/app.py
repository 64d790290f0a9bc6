"""The Starlette application: GraphQL, health, readiness, metrics and the operators' push routes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.config import Settings
from gateway.metrics import CONTENT_TYPE_LATEST
from gateway.runtime import Runtime, running
from resolvers.context import RequestContext
from resolvers.schema import build_schema

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL):
    """Strawberry's ASGI app with our per-request context (loaders, deadline, operator errors)."""

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:
        runtime: Runtime = request.app.state.runtime
        return RequestContext.create(runtime, request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not runtime.catalogue.first_sync_done.is_set():
        return JSONResponse({"status": "starting", "stations": len(runtime.catalogue)}, status_code=503)
    return JSONResponse({"status": "ready", "stations": len(runtime.catalogue)})


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings, *, extra_lifespan: Any = None) -> Starlette:
    """The app for ``settings``. ``extra_lifespan(settings)`` (an async context manager yielding
    settings) runs first; demo mode uses it to start the embedded simulators."""
    schema = build_schema()
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.gateway.mode in ("demo", "dev") else None,
        allow_queries_via_get=True,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            effective = settings
            if extra_lifespan is not None:
                effective = await stack.enter_async_context(extra_lifespan(settings))
            runtime = await stack.enter_async_context(running(effective))
            # Push routes exist only once the adapters do: add them before the first request.
            for op in runtime.operators.values():
                app.router.routes.extend(op.inbound_routes())
            app.state.runtime = runtime
            yield

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
