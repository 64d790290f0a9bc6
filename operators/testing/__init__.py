"""An in-memory operator: the operator port without a protocol or a socket (httpx's ``MockTransport``).

:class:`FakeOperator` holds a generated network (stations, connectors, statuses, tariffs) and its
sessions in memory and answers through :class:`operators.base.Operator` like any adapter: batch
methods keyed by native id, unknown ids left out, failures only from the port's error tree, pushes
(status changes, session progress, the final order) through the event sink. It passes the same
contract suite as the protocol adapters, so tests above the port (services, resolvers, the whole
GraphQL app) can use it instead of a simulator on loopback.

A test drives it directly:

- the network: ``set_status`` (pushed), ``put_station`` (pushed), ``set_tariff``; a status can
  also be pushed over HTTP through its push app (``POST /push/fake/{id}/status``, see :mod:`push`);
- sessions: started and stopped through the port; ``charge`` reports energy, ``finish`` completes
  a session with a final order priced by its tariff (``resend_order`` pushes it again), ``fail``
  ends a start that did not take; with ``autopilot_s`` the operator moves its sessions on by
  itself, as a real one does;
- reconciliation: ``reconcile`` pushes the orders of its finished sessions (and any others) for the
  gateway to check, and returns what it disputes;
- faults: ``faults = Faults(down=True)``, ``Faults(slow_s=...)`` (past ``timeout_s`` it is an
  :class:`~operators.base.OperatorTimeout`, as an adapter's own timeout), ``Faults(malformed=True)``,
  each optionally for some port methods only, and ``Faults(pushes_lost=True)``; ``calls`` counts the
  port calls.

It is also protocol ``fake`` in the registry (table keys: see :class:`FakeSettings`).
"""

from operators.testing.fake import FakeOperator, FakeSession, Faults, build
from operators.testing.settings import FakeSettings, parse_settings

__all__ = ["FakeOperator", "FakeSession", "FakeSettings", "Faults", "build", "parse_settings"]
