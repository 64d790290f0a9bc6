"""FakeOperator: the operator port over an in-memory network (see :mod:`operators.testing`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from operators.base import (
    EventSink,
    OperatorInfo,
    OperatorProtocolError,
    OperatorRejected,
    OperatorTimeout,
    OperatorUnavailable,
    PushApp,
    SharedState,
)
from operators.domain import (
    Capability,
    ConnectorState,
    ConnectorStatus,
    Dispute,
    FinalOrder,
    OperatorEvent,
    OrderLine,
    OrderSummary,
    Reconciliation,
    SessionPhase,
    SessionProgress,
    Station,
    StationPage,
    StatusSource,
    Tariff,
    TariffPeriod,
)
from operators.testing.network import generate
from operators.testing.push import status_app
from operators.testing.settings import FakeSettings, parse_settings

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong with the port calls named in ``methods`` (every call when None)."""

    down: bool = False  # refused at once: OperatorUnavailable
    slow_s: float = 0.0  # answers this late; past timeout_s: OperatorTimeout
    malformed: bool = False  # answers with what cannot be parsed: OperatorProtocolError
    methods: frozenset[str] | None = None
    pushes_lost: bool = False  # nothing it pushes reaches the gateway (it still holds the state)


@dataclass
class FakeSession:
    """One session as the fake operator holds it."""

    ref: str
    connector_id: str
    started_at: datetime
    phase: SessionPhase = SessionPhase.STARTING
    energy_kwh: Decimal = Decimal(0)
    soc: float | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    failure: str | None = None
    order: FinalOrder | None = None


