"""Command-line flags both rail simulators share: address, keys, seed and faults."""

from __future__ import annotations

import argparse

from gateway.rails.sim.faults import RailFaults
from operators.sim.args import bounded, rate


def add_common(parser: argparse.ArgumentParser, default_port: int, rail: str) -> None:
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    server.add_argument("--port", type=bounded(0, 65535, int), default=default_port, help="0 = ephemeral")
    server.add_argument("--seed", type=int, default=1, help="seeds the fault dice")
    server.add_argument("--keys-dir", default=f"var/{rail}-sim-keys",
                        help="where generated key files are kept (default %(default)s)")  # fmt: skip
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--decline-credit", action="store_true", help="decline every credit order")
    faults.add_argument("--timeout-rate", type=rate, default=0.0, help="process a request, never answer it")
    faults.add_argument(
        "--duplicate-notifications", action="store_true", help="deliver each notification twice"
    )
    faults.add_argument("--notify-before-response", action="store_true",
                        help="notify an outcome before the call that caused it answers")  # fmt: skip
    faults.add_argument("--collection-failure", action="store_true", help="every collection fails")
    faults.add_argument("--latency-ms", type=bounded(0.0), default=0.0)
    faults.add_argument("--down", action="store_true", help="answer HTTP 503 to every API call")


def faults_from_args(args: argparse.Namespace) -> RailFaults:
    return RailFaults(
        decline_credit=args.decline_credit,
        timeout_rate=args.timeout_rate,
        duplicate_notifications=args.duplicate_notifications,
        notify_before_response=args.notify_before_response,
        collection_failure=args.collection_failure,
        latency_ms=args.latency_ms,
        down=args.down,
    )
