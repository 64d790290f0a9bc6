"""The credit-bureau simulator's configuration and the faults it can inject."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gateway.rails.bureau.demo import demo_scores
from gateway.rails.bureau.provider import SCORE_MAX, SCORE_MIN
from operators.sim import fault_fields

DEFAULT_API_KEY = "demo-credit-bureau-key"  # a public demo string: pass your own for anything shared
_RATES = ("error_rate", "timeout_rate")


@dataclass(frozen=True, slots=True)
class BureauFaults:
    """Faults applied to every request. Replace the whole object to change them
    (``sim.faults = BureauFaults(down=True)`` or ``POST /_sim/faults``).

    - ``latency_ms``: added before every answer.
    - ``error_rate``: probability of HTTP 500.
    - ``timeout_rate``: probability of never answering (until the simulator stops).
    - ``down``: every request gets HTTP 503.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    down: bool = False

    def __post_init__(self) -> None:
        fault_fields.validate(self, _RATES)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: Any) -> BureauFaults:
        """A copy with ``changes`` (field name → JSON value) applied; ValueError on bad input."""
        return fault_fields.updated(self, changes)


@dataclass(frozen=True, slots=True)
class BureauConfig:
    """``scores`` is the bureau's table; other drivers get a stable score derived from a hash of
    their id and ``seed`` unless ``derive_unknown`` is off, in which case they are unknown (404)."""

    api_key: str = DEFAULT_API_KEY
    host: str = "127.0.0.1"
    port: int = 0  # 0: an ephemeral port; read it from ``sim.port`` after start
    seed: int = 1
    scores: Mapping[str, int] = field(default_factory=demo_scores)
    derive_unknown: bool = True
    faults: BureauFaults = field(default_factory=BureauFaults)

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        for driver_id, score in self.scores.items():
            if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
                raise ValueError(f"score of {driver_id!r} must be an integer {SCORE_MIN}..{SCORE_MAX}")
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))
