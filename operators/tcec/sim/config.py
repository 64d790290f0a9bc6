"""Configuration of the T/CEC operator simulator."""

from __future__ import annotations

from dataclasses import dataclass, field

from operators.tcec import codec
from operators.tcec.profile import PRESETS, Profile
from operators.tcec.sim.faults import Faults


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything a simulated T/CEC operator needs. Secrets are shared by both directions."""

    operator_id: str  # our OperatorID (9 chars)
    operator_secret: str = field(repr=False)  # what the aggregator must present in query_token
    secrets: codec.Secrets = field(repr=False)  # DataSecret/IV/SigSecret, both directions
    stations: int = 300
    seed: int = 1
    center: tuple[float, float] = (30.274, 120.155)
    host: str = "127.0.0.1"
    port: int = 0  # 0 = ephemeral; read TcecSimulator.port after start()
    path_prefix: str = "/evcs/v20160701"  # base_url's path; the profile's paths follow it
    profile: Profile = PRESETS["2016"]  # the partner dialect spoken: paths, spellings, numbers, keys
    notify_url: str | None = None  # aggregator base URL; pushes go to f"{notify_url}/{interface}"
    aggregator_operator_id: str | None = None  # None = accept any caller
    token_ttl_s: int = 7200
    token_reissue: str = "same"  # "same" returns the live token, "new" replaces it
    status_change_interval_s: float = 0.0  # 0 = connectors never change on their own
    charge_push_interval_s: float = 30.0
    time_acceleration: float = 1.0
    page_size_max: int = 50
    faults: Faults = Faults()
    start_delay_s: float = 0.5  # query_start_charge → notification_start_charge_result
    unplug_delay_s: float = 5.0  # after a session, the connector goes 2 → 1 this much later
    order_retry_s: float = 5.0  # first back-off of the charge-order re-push (then doubling)
    order_max_attempts: int = 5
    batteries_kwh: tuple[float, ...] = (50.0, 60.0, 75.0, 80.0)  # battery sizes of arriving vehicles

    def __post_init__(self) -> None:
        if len(self.operator_id) != 9:
            raise ValueError("operator_id must be 9 characters (T/CEC 102.4 §3.1)")
        if len(self.operator_secret.encode()) != 16:
            raise ValueError("operator_secret must be 16 bytes (T/CEC 102.4 §3.1)")
        if not (self.charge_push_interval_s > 0 and self.time_acceleration > 0 and self.page_size_max >= 1):
            raise ValueError("charge_push_interval_s, time_acceleration and page_size_max must be positive")
        if not self.batteries_kwh or min(self.batteries_kwh) <= 0:
            raise ValueError("batteries_kwh must list positive battery sizes")
        if self.status_change_interval_s < 0 or self.token_ttl_s <= 0:
            raise ValueError("status_change_interval_s must be >= 0 and token_ttl_s > 0")
        if self.path_prefix and (not self.path_prefix.startswith("/") or self.path_prefix.endswith("/")):
            raise ValueError("path_prefix must start with '/' and not end with one")
