"""The OCPI CPO simulator's configuration and its run-time fault switches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class OcpiFaults:
    """Fault injection, changeable while the simulator runs. Rates are probabilities per request."""

    latency_s: float = 0.0
    error_rate: float = 0.0  # HTTP 500 or OCPI 3000, alternately
    timeout_rate: float = 0.0  # the request hangs for ``hang_s`` (or until the simulator stops)
    hang_s: float = 30.0
    malformed_rate: float = 0.0  # HTTP 200 with a body that is not JSON
    down: bool = False  # every request answered HTTP 503
    command_response: str = "ACCEPTED"  # synchronous CommandResponse.result
    command_result: str | None = "ACCEPTED"  # async CommandResult.result; None = never sent
    drop_pushes: bool = False


@dataclass(frozen=True)
class OcpiSimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = any free port; see ``OcpiSimulator.versions_url``
    token: str = "sim-token-a"  # CREDENTIALS_TOKEN_A handed to the eMSP out of band
    stations: int = 50
    seed: int = 1
    center: tuple[float, float] = (31.230, 121.474)
    country_code: str = "CN"
    party_id: str = "SHA"
    time_zone: str | None = None  # default: Asia/Shanghai for CN, Europe/Berlin otherwise
    page_limit: int = 50  # server maximum page size (X-Limit)
    push: bool = True
    push_interval_s: float = 30.0  # how often an active session is advanced and PATCHed
    time_acceleration: float = 1.0  # simulated seconds per wall-clock second for charging
    command_delay_s: float = 0.2  # before the CommandResult is posted
    command_timeout_s: int = 30  # CommandResponse.timeout
    allow_reregister: bool = False  # sandbox: token A may POST credentials again (an eMSP restarted)
    epoch: datetime = datetime(2025, 1, 1, tzinfo=UTC)  # last_updated of the generated network
    faults: OcpiFaults = field(default_factory=OcpiFaults)
