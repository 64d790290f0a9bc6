"""The WeChat Pay simulator's configuration: the merchant it serves and the platform's own key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.rails.sim.faults import RailFaults
from gateway.rails.sim.notifier import DEFAULT_RETRY_DELAYS


@dataclass(frozen=True, slots=True)
class WeChatPaySimConfig:
    """One merchant (``mchid`` with its API certificate's ``merchant_serial_no`` and public key, its
    ``apiv3_key``, ``appid`` and pay-score ``service_id``) and the platform's signing key, published
    to merchants as ``platform_public_key_id``. ``declined_openids`` are users whose pay score is
    always insufficient; ``risk_cap`` (fen) is the service's highest risk amount."""

    mchid: str
    appid: str
    service_id: str
    merchant_serial_no: str
    merchant_public_key: str
    apiv3_key: str
    platform_private_key: str
    platform_public_key_id: str = "PUB_KEY_ID_0000000000000000000000000001"
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    declined_openids: frozenset[str] = frozenset()
    risk_cap: int = 100_000  # fen: ¥1,000
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    faults: RailFaults = field(default_factory=RailFaults)

    def __post_init__(self) -> None:
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("the APIv3 key must be 32 bytes")
