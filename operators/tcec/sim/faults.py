"""Fault injection for the T/CEC simulator: what can go wrong, and a seeded die that decides when."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

from operators.sim import fault_fields

_RATES = (
    "error_rate",
    "busy_rate",
    "timeout_rate",
    "bad_signature_rate",
    "malformed_data_rate",
    "drop_push_rate",
)


@dataclass(frozen=True, slots=True)
class Faults:
    """Faults applied to every protocol request (and, for ``drop_push_rate``, every push).

    Rates are probabilities in [0, 1]. Replace the whole object to change them
    (``sim.faults = Faults(error_rate=0.1)`` or ``POST /_sim/faults``).

    - ``latency_ms``: added before every answer.
    - ``error_rate``: answer ``Ret 500``; ``busy_rate``: answer ``Ret -1``.
    - ``timeout_rate``: never answer (until the simulator stops).
    - ``bad_signature_rate``: the response ``Sig`` is wrong.
    - ``malformed_data_rate``: the response ``Data`` is not Base64/AES/JSON (correctly signed).
    - ``drop_push_rate``: a push to the aggregator is silently not sent.
    - ``down``: every request gets HTTP 503.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    busy_rate: float = 0.0
    timeout_rate: float = 0.0
    bad_signature_rate: float = 0.0
    malformed_data_rate: float = 0.0
    drop_push_rate: float = 0.0
    down: bool = False

    def __post_init__(self) -> None:
        fault_fields.validate(self, _RATES)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with ``changes`` (field name → JSON value) applied; ValueError on bad input."""
        return fault_fields.updated(self, changes)


class FaultDice:
    """Seeded decisions: the same seed and the same sequence of requests give the same faults."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"tcec-sim-faults:{seed}")

    def roll(self, rate: float) -> bool:
        # Draw only when the fault is on, so turning one fault on does not reshuffle the others'
        # sequence in a run where they were off.
        return rate > 0 and (rate >= 1 or self._rng.random() < rate)

    def pick(self, n: int) -> int:
        """A seeded choice among ``n`` variants of a fault."""
        return int(self._rng.random() * n)
