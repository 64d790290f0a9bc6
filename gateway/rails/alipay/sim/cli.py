"""``chargegate simulate alipay``: run the Alipay open-platform simulator standalone.

Without ``--app-public-key`` it generates (once, in ``--keys-dir``) an app key pair and the
simulator's own key pair, and prints which files the gateway's ``[payments.alipay]`` settings
point at. Private keys are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from gateway.rails.alipay.sim.config import AlipaySimConfig
from gateway.rails.alipay.sim.server import AlipaySimulator
from gateway.rails.sim import keyfiles
from gateway.rails.sim.cli_args import add_common, faults_from_args

DEFAULT_PORT = 9601
DEFAULT_APP_ID = "2021000000000001"  # a sandbox-style app id, public


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate alipay`` flags to ``parser``."""
    add_common(parser, DEFAULT_PORT, "alipay")
    app = parser.add_argument_group("app")
    app.add_argument("--app-id", default=DEFAULT_APP_ID, help="the merchant app id (default %(default)s)")
    app.add_argument("--app-public-key", metavar="FILE", help="the app's public key (default: generated)")
    app.add_argument("--declined-user", action="append", default=[], metavar="LOGON_ID",
                     help="an Alipay login whose credit orders are always declined (repeatable)")  # fmt: skip


def config_from_args(args: argparse.Namespace) -> AlipaySimConfig:
    keys_dir = Path(args.keys_dir)
    alipay_private, _ = keyfiles.key_pair(keys_dir, "alipay")  # the simulator's own signing key
    if args.app_public_key:
        app_public = keyfiles.read_text(args.app_public_key)
    else:
        _, app_public = keyfiles.key_pair(keys_dir, "app")
    return AlipaySimConfig(
        apps={args.app_id: app_public},
        alipay_private_key=alipay_private,
        host=args.host,
        port=args.port,
        seed=args.seed,
        declined_users=frozenset(args.declined_user),
        faults=faults_from_args(args),
    )


async def run(args: argparse.Namespace) -> None:
    """Start the simulator, say where it listens and which key files to use, serve until cancelled."""
    config = config_from_args(args)
    async with AlipaySimulator(config) as sim:
        print(f"Alipay simulator listening on {sim.gateway_url} (app id {args.app_id})", flush=True)
        if not args.app_public_key:
            print(f"  app private key:   {Path(args.keys_dir) / 'app_private_key.pem'}")
        print(f"  alipay public key: {Path(args.keys_dir) / 'alipay_public_key.pem'}")
        admin = ("ledger", "faults", "notifications")
        print("  admin: " + "  ".join(f"{sim.base_url}/_sim/{path}" for path in admin), flush=True)
        await asyncio.Event().wait()
