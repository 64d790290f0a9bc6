"""The Starlette application: GraphQL, health, readiness, metrics and the operators' push apps."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from gateway.app import graphiql
from gateway.app.assembly import running
from gateway.observability import tracing
from gateway.observability.logs import RequestIdMiddleware
from gateway.observability.metrics import CONTENT_TYPE_LATEST
from gateway.rails import receiver
from gateway.rails.setup import NOTIFY_PATH
from gateway.replicas import shared as replicas
from gateway.runtime import Runtime
from gateway.security import negotiation
from gateway.security.limits import QueryLimits, check_batch
from gateway.security.middleware import security_middleware
from gateway.security.persisted import PersistedQueries, PersistedQueryError
from gateway.settings.load import Settings
from resolvers.context import RequestContext
from resolvers.execution.prepared import PreparedOperations
from resolvers.schema import build_schema

log = logging.getLogger(__name__)


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames; our JSON encoder yields bytes for HTTP."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLApp(GraphQL[RequestContext, None]):
    """Strawberry's ASGI app with our per-request context (loaders, deadline, operator errors),
    automatic persisted queries and ``application/graphql-response+json`` negotiation."""

    websocket_adapter_class = TextWebSocketAdapter

    def __init__(self, *args: Any, persisted: PersistedQueries, max_batch: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.persisted = persisted
        self.max_batch = max_batch
        self.prepared: PreparedOperations | None = getattr(self.schema, "prepared", None)

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:
        runtime: Runtime = request.app.state.runtime
        return RequestContext.create(runtime, request)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiation.media_type(request.headers.get("accept"))
        return sub_response

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()  # our own, with assets the gateway serves: works offline

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted query's hash is an operation, not a visit to GraphiQL.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response = await self.prepared_response(request) if scope["method"] == "POST" else None
        if response is None:
            try:
                response = await self.run(request)
            except HTTPException as exc:  # Strawberry answers these in plain text
                response = self.request_refused(request, exc)
        await response(scope, receive, send)

    async def prepared_response(self, request: Request) -> Response | None:
        """The response to a plain JSON POST of a prepared query (:mod:`resolvers.execution.prepared`);
        None for anything else, which Strawberry's view then handles (the body stays readable).

        Plain means: ``Content-Type: application/json``, no streaming transport asked for in
        ``Accept``, and a body that is one JSON object with a string ``query``, optional
        ``variables`` (an object) and ``operationName`` (a string), and no ``extensions``
        (persisted queries). The response is what the view answers: the same negotiation, status,
        media type and JSON encoding."""
        prepared = self.prepared
        headers = request.headers
        if prepared is None or headers.get("content-type", "").partition(";")[0].strip() != negotiation.JSON:
            return None
        accept = headers.get("accept")
        if accept is not None and negotiation.may_stream(accept):
            return None
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict:
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if (
            type(query) is not str
            or not (variables is None or type(variables) is dict)
            or not (name is None or type(name) is str)
            or data.get("extensions") is not None
        ):
            return None
        operation = prepared.get(query, name)
        if operation is None:
            return None
        context = RequestContext.create(request.app.state.runtime, request)
        media = negotiation.media_type(accept)
        body, status = negotiation.shape(await prepared.run(operation, context, variables), media)
        return Response(orjson.dumps(body), status, media_type=f"{media}; charset=utf-8")

    def request_refused(self, request: Request, exc: HTTPException) -> Response:
        """A request that is not a GraphQL request at all (body not JSON, too deep, not an object):
        a 4xx in the GraphQL error shape, ``BAD_REQUEST``, under the negotiated media type."""
        media = negotiation.media_type(request.headers.get("accept"))
        error = {"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}
        return Response(orjson.dumps({"errors": [error]}), exc.status_code, media_type=media)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses nesting deeper than 1024 with a JSONDecodeError (json.loads would raise a
        # RecursionError, a 500); Strawberry turns the JSONDecodeError into a 400.
        return orjson.loads(data)

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        out = dict(params)
        for name in ("variables", "extensions"):
            if out.get(name):
                out[name] = super().parse_json(out[name])
        return out

    def parse_json(self, data: str | bytes) -> Any:
        """A request body: one operation (an object) or a batch (an array of objects)."""
        parsed = super().parse_json(data)
        if isinstance(parsed, list):
            try:
                check_batch(parsed, self.max_batch)
            except ValueError as exc:
                raise HTTPException(400, str(exc)) from exc
        elif not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object (or an array of them).")
        return parsed

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            request_data = self.persisted.resolve(request_data)
        except PersistedQueryError as exc:
            return ExecutionResult(data=None, errors=[exc.graphql_error()])
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        media = sub_response.media_type or negotiation.JSON
        if isinstance(response_data, dict):
            response_data, status = negotiation.shape(response_data, media)
            sub_response.status_code = status if status != 200 else sub_response.status_code
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{media}; charset=utf-8"
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class OperatorPushes:
    """Every operator's push app, mounted at its prefix (``/ocpi/{id}``, ``/push/tcec/{id}``).

    The router's default app, so it sees only requests no gateway route took (after the router's
    trailing-slash redirect, as for a route); anything outside every prefix goes to ``fallback``,
    the router's 404. The adapters, and so their push apps, are built by the lifespan, while the
    routes are fixed when the app is built: the prefix is looked up in the runtime per request.
    """

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
        root_path, path = scope.get("root_path", ""), scope["path"]
        push = runtime.push_app_at(path.removeprefix(root_path)) if runtime is not None else None
        if push is None:
            await self.fallback(scope, receive, send)
            return
        # As Starlette's Mount does: the push app's routes are relative to its prefix.
        scope.update(app_root_path=scope.get("app_root_path", root_path), root_path=root_path + push.prefix)
        await push.app(scope, receive, send)


async def rail_notification(request: Request) -> Response:
    """``POST /payments/{rail}/notify``: a credit rail's notification (404 for a rail not configured)."""
    runtime: Runtime = request.app.state.runtime
    billing = runtime.sessions.billing if runtime.sessions is not None else None
    if billing is None or billing.rails is None:
        return Response("no payment rails", status_code=404)
    return await receiver.receive(request, billing.rails.rails, billing.rails.apply)


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
    schema = build_schema(QueryLimits.from_settings(settings))
    tracing.instrument_schema(schema, settings.tracing)  # nothing unless [tracing] enabled
    shared = replicas.build(settings)  # the rate limiter is needed now, the rest in the lifespan
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.gateway.mode in ("demo", "dev") else None,
        allow_queries_via_get=True,
        # Only graphql-transport-ws: Strawberry's legacy graphql-ws handler runs subscriptions only
        # (a query over it fails), so a client offering both is given the one that runs everything.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        allowed_origins=settings.security.cors_origins,
        persisted=PersistedQueries(settings.security.persisted_queries),
        max_batch=settings.security.max_batch,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            effective = settings
            if extra_lifespan is not None:
                effective = await stack.enter_async_context(extra_lifespan(settings))
            stack.push_async_callback(shared.aclose)
            runtime = await stack.enter_async_context(running(effective, shared))
            app.state.runtime = runtime
            yield

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # subscriptions over graphql-transport-ws
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route(NOTIFY_PATH, rail_notification, methods=["POST"]),  # the credit rails' notifications
            *([graphiql.assets()] if graphql.graphql_ide else []),
        ],
        middleware=[Middleware(RequestIdMiddleware), *security_middleware(settings.security, shared.limiter)],
        lifespan=lifespan,
    )
    app.router.default = OperatorPushes(app.router.not_found)  # what no route above matches
    return app
