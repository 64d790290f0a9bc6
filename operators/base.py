"""The operator port: the one interface between the gateway and every native protocol.

Error tree (every adapter raises only these, ``from`` the underlying cause)::

    OperatorError                 operator_id, message; never carries secrets
    ├── OperatorUnavailable       cannot reach it, 5xx, busy (Ret -1/500), circuit open
    │   └── OperatorTimeout       no answer within the per-operator timeout
    ├── OperatorAuthError         credentials refused (bad secret, bad signature, token refused twice)
    ├── OperatorRejected          understood and refused (bad ids, device offline, business failure)
    ├── OperatorProtocolError     answered with something we cannot parse or verify
    └── OperatorNotSupported      the operator lacks the capability asked for

Adapters do not inherit from anything: they satisfy :class:`Operator` structurally, and so do the
wrappers (cache, circuit breaker, metrics) that the gateway puts around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from aiohttp import ClientSession

from operators.asgi import ASGIApp
from operators.domain import (
    Capability,
    ConnectorState,
    OperatorEvent,
    SessionProgress,
    StationPage,
    Tariff,
)


class OperatorError(Exception):
    """Base of every error an operator call can raise through the port."""

    code = "OPERATOR_ERROR"

    def __init__(self, operator_id: str, message: str) -> None:
        super().__init__(f"{operator_id}: {message}")
        self.operator_id = operator_id
        self.message = message


class OperatorUnavailable(OperatorError):
    code = "OPERATOR_UNAVAILABLE"


class OperatorTimeout(OperatorUnavailable):
    code = "OPERATOR_TIMEOUT"


class OperatorAuthError(OperatorError):
    code = "OPERATOR_AUTH"


class OperatorRejected(OperatorError):
    code = "OPERATOR_REJECTED"


class OperatorProtocolError(OperatorError):
    code = "OPERATOR_PROTOCOL"


class OperatorNotSupported(OperatorError):
    code = "OPERATOR_NOT_SUPPORTED"


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """Who an operator is. ``id`` is our key for it (T/CEC OperatorID, OCPI country+party)."""

    id: str
    name: str
    protocol: str
    capabilities: frozenset[Capability]


@dataclass(frozen=True, slots=True)
class PushApp:
    """How an operator pushes to us: an ASGI app the gateway mounts at ``prefix``.

    ``prefix`` is a path such as ``/ocpi/NL-ABC`` (no trailing slash); ``app`` sees requests under
    it with ``root_path`` ending in the prefix, as with any mounted ASGI app, so its own routes are
    relative to the prefix. The adapter answers every request itself, refusals included.
    """

    prefix: str
    app: ASGIApp


EventSink = Callable[[str, OperatorEvent], Awaitable[object]]
"""Called by an adapter with ``(operator_id, event)`` for every verified push it receives; returns
the gateway's answer where the protocol needs one (disputes for a ``Reconciliation``), else None."""


@runtime_checkable
class Operator(Protocol):
    """One charging operator, whatever protocol it speaks.

    All methods are batch methods: callers pass every id they need in one call and the adapter
    splits the batch by protocol limits (T/CEC: 50 stations per status call) and runs the parts
    concurrently. Results are keyed by native id; ids the operator does not know are left out.
    """

    @property
    def info(self) -> OperatorInfo: ...

    async def list_stations(self, since: datetime | None, cursor: str | None) -> StationPage:
        """One page of the catalogue; ``since`` asks only for stations changed after it.

        Start with ``cursor=None``; pass each page's ``next_cursor`` until it is None.
        """
        ...

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        """Current status of every connector of the given stations, keyed by connector id."""
        ...

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        """The tariff in force for each connector, keyed by connector id."""
        ...

    async def start_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        """Ask the operator to start charging; returns the accepted (usually STARTING) state.

        ``session_ref`` is the gateway's idempotency key: the same ref never starts two sessions.
        """
        ...

    async def stop_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        """Ask the operator to stop; returns the accepted (usually STOPPING) state."""
        ...

    async def session_status(self, session_ref: str) -> SessionProgress:
        """Poll a session's live state."""
        ...

    def push_app(self) -> PushApp | None:
        """The ASGI app through which this operator pushes to us, or None if it never pushes.

        The same object on every call: the gateway mounts it once, for the adapter's lifetime.
        """
        ...

    async def aclose(self) -> None:
        """Release what the adapter holds (background tasks; the HTTP session is shared)."""
        ...


@runtime_checkable
class SharedState(Protocol):
    """Key-value storage every gateway replica sees (Redis when configured, else in-process).

    Adapters keep here what must not differ between replicas: OCPI credentials and pushed objects,
    the T/CEC replay cache. Values are strings (adapters encode their own JSON); ``ttl_s`` None
    keeps a key until it is deleted. Keys are the adapter's own, prefixed with its operator id.
    """

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    async def add(self, key: str, value: str, ttl_s: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True when stored (atomic across replicas)."""
        ...

    async def delete(self, key: str) -> None: ...


class OperatorConfigError(ValueError):
    """An operator's configuration is wrong; ``key`` names the offending setting."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class OperatorFactory(Protocol):
    """How the registry builds an adapter: its config table, the shared HTTP session, the sink and
    the state shared by the replicas (an in-process one when None).

    ``config`` is the operator's table from the settings file with secrets already resolved from
    the environment; the adapter validates it and raises :class:`OperatorConfigError` naming the
    key. ``public_url`` is the gateway's own base URL, for protocols that tell the operator where
    to push (OCPI credentials, command ``response_url``).
    """

    def __call__(
        self,
        config: Mapping[str, object],
        http: ClientSession,
        sink: EventSink,
        public_url: str,
        state: SharedState | None = None,
    ) -> Operator: ...
