"""Our eMSP-side OCPI endpoints: an ASGI app (Starlette routes) the gateway mounts at ``/ocpi/{operator_id}``.

Versions and version details (for the handshake call-back), credentials GET, the Receiver
interfaces for locations, tariffs, sessions and CDRs the CPO pushes to, and the commands
``response_url``. Every request must carry ``Authorization: Token`` with our token B (401
otherwise); bad input gets an OCPI envelope with status_code 2001 and HTTP 4xx, never a 500.
Valid pushes are merged into the adapter's shared store (every replica sees them, see
:mod:`store`) and handed to the sink as domain objects.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from operators import domain
from operators.base import EventSink, PushApp
from operators.ocpi import auth, codec, headers, mapping
from operators.ocpi.messages import Cdr, CommandResult, Credentials, Session
from operators.ocpi.models import EVSE, Connector, Location, Tariff
from operators.ocpi.settings import OcpiSettings
from operators.ocpi.store import OcpiStore

logger = logging.getLogger(__name__)
VERSION = "2.2.1"
LIST_KEYS = {"evses": "uid", "connectors": "id"}  # PATCH arrays merged element-wise [our choice]


class OcpiInputError(Exception):
    def __init__(self, http_status: int, status_code: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.status_code, self.message = http_status, status_code, message


def reply(
    data: Any = None,
    status_code: int = 1000,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = codec.envelope(data, status_code, message or ("Success" if status_code == 1000 else None))
    return Response(
        codec.dumps(body), status_code=http_status, media_type="application/json", headers=headers
    )


class ReceiverHost(Protocol):
    """What the receiver needs from the operator it serves (the adapter's ``OcpiOperator``)."""

    settings: OcpiSettings
    store: OcpiStore
    sink: EventSink
    public_url: str

    @property
    def base_path(self) -> str: ...

    async def accepted_token(self) -> str: ...

    def our_credentials(self, token_b: str) -> Credentials: ...


def push_app(op: ReceiverHost) -> PushApp:
    """Our endpoints for ``op``'s CPO, mounted by the gateway at ``/ocpi/{operator_id}``."""
    r = Receiver(op)
    v = f"/{VERSION}"
    loc = f"{v}/locations/{{cc}}/{{pid}}/{{location_id}}"
    routes = [
        Route("/versions", r.guard(r.versions, routed=False), methods=["GET"]),
        Route(v, r.guard(r.details, routed=False), methods=["GET"]),
        Route(
            f"{v}/credentials", r.guard(r.credentials, routed=False), methods=["GET", "POST", "PUT", "DELETE"]
        ),
        Route(loc, r.guard(r.location), methods=["GET", "PUT", "PATCH"]),
        Route(loc + "/{evse_uid}", r.guard(r.location), methods=["GET", "PUT", "PATCH"]),
        Route(loc + "/{evse_uid}/{connector_id}", r.guard(r.location), methods=["GET", "PUT", "PATCH"]),
        Route(
            f"{v}/tariffs/{{cc}}/{{pid}}/{{tariff_id}}", r.guard(r.tariff), methods=["GET", "PUT", "DELETE"]
        ),
        Route(
            f"{v}/sessions/{{cc}}/{{pid}}/{{session_id}}", r.guard(r.session), methods=["GET", "PUT", "PATCH"]
        ),
        Route(f"{v}/cdrs", r.guard(r.cdr), methods=["POST"]),
        Route(f"{v}/cdrs/{{cdr_id}}", r.guard(r.cdr), methods=["GET"]),
        Route("/commands/{command}/{session_ref:path}", r.guard(r.command_result), methods=["POST"]),
    ]
    return PushApp(op.base_path, Router(routes))


class Receiver:
    def __init__(self, op: ReceiverHost) -> None:
        self.op = op
        self.store = op.store

    def guard(
        self, handler: Callable[[Request], Awaitable[Response]], *, routed: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            response = await checked(request)
            # §4.1.3: every response echoes the ids (and, routed, swaps the routing headers).
            echo = headers.echo(request.headers, routed=routed)
            response.headers.update(echo)
            logger.log(
                logging.INFO if response.status_code >= 400 else logging.DEBUG,
                "OCPI %s %s from %s: HTTP %d request_id=%s correlation_id=%s",
                *(request.method, request.url.path, self.op.settings.id, response.status_code),
                *(echo[headers.REQUEST_ID], echo[headers.CORRELATION_ID]),
            )
            return response

        async def checked(request: Request) -> Response:
            if auth.matches(request.headers.get("authorization"), [await self.op.accepted_token()]) is None:
                return reply(None, 2000, "unknown or missing token", http_status=401)
            params = request.path_params
            if "cc" in params and (params["cc"].upper(), params["pid"].upper()) != (
                self.op.settings.cpo_country_code,
                self.op.settings.cpo_party_id,
            ):
                return reply(None, 2000, "country_code/party_id is not this CPO's", http_status=404)
            try:
                return await handler(request)
            except OcpiInputError as exc:
                return reply(None, exc.status_code, exc.message, http_status=exc.http_status)
            except Exception:  # e.g. the sink failed: an OCPI server error, never a bare 500 (errata §4.1.7)
                logger.exception("OCPI push to %s failed", request.url.path)
                return reply(None, 3000, "internal error")

        return endpoint

    async def _body(self, request: Request, patch: bool = False) -> dict[str, Any]:
        try:
            body = codec.loads(await request.body())
        except codec.ModelError as exc:
            raise OcpiInputError(400, 2001, "body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise OcpiInputError(400, 2001, "body must be a JSON object")
        if patch and "last_updated" not in body:  # §4.1.3 (specs §1.4): every PATCH carries it
            raise OcpiInputError(400, 2001, "PATCH without last_updated")
        return body

    @staticmethod
    def _typed(cls: type, raw: Any, partial: bool = False) -> Any:
        try:
            return codec.from_json(cls, raw, partial=partial)
        except codec.ModelError as exc:
            raise OcpiInputError(400, 2001, str(exc)) from exc

    async def _emit(self, *events: domain.OperatorEvent) -> None:
        for event in events:
            await self.op.sink(self.op.settings.id, event)

    # -- versions and credentials --------------------------------------------------------------

    async def versions(self, request: Request) -> Response:
        return reply([{"version": VERSION, "url": f"{self.op.public_url}{self.op.base_path}/{VERSION}"}])

    async def details(self, request: Request) -> Response:
        v = f"{self.op.public_url}{self.op.base_path}/{VERSION}"
        modules = [("credentials", "SENDER", f"{v}/credentials")]
        modules += [(m, "RECEIVER", f"{v}/{m}") for m in ("locations", "tariffs", "sessions", "cdrs")]
        modules.append(("commands", "SENDER", f"{self.op.public_url}{self.op.base_path}/commands"))
        endpoints = [{"identifier": m, "role": role, "url": url} for m, role, url in modules]
        return reply({"version": VERSION, "endpoints": endpoints})

    async def credentials(self, request: Request) -> Response:
        if request.method == "GET":
            return reply(self.op.our_credentials(await self.op.accepted_token()))
        # We always start the registration ourselves (party S); being registered by a CPO is not offered.
        return reply(None, 2000, "registration is initiated by the eMSP", http_status=405)

    # -- locations (§8.2.2 Receiver) -----------------------------------------------------------------

    async def location(self, request: Request) -> Response:
        p = request.path_params
        loc_id, evse_uid, conn_id = p["location_id"], p.get("evse_uid"), p.get("connector_id")
        stored = await self.store.location(loc_id)
        if request.method == "GET":
            obj = _child(stored, evse_uid, conn_id) if stored else None
            return reply(obj) if obj is not None else reply(None, 2003, "unknown location", http_status=404)
        patch = request.method == "PATCH"
        body = await self._body(request, patch)
        if evse_uid is None and not patch:
            loc = self._typed(Location, body)
            if loc.id != loc_id:
                raise OcpiInputError(400, 2001, "location id differs from the URL")
            created = stored is None
            await self.store.put_location(loc_id, body)
            station = mapping.location_to_station(self.op.settings.id, loc)
            states = mapping.connector_states(loc, domain.StatusSource.PUSH)
            await self._emit(station, *states.values())
            return reply(http_status=201 if created else 200)
        if stored is None:
            raise OcpiInputError(404, 2003, "unknown location; PUT it first")
        merged = _apply(stored, body, patch, evse_uid, conn_id)
        loc = self._typed(Location, merged)
        await self.store.put_location(loc_id, merged)
        events: list[domain.OperatorEvent] = []
        station = mapping.location_to_station(self.op.settings.id, loc)
        if _changed(self._station(stored), station):  # a status-only PATCH changes no station data
            events.append(station)
        if (evse_uid is not None and "status" in body) or (evse_uid is None and "evses" in body):
            states = mapping.connector_states(loc, domain.StatusSource.PUSH)
            prefix = mapping.connector_key(loc_id, evse_uid, "x")[:-1] if evse_uid else ""
            events += [s for key, s in states.items() if key.startswith(prefix)]
        await self._emit(*events)
        return reply()

    def _station(self, raw: dict[str, Any]) -> domain.Station | None:
        try:
            return mapping.location_to_station(self.op.settings.id, codec.from_json(Location, raw))
        except codec.ModelError:
            return None

    # -- tariffs (§11.2.2 Receiver) -------------------------------------------------------------------

    async def tariff(self, request: Request) -> Response:
        tariff_id = request.path_params["tariff_id"]
        if request.method == "GET":
            found = await self.store.tariff(tariff_id)
            return reply(found) if found else reply(None, 2000, "unknown tariff", http_status=404)
        if request.method == "DELETE":
            await self.store.delete_tariff(tariff_id)
            return reply()
        tariff = self._typed(Tariff, await self._body(request))
        if tariff.id != tariff_id:
            raise OcpiInputError(400, 2001, "tariff id differs from the URL")
        await self.store.put_tariff(tariff)
        return reply()

    # -- sessions (§9.2.2 Receiver) ----------------------------------------------------------------

    async def session(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        stored = await self.store.session(session_id)
        if request.method == "GET":
            return reply(stored) if stored else reply(None, 2000, "unknown session", http_status=404)
        patch = request.method == "PATCH"
        body = await self._body(request, patch)
        if patch:
            if stored is None:
                raise OcpiInputError(404, 2001, "unknown session; PUT it first")
            # §9.2.2: PATCHed charging_periods are appended; everything else replaces.
            periods = list(stored.get("charging_periods", [])) + list(body.get("charging_periods", []))
            merged = {**stored, **body, "charging_periods": periods}
        else:
            merged = body
        session = self._typed(Session, merged)
        if session.id != session_id:
            raise OcpiInputError(400, 2001, "session id differs from the URL")
        await self.store.put_session(session_id, merged)
        ref = await self.store.ref_for(session.id, session.authorization_reference)
        if ref is not None:
            progress = mapping.session_to_progress(session, ref)
            link = await self.store.link(ref)
            if link is not None:
                stopping = link.phase is domain.SessionPhase.STOPPING
                if not (stopping and progress.phase is domain.SessionPhase.CHARGING):
                    link.phase, link.failure = progress.phase, progress.failure
                    await self.store.save_link(link)
            await self._emit(progress)
        return reply(http_status=201 if stored is None else 200)

    # -- CDRs (§10.2.2 Receiver) -------------------------------------------------------------------

    async def cdr(self, request: Request) -> Response:
        if request.method == "GET":
            found = await self.store.cdr(request.path_params["cdr_id"])
            return reply(found) if found else reply(None, 2000, "unknown CDR", http_status=404)
        body = await self._body(request)
        cdr = self._typed(Cdr, body)
        await self.store.put_cdr(cdr.id, body)
        ref = await self.store.ref_for(cdr.session_id, cdr.authorization_reference)
        if ref is not None:
            if (link := await self.store.link(ref)) is not None:
                link.phase = domain.SessionPhase.COMPLETED
                await self.store.save_link(link)
            await self._emit(mapping.cdr_to_order(cdr, ref))
        where = f"{self.op.public_url}{self.op.base_path}/{VERSION}/cdrs/{cdr.id}"
        return reply(http_status=201, headers={"Location": where})  # §10.2.2: where to GET it

    # -- commands response_url (§13.2.2) ------------------------------------------------------------

    async def command_result(self, request: Request) -> Response:
        command, ref = request.path_params["command"], request.path_params["session_ref"]
        result = self._typed(CommandResult, await self._body(request))
        link = await self.store.link(ref)
        if link is None or command not in ("START_SESSION", "STOP_SESSION"):
            raise OcpiInputError(404, 2000, "unknown response_url")
        phase = domain.SessionPhase
        event = None
        if (
            command == "START_SESSION"
            and link.phase in (phase.STARTING, phase.FAILED)
            and not link.session_id
        ):
            # A successful start shows up as a pushed Session; a failure only here (§13.1).
            failed = result.result != "ACCEPTED"
            link.phase, link.failure = (phase.FAILED, result.result) if failed else (phase.STARTING, None)
            event = domain.SessionProgress(
                ref, link.connector_id, link.phase, started_at=link.started_at, failure=link.failure
            )
        elif command == "STOP_SESSION" and result.result == "ACCEPTED" and link.phase is not phase.COMPLETED:
            link.phase = phase.STOPPING
            event = domain.SessionProgress(ref, link.connector_id, phase.STOPPING, started_at=link.started_at)
        else:
            logger.info("OCPI %s result %s for %s", command, result.result, self.op.settings.id)
        if event is not None:
            await self.store.save_link(link)
            await self._emit(event)
        return reply()


def _changed(before: domain.Station | None, after: domain.Station) -> bool:
    return before is None or dataclasses.replace(before, updated_at=None) != dataclasses.replace(
        after, updated_at=None
    )


def _child(stored: dict[str, Any], evse_uid: str | None, conn_id: str | None) -> dict[str, Any] | None:
    obj: dict[str, Any] | None = stored
    if evse_uid is not None:
        obj = next((e for e in stored.get("evses", []) if e.get("uid") == evse_uid), None)
    if obj is not None and conn_id is not None:
        obj = next((c for c in obj.get("connectors", []) if c.get("id") == conn_id), None)
    return obj


def _apply(
    stored: dict[str, Any], body: dict[str, Any], patch: bool, evse_uid: str | None, conn_id: str | None
) -> dict[str, Any]:
    """The stored Location with a PUT/PATCH applied at its level; parents' last_updated follow (§8.2.2)."""
    if evse_uid is None:  # location-level PATCH
        return codec.merge_patch(stored, body, LIST_KEYS)
    stamp = body.get("last_updated", stored.get("last_updated"))
    if conn_id is None:
        if not patch and Receiver._typed(EVSE, body).uid != evse_uid:
            raise OcpiInputError(400, 2001, "EVSE uid differs from the URL")
        element = body if not patch else {**body, "uid": evse_uid}
        if patch and _child(stored, evse_uid, None) is None:
            raise OcpiInputError(404, 2003, "unknown EVSE; PUT it first")
        change = {"evses": [element], "last_updated": stamp}
    else:
        if not patch and Receiver._typed(Connector, body).id != conn_id:
            raise OcpiInputError(400, 2001, "connector id differs from the URL")
        if _child(stored, evse_uid, None) is None or (patch and _child(stored, evse_uid, conn_id) is None):
            raise OcpiInputError(404, 2003, "unknown EVSE or connector; PUT it first")
        element = body if not patch else {**body, "id": conn_id}
        change = {
            "evses": [{"uid": evse_uid, "connectors": [element], "last_updated": stamp}],
            "last_updated": stamp,
        }
    if not patch:  # a PUT replaces the child whole: drop it first so no old field survives the merge
        stored = _without(stored, evse_uid, conn_id)
    return codec.merge_patch(stored, change, LIST_KEYS)


def _without(stored: dict[str, Any], evse_uid: str, conn_id: str | None) -> dict[str, Any]:
    evses = []
    for evse in stored.get("evses", []):
        if evse.get("uid") == evse_uid:
            if conn_id is None:
                evse = {"uid": evse_uid}  # placeholder keeps the EVSE's position in the list
            else:
                evse = {
                    **evse,
                    "connectors": [
                        c if c.get("id") != conn_id else {"id": conn_id} for c in evse.get("connectors", [])
                    ],
                }
        evses.append(evse)
    return {**stored, "evses": evses}
