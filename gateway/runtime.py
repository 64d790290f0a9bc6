"""The runtime: everything shared, one handle the services and resolvers read.

Each operator is wrapped cache ▸ circuit breaker ▸ metrics ▸ adapter; the resolvers only see
:attr:`Runtime.operators` (port-shaped) and the catalogue. With several replicas
(:mod:`gateway.replicas.shared`), station and session updates fan in to every replica. The runtime is
built and torn down by :func:`gateway.app.assembly.running`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import aiohttp

from gateway.billing.quoting import Quoting
from gateway.catalogue.stations import Catalogue
from gateway.charging.service import SessionService, order_raw
from gateway.identity import Authenticator, SignIns
from gateway.observability.metrics import Metrics
from gateway.observability.tracing import upstream_tracer
from gateway.rails.card import NoCard
from gateway.rails.port import CreditRail
from gateway.replicas.pushes import FanIn, InProcessFanIn, Shared
from gateway.settings.sections import Settings
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache import Cache
from gateway.upstream.caching import CachedOperator
from gateway.upstream.health import OperatorHealth, RecentCalls, assess
from gateway.upstream.instrumented import UpstreamMetrics
from gateway.upstream.wrapping import WrappedOperator
from operators.base import Operator, OperatorInfo, PushApp
from operators.domain import ConnectorState, FinalOrder, OperatorEvent, SessionProgress, Station

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    """One operator in the runtime: the adapter the registry built, the port the gateway calls
    (cache ▸ circuit breaker ▸ metrics ▸ adapter), what watches it, and its push app."""

    adapter: Operator
    port: CachedOperator
    breaker: CircuitBreaker
    recent_calls: RecentCalls  # the latest calls, for health
    push: PushApp | None

    @property
    def info(self) -> OperatorInfo:
        return self.adapter.info


class OperatorPorts(Mapping[str, CachedOperator]):
    """The operators as resolvers and services call them, by id: a read-only view of the records."""

    def __init__(self, records: dict[str, OperatorRecord]) -> None:
        self._records = records

    def __getitem__(self, operator_id: str) -> CachedOperator:
        return self._records[operator_id].port

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, operator_id: object) -> bool:
        return operator_id in self._records


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    cache: Cache
    catalogue: Catalogue
    http: aiohttp.ClientSession
    records: dict[str, OperatorRecord] = field(default_factory=dict)  # one per operator, by id
    operators: OperatorPorts = field(init=False)  # the records' ports
    sessions: SessionService | None = None
    quoting: Quoting | None = None  # binding quotes, on the session ledger
    card: CreditRail = field(default_factory=NoCard)  # top-ups and bills paid by card
    fanin: FanIn = field(default_factory=InProcessFanIn)
    authenticator: Authenticator = field(init=False)  # bearer tokens → drivers
    sign_ins: SignIns | None = None  # sign-in with Alipay / WeChat, refresh, linking

    def __post_init__(self) -> None:
        self.operators = OperatorPorts(self.records)
        self.authenticator = Authenticator(self.settings.auth)  # HS256 only until running() builds it

    def add(self, adapter: Operator) -> OperatorRecord:
        op_id = adapter.info.id
        breaker = CircuitBreaker(
            op_id,
            failure_threshold=self.settings.breaker.failure_threshold,
            reset_after_s=self.settings.breaker.reset_after_s,
            metrics=self.metrics,
        )
        recent = RecentCalls()
        policy = UpstreamMetrics(op_id, self.metrics, recent, upstream_tracer(self.settings.tracing))
        port = CachedOperator(
            WrappedOperator(WrappedOperator(adapter, policy), breaker),
            self.cache,
            self.settings.cache,
            lambda station_id: self.catalogue.connector_ids(op_id, station_id),
        )
        record = OperatorRecord(adapter, port, breaker, recent, adapter.push_app())
        self.records[op_id] = record
        return record

    def health(self, operator_id: str) -> OperatorHealth:
        record = self.records.get(operator_id)
        return assess(
            record.breaker.state if record else "closed",
            self.catalogue.sync_state.get(operator_id),
            record.recent_calls if record else None,
        )

    def push_app_at(self, path: str) -> PushApp | None:
        """The push app of the operator whose prefix ``path`` falls under, if any."""
        for record in self.records.values():
            push = record.push
            if push is not None and (path == push.prefix or path.startswith(push.prefix + "/")):
                return push
        return None

    async def on_event(self, operator_id: str, event: OperatorEvent) -> object:
        """The event sink every adapter pushes into; answers a reconciliation with disputes."""
        record = self.records.get(operator_id)
        if record is None:
            log.warning("push for unknown operator %s dropped", operator_id)
            return None
        kind = type(event).__name__
        if isinstance(event, ConnectorState):
            await record.port.record_push(event)
        elif isinstance(event, Station):
            self.catalogue.upsert([event])
            self.fanin.publish(event)
        elif self.sessions is None:
            log.warning("push %s from %s dropped: no session ledger", kind, operator_id)
            return None
        elif isinstance(event, SessionProgress):
            await self.sessions.apply_progress(operator_id, event)
        elif isinstance(event, FinalOrder):
            await self.sessions.apply_order(operator_id, event, order_raw(event))
        else:
            self.metrics.pushes.labels(operator_id, kind).inc()
            return await self.sessions.check_orders(operator_id, event)
        self.metrics.pushes.labels(operator_id, kind).inc()
        return None

    async def apply_shared(self, event: Shared) -> None:
        """What another replica received: a station for our catalogue, a session for our subscribers."""
        if isinstance(event, Station):
            if event.operator_id in self.records:
                self.catalogue.upsert([event])
        elif self.sessions is not None:
            self.sessions.broker.deliver(event)
