"""The OCPI 2.2.1 operator (we are the eMSP): :class:`OcpiOperator` and its factory :func:`build`.

Registration is lazy: the first call discovers the CPO's endpoints and, unless a
``registered_token`` (token C) is configured, runs the credentials handshake — which needs the
gateway to be serving :meth:`OcpiOperator.push_app` already, since the CPO calls us back.
With several replicas the handshake runs once: one replica takes the registration lease and the
others wait for the tokens and endpoints it leaves in the shared state (see :mod:`store`), where
the receiver's objects live as well.

Limitations: ``session_status`` pages through
the CPO's sessions since the session started, as OCPI has no GET-one-session on the Sender
interface; tokens are ad hoc per session (no token push, no real-time ``authorize``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from operators import domain
from operators.base import (
    EventSink,
    OperatorAuthError,
    OperatorError,
    OperatorInfo,
    OperatorNotSupported,
    OperatorRejected,
    OperatorUnavailable,
    PushApp,
    SharedState,
)
from operators.ocpi import codec, handshake, mapping, receiver
from operators.ocpi.client import OcpiClient, parse
from operators.ocpi.messages import CommandResponse, Credentials, CredentialsRole, Session, VersionDetails
from operators.ocpi.models import BusinessDetails, Location, Tariff
from operators.ocpi.settings import OcpiSettings, parse_settings
from operators.ocpi.store import OcpiStore, Registration, SessionLink, auth_reference
from operators.state import MemoryState

logger = logging.getLogger(__name__)
CAPABILITIES = frozenset(domain.Capability)
# How long a replica waits for another one's handshake (discovery + the POST with its call-back).
REGISTRATION_WAIT_S = 2 * handshake.REGISTER_TIMEOUT_S
REGISTRATION_POLL_S = 0.1


class OcpiOperator:
    def __init__(
        self,
        settings: OcpiSettings,
        http: aiohttp.ClientSession,
        sink: EventSink,
        public_url: str,
        state: SharedState | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.public_url = public_url.rstrip("/")
        self.store = OcpiStore(settings.id, state or MemoryState())
        self.token_b: str | None = settings.our_token  # what the CPO sends us; shared once registered
        routing = {
            "OCPI-from-country-code": settings.country_code,
            "OCPI-from-party-id": settings.party_id,
            "OCPI-to-country-code": settings.cpo_country_code,
            "OCPI-to-party-id": settings.cpo_party_id,
        }
        token = settings.registered_token or settings.token
        self.client = OcpiClient(
            http,
            settings.id,
            token,
            timeout_s=settings.timeout_s,
            encoding=settings.token_encoding,
            routing=routing,
        )
        self._endpoints: VersionDetails | None = None
        self._ready = asyncio.Lock()
        self._limit = asyncio.Semaphore(settings.concurrency)
        self._replica = secrets.token_hex(8)  # who holds the registration lease
        self._info = OperatorInfo(settings.id, settings.name, "ocpi", CAPABILITIES)
        self._push = receiver.push_app(self)

    @property
    def info(self) -> OperatorInfo:
        return self._info

    @property
    def base_path(self) -> str:
        return f"/ocpi/{self.settings.id}"

    async def accepted_token(self) -> str:
        """Token B, the one the CPO must present: configured, or drawn once and shared by the replicas."""
        if self.settings.our_token:
            return self.settings.our_token
        token = await self.store.token_b()
        if token is None:
            await self.store.offer_token_b(secrets.token_urlsafe(32))  # the first replica's draw wins
            token = await self.store.token_b()
        assert token is not None
        self.token_b = token
        return token

    def our_credentials(self, token_b: str) -> Credentials:
        role = CredentialsRole(
            role="EMSP",
            business_details=BusinessDetails(name="chargegate"),
            party_id=self.settings.party_id,
            country_code=self.settings.country_code,
        )
        return Credentials(token=token_b, url=f"{self.public_url}{self.base_path}/versions", roles=(role,))

    async def _endpoint(self, module: str, role: str = "SENDER") -> str:
        if self._endpoints is None:
            async with self._ready:
                if self._endpoints is None:
                    self._endpoints = await self._registered()
        url = self._endpoints.url(module, role)
        if url is None:
            raise OperatorNotSupported(self.settings.id, f"CPO publishes no {module} {role} endpoint")
        return url

    async def _registered(self) -> VersionDetails:
        """The CPO's endpoints, registering first unless token C is configured or already shared."""
        if self.settings.registered_token:
            return await handshake.discover(self.client, self.settings.versions_url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REGISTRATION_WAIT_S
        while True:
            found = await self.store.registration()
            if found is not None:
                if await self._still_known(found):
                    break
                logger.warning(
                    "OCPI operator %s no longer accepts our token C: registering again", self.settings.id
                )
                await self.store.forget_registration(found.token_c)
                continue
            if await self.store.claim_registration(self._replica, REGISTRATION_WAIT_S):
                try:
                    found = await self._register()
                finally:
                    await self.store.release_registration()
                break
            if loop.time() > deadline:  # the replica holding the lease is taking too long
                raise OperatorUnavailable(self.settings.id, "OCPI registration under way on another replica")
            await asyncio.sleep(REGISTRATION_POLL_S)
        self.client.token, self.token_b = found.token_c, found.token_b
        return found.details

    async def _still_known(self, registration: Registration) -> bool:
        """Whether the CPO still takes a stored token C (a sandbox CPO that restarted does not)."""
        self.client.token = registration.token_c
        try:
            await self.client.call("GET", self.settings.versions_url, routed=False)
        except OperatorAuthError:
            self.client.token = self.settings.token
            return False
        return True

    async def _register(self) -> Registration:
        details = await handshake.discover(self.client, self.settings.versions_url)
        token_b = await self.accepted_token()  # shared before the POST: the CPO may call any replica back
        theirs = await handshake.register(self.client, details, self.our_credentials(token_b))
        registration = Registration(token_b, theirs.token, details)  # token C from now on; A is retired
        await self.store.save_registration(registration)
        logger.info("registered with OCPI operator %s", self.settings.id)
        return registration

    # -- stations, statuses, tariffs ------------------------------------------------------------

    async def list_stations(self, since: datetime | None, cursor: str | None) -> domain.StationPage:
        url = await self._endpoint("locations")
        params: dict[str, str] | None = {"limit": str(self.settings.page_size)}
        if cursor is not None:
            if URL(cursor).origin() != URL(url).origin():
                raise OperatorRejected(self.settings.id, "cursor is not this operator's")
            url, params = cursor, None  # the Link URL already carries date_from/offset/limit (§4.1.8)
        elif since is not None:
            params = {**(params or {}), "date_from": codec.format_datetime(since)}
        page = await self.client.page(url, params)
        stations = [await self.remember_location(raw) for raw in page.items]
        found = tuple(
            mapping.location_to_station(self.settings.id, loc) for loc in stations if loc is not None
        )
        return domain.StationPage(found, page.next_url, page.total)

    async def remember_location(self, raw: Any) -> Location | None:
        """Parse and keep one Location; a bad one is skipped, not the page (§4.1.8)."""
        try:
            loc = codec.from_json(Location, raw)
        except codec.ModelError as exc:
            logger.warning("skipping malformed OCPI location from %s: %s", self.settings.id, exc)
            return None
        await self.store.put_location(loc.id, raw)
        return loc

    async def _fetch_locations(self, location_ids: Sequence[str]) -> dict[str, Location]:
        url = await self._endpoint("locations")

        async def one(location_id: str) -> Location | None:
            async with self._limit:
                data, _ = await self.client.call("GET", _join(url, quote(location_id, safe="")))
            return await self.remember_location(self._single(data, "GET location"))

        results = await asyncio.gather(*(one(i) for i in dict.fromkeys(location_ids)), return_exceptions=True)
        found = {loc.id: loc for loc in results if isinstance(loc, Location)}
        errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, OperatorRejected)]
        for error in errors:
            if not isinstance(error, OperatorError):
                raise error
        if errors and not found:
            raise errors[0]
        if errors:
            logger.warning(
                "%s: %d of %d location fetches failed", self.settings.id, len(errors), len(results)
            )
        return found

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, domain.ConnectorState]:
        # OCPI has no batch status call: one GET per Location, concurrently under a semaphore.
        now = datetime.now(UTC)
        states: dict[str, domain.ConnectorState] = {}
        for loc in (await self._fetch_locations(station_ids)).values():
            states.update(mapping.connector_states(loc, domain.StatusSource.POLL, now))
        return states

    async def _tariff_table(self) -> dict[str, Tariff]:
        now = asyncio.get_running_loop().time()
        if self.store.tariffs_at is not None and now - self.store.tariffs_at < self.settings.tariff_ttl_s:
            return self.store.tariffs
        url: str | None = await self._endpoint("tariffs")
        params: Mapping[str, str] | None = {"limit": str(self.settings.page_size)}
        table: dict[str, Tariff] = {}
        while url is not None:
            page = await self.client.page(url, params)
            for raw in page.items:
                try:
                    tariff = codec.from_json(Tariff, raw)
                except codec.ModelError as exc:
                    logger.warning("skipping malformed OCPI tariff from %s: %s", self.settings.id, exc)
                    continue
                table[tariff.id] = tariff
            url, params = page.next_url, None
        self.store.tariffs, self.store.tariffs_at = table, now  # a full pull is the new truth (§4.1.8)
        return table

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, domain.Tariff]:
        wanted: dict[str, tuple[str, str, str]] = {}
        for key in connector_ids:
            try:
                wanted[key] = mapping.split_connector_key(key)
            except ValueError:
                continue
        stored = {loc: await self.store.location(loc) for loc in {loc for loc, _, _ in wanted.values()}}
        missing = [loc for loc, raw in stored.items() if raw is None]
        if missing:
            for loc_id, found in (await self._fetch_locations(missing)).items():
                stored[loc_id] = codec.to_json(found)
        table = await self._tariff_table()
        now = datetime.now(UTC)
        out: dict[str, domain.Tariff] = {}
        for key, (loc_id, evse_uid, conn_id) in wanted.items():
            raw = stored.get(loc_id)
            loc = codec.from_json(Location, raw) if raw is not None else None
            evse = next((e for e in loc.evses if e.uid == evse_uid), None) if loc else None
            conn = next((c for c in evse.connectors if c.id == conn_id), None) if evse else None
            if loc is None or conn is None:
                continue
            tariff = _tariff_in_force([table[t] for t in conn.tariff_ids if t in table], now)
            if tariff is not None:
                out[key] = mapping.tariff_to_domain(tariff, mapping.timezone(loc.time_zone))
        return out

    # -- sessions -------------------------------------------------------------------------------

    async def start_session(self, session_ref: str, connector_id: str) -> domain.SessionProgress:
        if (link := await self.store.link(session_ref)) is not None:
            return _progress(link)  # idempotent: the same ref never sends a second START_SESSION
        try:
            location_id, evse_uid, conn_id = mapping.split_connector_key(connector_id)
        except ValueError as exc:
            raise OperatorRejected(self.settings.id, str(exc)) from exc
        url = await self._endpoint("commands", "RECEIVER")
        link = SessionLink(session_ref, connector_id, auth_reference(session_ref), datetime.now(UTC))
        await self.store.save_link(link)
        token = _ad_hoc_token(self.settings, link.auth_ref, link.started_at)
        body = {
            "response_url": self.response_url("START_SESSION", session_ref),
            "token": token,
            "location_id": location_id,
            "evse_uid": evse_uid,
            "connector_id": conn_id,
            "authorization_reference": link.auth_ref,
        }
        try:
            await self._command(url, "START_SESSION", body)
        except OperatorRejected:
            await self.store.drop_link(session_ref)
            raise
        except OperatorError as exc:  # unknown outcome: remember it, a late Session is still accepted
            link.phase, link.failure = domain.SessionPhase.FAILED, exc.code
            await self.store.save_link(link)
            raise
        return _progress(link)

    def _single(self, data: Any, what: str) -> Any:
        """One object where the spec says so; some CPOs wrap it in a one-element list [field
        deviation, seen in extrawest-ocpi's CPO: single Location GETs and CommandResponses]."""
        if isinstance(data, list) and len(data) == 1:
            logger.info("%s: %s answered a one-element list instead of an object", self.settings.id, what)
            return data[0]
        return data

    def response_url(self, command: str, session_ref: str) -> str:
        return f"{self.public_url}{self.base_path}/commands/{command}/{quote(session_ref, safe='')}"

    async def _command(self, url: str, command: str, body: Mapping[str, Any]) -> None:
        data, _ = await self.client.call("POST", _join(url, command), body=body)
        response = parse(self.settings.id, CommandResponse, self._single(data, command), command)
        if response.result != "ACCEPTED":
            raise OperatorRejected(self.settings.id, f"{command}: {response.result}")

    async def stop_session(self, session_ref: str, connector_id: str) -> domain.SessionProgress:
        link = await self.store.link(session_ref)
        session_id = link.session_id if link else None
        if session_id is None:
            session = await self._find_session(session_ref)
            session_id = session.id if session else None
        if session_id is None:
            raise OperatorRejected(self.settings.id, "the CPO has not reported this session yet")
        url = await self._endpoint("commands", "RECEIVER")
        body = {"response_url": self.response_url("STOP_SESSION", session_ref), "session_id": session_id}
        await self._command(url, "STOP_SESSION", body)
        if (link := await self.store.link(session_ref)) is not None:
            link.phase = domain.SessionPhase.STOPPING
            await self.store.save_link(link)
        return domain.SessionProgress(session_ref, connector_id, domain.SessionPhase.STOPPING)

    async def _find_session(self, session_ref: str) -> Session | None:
        link = await self.store.link(session_ref)
        since = (link.started_at if link else datetime.now(UTC) - timedelta(days=2)) - timedelta(minutes=5)
        url: str | None = await self._endpoint("sessions")
        params: Mapping[str, str] | None = {"date_from": codec.format_datetime(since)}
        wanted_id, wanted_auth = (
            (link.session_id, link.auth_ref) if link else (None, auth_reference(session_ref))
        )
        found: Session | None = None
        while url is not None:
            page = await self.client.page(url, params)
            for raw in page.items:
                if raw.get("id") == wanted_id or raw.get("authorization_reference") == wanted_auth:
                    found = parse(self.settings.id, Session, raw, "session")
                    await self.store.put_session(found.id, raw)
                    await self.store.ref_for(found.id, found.authorization_reference)
            url, params = page.next_url, None
        return found

    async def session_status(self, session_ref: str) -> domain.SessionProgress:
        session = await self._find_session(session_ref)
        link = await self.store.link(session_ref)
        if session is None:
            if link is None:
                raise OperatorRejected(self.settings.id, "unknown session")
            return _progress(link)
        progress = mapping.session_to_progress(session, session_ref)
        stopping = link is not None and link.phase is domain.SessionPhase.STOPPING
        if stopping and progress.phase is domain.SessionPhase.CHARGING:
            progress = dataclasses.replace(progress, phase=domain.SessionPhase.STOPPING)
        return progress

    def push_app(self) -> PushApp:
        return self._push

    async def aclose(self) -> None:
        """Nothing to release: the HTTP session is shared and no background task is running."""


