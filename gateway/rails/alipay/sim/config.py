"""The Alipay simulator's configuration: the apps it knows, its own signing key, its users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway.rails.sim.faults import RailFaults
from gateway.rails.sim.notifier import DEFAULT_RETRY_DELAYS


@dataclass(frozen=True, slots=True)
class AlipaySimConfig:
    """``apps`` maps each app id to its public key (PEM or base64 body), as merchants upload them;
    ``alipay_private_key`` is the key the simulator signs answers and notifications with (its
    public half is what merchants configure as ``alipay_public_key``). ``declined_users`` are
    Alipay logins whose credit orders Zhima always declines."""

    apps: Mapping[str, str]
    alipay_private_key: str
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    declined_users: frozenset[str] = frozenset()
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    faults: RailFaults = field(default_factory=RailFaults)

    def __post_init__(self) -> None:
        if not self.apps:
            raise ValueError("the Alipay simulator needs at least one app")
        object.__setattr__(self, "apps", MappingProxyType(dict(self.apps)))