class FakeOperator:
    """The operator port over an in-memory network; see the module docstring."""

    def __init__(
        self,
        settings: FakeSettings,
        sink: EventSink | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._sink = sink
        self._clock = clock
        self._info = OperatorInfo(settings.id, settings.name, "fake", frozenset(Capability))
        network = generate(settings.id, settings.name, settings.stations, settings.seed, settings.center)
        since = clock() - timedelta(days=1)  # the catalogue's age: older than any test's "since"
        self.stations: dict[str, Station] = {s.id: replace(s, updated_at=since) for s in network.stations}
        self.statuses: dict[str, ConnectorStatus] = dict(network.statuses)
        self.tariff_of: dict[str, Tariff] = {
            cid: replace(tariff, currency=settings.currency) for cid, tariff in network.tariffs.items()
        }
        self._station_of = {c.id: s.id for s in network.stations for c in s.connectors}
        self.sessions: dict[str, FakeSession] = {}
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self._autopilot: asyncio.Task[None] | None = None
        self._push_app = PushApp(
            f"/push/fake/{settings.id}", status_app(lambda cid: cid in self.statuses, self.set_status)
        )

    # -- the port ----------------------------------------------------------------------------------

    @property
    def info(self) -> OperatorInfo:
        return self._info

    async def list_stations(self, since: datetime | None, cursor: str | None) -> StationPage:
        await self._answer("list_stations")
        if cursor is not None and not cursor.isdigit():
            raise OperatorRejected(self._info.id, f"list_stations: bad cursor {cursor!r}")
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)  # naive means UTC
        listed = [s for _, s in sorted(self.stations.items()) if since is None or _after(s, since)]
        start, size = int(cursor or 0), self.settings.page_size
        end = start + size
        next_cursor = str(end) if end < len(listed) else None
        return StationPage(tuple(listed[start:end]), next_cursor, len(listed))

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        await self._answer("connector_statuses")
        now = self._clock()
        return {
            c.id: ConnectorState(c.id, self.statuses[c.id], now, StatusSource.POLL)
            for sid in dict.fromkeys(station_ids)
            if (station := self.stations.get(sid)) is not None
            for c in station.connectors
        }

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        await self._answer("tariffs")
        return {cid: self.tariff_of[cid] for cid in connector_ids if cid in self.tariff_of}

    async def start_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        await self._answer("start_session")
        session = self.sessions.get(session_ref)
        if session is not None:  # the same ref never starts two sessions
            return self._progress(session)
        status = self.statuses.get(connector_id)
        if status is None:
            raise OperatorRejected(self._info.id, f"start_session: unknown connector {connector_id}")
        if status not in (ConnectorStatus.AVAILABLE, ConnectorStatus.OCCUPIED):
            raise OperatorRejected(
                self._info.id, f"start_session: connector {connector_id} is {status.value}"
            )
        session = FakeSession(session_ref, connector_id, self._clock())
        self.sessions[session_ref] = session
        await self.set_status(connector_id, ConnectorStatus.CHARGING)
        self._start_autopilot()
        return self._progress(session)

    async def stop_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        await self._answer("stop_session")
        session = self._session(session_ref)
        if session.connector_id != connector_id:
            raise OperatorRejected(self._info.id, f"stop_session: {session_ref} is not on {connector_id}")
        if session.phase in (SessionPhase.STARTING, SessionPhase.CHARGING):
            session.phase, session.updated_at = SessionPhase.STOPPING, self._clock()
        return self._progress(session)

    async def session_status(self, session_ref: str) -> SessionProgress:
        await self._answer("session_status")
        return self._progress(self._session(session_ref))

    def push_app(self) -> PushApp:
        return self._push_app

    async def aclose(self) -> None:
        if self._autopilot is not None:
            self._autopilot.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._autopilot

    # -- what a test drives ------------------------------------------------------------------------

    async def set_status(self, connector_id: str, status: ConnectorStatus) -> None:
        """Change a connector's status and push it; its station counts as changed."""
        self.statuses[connector_id] = status
        station_id = self._station_of[connector_id]
        now = self._clock()
        self.stations[station_id] = replace(self.stations[station_id], updated_at=now)
        await self._push(ConnectorState(connector_id, status, now, StatusSource.PUSH))

    async def put_station(self, station: Station) -> None:
        """Add or replace a station (its connectors AVAILABLE, priced like the first one's) and push it."""
        fallback = next(iter(self.tariff_of.values()))
        for c in station.connectors:
            self.statuses.setdefault(c.id, ConnectorStatus.AVAILABLE)
            self.tariff_of.setdefault(c.id, fallback)
            self._station_of[c.id] = station.id
        station = replace(station, operator_id=self._info.id, updated_at=self._clock())
        self.stations[station.id] = station
        await self._push(station)

    def set_tariff(self, connector_id: str, tariff: Tariff) -> None:
        self.tariff_of[connector_id] = tariff

    def session_on(self, connector_id: str) -> FakeSession | None:
        """The latest session on a connector."""
        found = [s for s in self.sessions.values() if s.connector_id == connector_id]
        return max(found, key=lambda s: s.started_at) if found else None

    async def charge(self, session_ref: str, energy_kwh: Decimal, *, soc: float | None = None) -> None:
        """``energy_kwh`` more delivered: the session is CHARGING (unless stopping) and says so."""
        session = self._session(session_ref)
        if session.phase in (SessionPhase.COMPLETED, SessionPhase.FAILED):
            raise ValueError(f"{session_ref} has ended")
        if session.phase is SessionPhase.STARTING:
            session.phase = SessionPhase.CHARGING
        session.energy_kwh += energy_kwh
        session.soc, session.updated_at = soc, self._clock()
        await self._push(self._progress(session))

    async def finish(self, session_ref: str, *, reason: str | None = None) -> FinalOrder:
        """End the session: COMPLETED, the connector free, then the final order, each pushed."""
        session = self._session(session_ref)
        if session.order is not None:
            return session.order
        now = self._clock()
        session.phase, session.updated_at, session.ended_at = SessionPhase.COMPLETED, now, now
        session.order = self._order(session, reason)
        await self._push(self._progress(session))
        await self.set_status(session.connector_id, ConnectorStatus.AVAILABLE)
        await self._push(session.order)
        return session.order

    async def resend_order(self, session_ref: str) -> None:
        """Push a finished session's final order again, as an operator does until it is confirmed."""
        order = self._session(session_ref).order
        if order is None:
            raise ValueError(f"{session_ref} has no final order yet")
        await self._push(order)

    async def fail(self, session_ref: str, failure: str) -> None:
        """The start did not take (the car refused, the pile faulted): FAILED, pushed."""
        session = self._session(session_ref)
        session.phase, session.failure, session.updated_at = SessionPhase.FAILED, failure, self._clock()
        await self._push(self._progress(session))
        await self.set_status(session.connector_id, ConnectorStatus.AVAILABLE)

    async def reconcile(self, extra: Sequence[OrderSummary] = ()) -> tuple[Dispute, ...]:
        """Push the orders of every finished session, and ``extra`` ones, for the gateway to check
        (T/CEC ``check_charge_orders``); returns the orders it disputes."""
        orders = [
            OrderSummary(s.ref, s.ref, s.order.energy_kwh, s.order.total)
            for s in self.sessions.values()
            if s.order is not None
        ]
        answer = await self._push(Reconciliation(None, None, (*orders, *extra)))
        return answer if isinstance(answer, tuple) else ()

    # -- inside --------------------------------------------------------------------------------------

    async def _answer(self, method: str) -> None:
        """Count the call and apply the faults: the one place the fake's errors come from."""
        self.calls[method] += 1
        faults, op_id = self.faults, self._info.id
        if faults.methods is not None and method not in faults.methods:
            return
        if faults.down:
            raise OperatorUnavailable(op_id, f"{method}: connection refused")
        if faults.slow_s:
            try:
                async with asyncio.timeout(self.settings.timeout_s):
                    await asyncio.sleep(faults.slow_s)
            except TimeoutError as exc:
                raise OperatorTimeout(
                    op_id, f"{method}: no answer within {self.settings.timeout_s}s"
                ) from exc
        if faults.malformed:
            raise OperatorProtocolError(op_id, f"{method}: answer is not valid")

    def _session(self, session_ref: str) -> FakeSession:
        session = self.sessions.get(session_ref)
        if session is None:
            raise OperatorRejected(self._info.id, f"unknown session {session_ref}")
        return session

    def _tariff(self, session: FakeSession) -> tuple[Tariff, TariffPeriod]:
        tariff = self.tariff_of[session.connector_id]
        local = session.started_at.astimezone(ZoneInfo(tariff.timezone)).time()
        return tariff, tariff.period_at(local)

    def _progress(self, session: FakeSession) -> SessionProgress:
        _, period = self._tariff(session)
        unit = period.energy_per_kwh + period.service_per_kwh
        charging = session.phase is SessionPhase.CHARGING
        return SessionProgress(
            session.ref,
            session.connector_id,
            session.phase,
            energy_kwh=session.energy_kwh,
            cost=(session.energy_kwh * unit).quantize(CENT, ROUND_HALF_UP),
            power_kw=self._power_kw(session.connector_id) if charging else None,
            soc=session.soc,
            started_at=session.started_at,
            updated_at=session.updated_at,
            ended_at=session.ended_at,
            failure=session.failure,
        )

    def _order(self, session: FakeSession, reason: str | None) -> FinalOrder:
        tariff, period = self._tariff(session)
        assert session.ended_at is not None
        lines = tuple(
            OrderLine(
                kind,
                (session.energy_kwh * price).quantize(CENT, ROUND_HALF_UP),
                session.started_at,
                session.ended_at,
                session.energy_kwh,
                price,
            )
            for kind, price in (("ENERGY", period.energy_per_kwh), ("SERVICE", period.service_per_kwh))
        )
        return FinalOrder(
            session.ref,
            session.connector_id,
            tariff.currency,
            session.started_at,
            session.ended_at,
            session.energy_kwh,
            sum((line.amount for line in lines), Decimal(0)),
            lines,
            stop_reason=reason,
        )

    def _power_kw(self, connector_id: str) -> float:
        station = self.stations[self._station_of[connector_id]]
        return next(c.max_power_kw for c in station.connectors if c.id == connector_id)

    async def _push(self, event: OperatorEvent) -> object:
        if self._sink is None or self.faults.pushes_lost:
            return None
        return await self._sink(self._info.id, event)

    def _start_autopilot(self) -> None:
        if self.settings.autopilot_s > 0 and self._autopilot is None:
            self._autopilot = asyncio.create_task(self._fly(), name=f"fake-autopilot-{self._info.id}")

    async def _fly(self) -> None:
        """Every ``autopilot_s``: a start takes, a charging session gains ``step_kwh``, a stop ends."""
        while True:
            await asyncio.sleep(self.settings.autopilot_s)
            for session in list(self.sessions.values()):
                try:
                    if session.phase in (SessionPhase.STARTING, SessionPhase.CHARGING):
                        await self.charge(session.ref, self.settings.step_kwh)
                    elif session.phase is SessionPhase.STOPPING:
                        await self.finish(session.ref)
                except Exception:  # the sink failed: an operator would push again later
                    logger.exception("fake %s: push for %s failed", self._info.id, session.ref)


def _after(station: Station, since: datetime) -> bool:
    return station.updated_at is not None and station.updated_at > since


def build(
    config: Mapping[str, object],
    http: object,
    sink: EventSink,
    public_url: str,
    state: SharedState | None = None,
) -> FakeOperator:
    """The registry's factory for protocol ``fake``: no HTTP, no shared state, no public URL."""
    return FakeOperator(parse_settings(config), sink)