def _join(url: str, segment: str) -> str:
    """``url``/``segment``; endpoint URLs are opaque (§6) and some end in a slash."""
    return f"{url.rstrip('/')}/{segment}"


def _ad_hoc_token(settings: OcpiSettings, auth_ref: str, now: datetime) -> dict[str, Any]:
    """A one-off token for an app-started session (§13.3.1: the CPO must not re-authorise it)."""
    return {
        "country_code": settings.country_code,
        "party_id": settings.party_id,
        "uid": auth_ref,
        "type": "AD_HOC_USER",
        "contract_id": auth_ref,
        "issuer": "chargegate",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": codec.format_datetime(now),
    }


def _progress(link: SessionLink) -> domain.SessionProgress:
    return domain.SessionProgress(
        link.session_ref, link.connector_id, link.phase, started_at=link.started_at, failure=link.failure
    )


def _tariff_in_force(candidates: Sequence[Tariff], now: datetime) -> Tariff | None:
    """§11.3.1: at most one tariff per type is active; prefer REGULAR (or untyped) for app sessions."""
    active = [
        t
        for t in candidates
        if (t.start_date_time is None or t.start_date_time <= now)
        and (t.end_date_time is None or now < t.end_date_time)
    ]
    active.sort(key=lambda t: t.type not in (None, "REGULAR"))
    return active[0] if active else None


def build(
    config: Mapping[str, object],
    http: aiohttp.ClientSession,
    sink: EventSink,
    public_url: str,
    state: SharedState | None = None,
) -> OcpiOperator:
    """The factory the registry calls; raises OperatorConfigError naming the bad key."""
    return OcpiOperator(parse_settings(config, public_url), http, sink, public_url, state)
