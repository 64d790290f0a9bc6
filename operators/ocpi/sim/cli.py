"""``chargegate simulate ocpi``: run the OCPI 2.2.1 CPO simulator standalone.

Flags::

    --port P            listen port (default 9402; 0 = any free port)
    --host H            listen address (default 127.0.0.1)
    --token T           CREDENTIALS_TOKEN_A the eMSP registers with (default sim-token-a)
    --stations N        number of locations (default 50)
    --seed S            RNG seed of the network and of the faults (default 1)
    --center LAT,LON    centre of the network (default 31.230,121.474, Shanghai)
    --country-code CC   CPO country; CN gives GB/T plugs and CNY prices (default CN)
    --party-id PID      CPO party id (default SHA)
    --page-limit N      server maximum page size, X-Limit (default 50)
    --push-interval S   seconds between charging-progress pushes (default 30, as low as 1)
    --time-acceleration F  simulated seconds per real second while charging (default 1)
    --allow-reregister  token A may register again after a registration (a restarted eMSP)
    --latency S / --error-rate R / --timeout-rate R / --malformed-rate R / --down   faults

The token is never printed.
"""

from __future__ import annotations

import argparse
import asyncio

from operators.ocpi.sim.config import OcpiFaults, OcpiSimulatorConfig
from operators.ocpi.sim.server import OcpiSimulator
from operators.sim.args import center, rate

HELP = "an OCPI 2.2.1 CPO"  # the line `chargegate simulate --help` shows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=9402, help="listen port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address")
    parser.add_argument("--token", default="sim-token-a", help="credentials token A for the eMSP")
    parser.add_argument("--stations", type=int, default=50, help="number of locations")
    parser.add_argument("--seed", type=int, default=1, help="seed of the network and faults")
    parser.add_argument("--center", type=center, default=(31.230, 121.474), help="LAT,LON of the network")
    parser.add_argument("--country-code", default="CN", help="CPO country code (CN: GB/T, CNY)")
    parser.add_argument("--party-id", default="SHA", help="CPO party id")
    parser.add_argument("--page-limit", type=int, default=50, help="server maximum page size (X-Limit)")
    parser.add_argument("--push-interval", type=float, default=30.0, help="seconds between progress pushes")
    parser.add_argument("--time-acceleration", type=float, default=1.0, help="charging time speed-up")
    parser.add_argument(
        "--allow-reregister", action="store_true", help="let token A register again (eMSP restarted)"
    )
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    faults.add_argument("--error-rate", type=rate, default=0.0, help="share of HTTP 500 / OCPI 3000 answers")
    faults.add_argument("--timeout-rate", type=rate, default=0.0, help="share of requests that hang")
    faults.add_argument("--malformed-rate", type=rate, default=0.0, help="share of non-JSON answers")
    faults.add_argument("--down", action="store_true", help="answer every request with HTTP 503")


def config_from_args(args: argparse.Namespace) -> OcpiSimulatorConfig:
    if args.stations < 0 or args.page_limit < 1 or args.push_interval < 1:
        raise SystemExit("--stations must be ≥ 0, --page-limit ≥ 1 and --push-interval ≥ 1")
    return OcpiSimulatorConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        stations=args.stations,
        seed=args.seed,
        center=args.center,
        country_code=args.country_code.upper(),
        party_id=args.party_id.upper(),
        page_limit=args.page_limit,
        push_interval_s=args.push_interval,
        time_acceleration=args.time_acceleration,
        allow_reregister=args.allow_reregister,
        faults=OcpiFaults(
            latency_s=args.latency,
            error_rate=args.error_rate,
            timeout_rate=args.timeout_rate,
            malformed_rate=args.malformed_rate,
            down=args.down,
        ),
    )


async def run(args: argparse.Namespace) -> None:
    """Serve until cancelled (Ctrl-C)."""
    config = config_from_args(args)
    async with OcpiSimulator(config) as sim:
        print(
            f"OCPI 2.2.1 CPO simulator {config.country_code}*{config.party_id}: {config.stations} locations"
        )
        print(f"versions endpoint: {sim.versions_url}  (token A: as given by --token)", flush=True)
        await asyncio.Event().wait()
