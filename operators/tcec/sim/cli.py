"""``chargegate simulate tcec``: run one T/CEC 102 operator simulator standalone.

The lead's CLI calls :func:`add_arguments` on the ``tcec`` sub-parser and awaits :func:`run` with the
parsed namespace. Defaults give a working demo operator on 127.0.0.1:9101 around Hangzhou; the
secrets are public demo strings, so pass your own for anything shared. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import asyncio

from operators.sim.args import bounded, center, rate
from operators.tcec import codec
from operators.tcec.profile import PRESETS
from operators.tcec.sim.faults import Faults
from operators.tcec.sim.server import SimulatorConfig, TcecSimulator

HELP = "a T/CEC 102 operator"  # the line `chargegate simulate --help` shows

DEFAULT_PORT = 9101
DEFAULT_OPERATOR_ID = "MA1SIMTC1"
DEFAULT_OPERATOR_SECRET = "demo-op-secret16"
DEFAULT_DATA_SECRET = "demo-data-secret"
DEFAULT_DATA_IV = "demo-data-iv-16b"
DEFAULT_SIG_SECRET = "demo-sig-secret1"
DEFAULT_CENTER = "30.274,120.155"


def _operator_id(text: str) -> str:
    if len(text) != 9 or not text.isalnum():
        raise argparse.ArgumentTypeError("must be 9 letters or digits (a T/CEC OperatorID)")
    return text


def _secret(text: str) -> str:
    if len(text.encode()) != 16 or not text.isascii():
        raise argparse.ArgumentTypeError("must be exactly 16 ASCII characters")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate tcec`` flags to ``parser``."""
    net = parser.add_argument_group("operator and network")
    net.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    net.add_argument("--port", type=bounded(0, 65535, int), default=DEFAULT_PORT, help="0 = ephemeral")
    net.add_argument("--profile", choices=sorted(PRESETS), default="2016",
                     help="partner dialect: paths, spellings, string numbers, token policy")  # fmt: skip
    net.add_argument("--path-prefix", default=None,
                     help="base URL path before the profile's paths (default: /evcs/v20160701 for 2016, "
                          "none for the others, whose paths are complete)")  # fmt: skip
    net.add_argument("--operator-id", type=_operator_id, default=DEFAULT_OPERATOR_ID, help="our OperatorID")
    net.add_argument("--operator-secret", type=_secret, default=DEFAULT_OPERATOR_SECRET,
                     help="OperatorSecret the aggregator must present in query_token")  # fmt: skip
    net.add_argument("--data-secret", type=_secret, default=DEFAULT_DATA_SECRET, help="AES-128 key")
    net.add_argument("--data-iv", type=_secret, default=DEFAULT_DATA_IV, help="AES IV")
    net.add_argument("--sig-secret", type=_secret, default=DEFAULT_SIG_SECRET, help="HMAC-MD5 key")
    net.add_argument("--aggregator-id", type=_operator_id, default=None,
                     help="only accept this calling OperatorID (default: any)")  # fmt: skip
    net.add_argument("--stations", type=bounded(0, 1_000_000, int), default=300)
    net.add_argument("--seed", type=int, default=1)
    net.add_argument("--center", type=center, default=center(DEFAULT_CENTER), metavar="LAT,LON")
    net.add_argument("--notify-url", default=None, metavar="URL",
                     help="aggregator base URL for pushes: URL/query_token, URL/notification_…")  # fmt: skip
    net.add_argument("--token-ttl", type=bounded(1, None, int), default=7200, help="seconds")
    net.add_argument("--token-reissue", choices=("same", "new"), default=None,
                     help="query_token while a token is valid (default: the profile's)")  # fmt: skip
    net.add_argument("--push-interval", type=bounded(1.0), default=30.0, metavar="SECONDS",
                     help="charging progress push interval (default 30, min 1)")  # fmt: skip
    net.add_argument("--status-interval", type=bounded(0.0), default=10.0, metavar="SECONDS",
                     help="a random connector changes status this often (0 = never)")  # fmt: skip
    net.add_argument("--time-acceleration", type=bounded(0.001), default=1.0,
                     help="sessions charge this many times faster than real time")  # fmt: skip
    faults = parser.add_argument_group("fault injection (rates are probabilities 0..1)")
    faults.add_argument("--latency-ms", type=bounded(0.0), default=0.0)
    faults.add_argument("--error-rate", type=rate, default=0.0, help="answer Ret 500")
    faults.add_argument("--busy-rate", type=rate, default=0.0, help="answer Ret -1")
    faults.add_argument("--timeout-rate", type=rate, default=0.0, help="never answer")
    faults.add_argument("--bad-signature-rate", type=rate, default=0.0, help="wrong response Sig")
    faults.add_argument("--malformed-rate", type=rate, default=0.0, help="undecodable response Data")
    faults.add_argument("--drop-push-rate", type=rate, default=0.0, help="silently skip pushes")


def default_path_prefix(profile: str) -> str:
    """2016's paths are ``/{interface}`` under a versioned base; the other presets' are complete."""
    return "/evcs/v20160701" if profile == "2016" else ""


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    profile = PRESETS[args.profile]
    prefix = default_path_prefix(args.profile) if args.path_prefix is None else args.path_prefix
    return SimulatorConfig(
        operator_id=args.operator_id,
        operator_secret=args.operator_secret,
        secrets=codec.Secrets(args.data_secret, args.data_iv, args.sig_secret),
        stations=args.stations,
        seed=args.seed,
        center=args.center,
        host=args.host,
        port=args.port,
        path_prefix=prefix,
        profile=profile,
        notify_url=args.notify_url,
        aggregator_operator_id=args.aggregator_id,
        token_ttl_s=args.token_ttl,
        token_reissue=args.token_reissue or profile.token_reissue,
        status_change_interval_s=args.status_interval,
        charge_push_interval_s=args.push_interval,
        time_acceleration=args.time_acceleration,
        faults=Faults(
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            busy_rate=args.busy_rate,
            timeout_rate=args.timeout_rate,
            bad_signature_rate=args.bad_signature_rate,
            malformed_data_rate=args.malformed_rate,
            drop_push_rate=args.drop_push_rate,
        ),
    )


async def run(args: argparse.Namespace) -> None:
    """Start the simulator, say where it listens, and serve until cancelled (Ctrl-C)."""
    sim = TcecSimulator(config_from_args(args))
    async with sim:
        root = f"http://{sim.config.host}:{sim.port}"
        print(f"T/CEC simulator {sim.config.operator_id} listening on {sim.base_url}", flush=True)
        print(f"  profile: {sim.config.profile.name} (give the gateway the same profile and this base URL)")
        print(f"  stations: {len(sim.network.stations)} (seed {sim.config.seed}); secrets: given (not shown)")
        print(f"  pushes to: {sim.config.notify_url or '(none: --notify-url not set)'}")
        print(f"  admin: {root}/_sim/faults  {root}/_sim/network  {root}/_sim/sessions", flush=True)
        await asyncio.Event().wait()
