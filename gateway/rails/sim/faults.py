"""The faults a rail simulator injects, the same set for Alipay and WeChat Pay."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_FLAGS = ("decline_credit", "duplicate_notifications", "notify_before_response", "collection_failure", "down")


@dataclass(frozen=True, slots=True)
class RailFaults:
    """Faults applied to every request; replace the whole object to change them
    (``sim.faults = RailFaults(decline_credit=True)`` or ``POST /_sim/faults``).

    - ``decline_credit``: every credit order (Zhima order, pay-score service order) is declined.
    - ``timeout_rate``: probability that a request is *processed* but never answered (until the
      simulator stops) — the case where the caller cannot know whether money moved.
    - ``duplicate_notifications``: every notification is delivered a second time after it was
      acknowledged.
    - ``notify_before_response``: the notification of an outcome is delivered (and acknowledged)
      before the API call that caused it answers.
    - ``collection_failure``: collections fail: nothing is taken, the order stays collectable and
      the failure is notified.
    - ``latency_ms``: added before every answer.
    - ``down``: every API request is answered HTTP 503 before anything is processed.
    """

    decline_credit: bool = False
    timeout_rate: float = 0.0
    duplicate_notifications: bool = False
    notify_before_response: bool = False
    collection_failure: bool = False
    latency_ms: float = 0.0
    down: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.timeout_rate <= 1.0:
            raise ValueError("timeout_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: Any) -> RailFaults:
        """A copy with ``changes`` (field name → JSON value) applied; ValueError on bad input."""
        if not isinstance(changes, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name in _FLAGS:
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be a boolean")
                clean[name] = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                clean[name] = float(value)
            else:
                raise ValueError(f"{name} must be a number")
        return dataclasses.replace(self, **clean)
