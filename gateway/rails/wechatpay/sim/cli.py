"""``chargegate simulate wechatpay``: run the WeChat Pay (API v3, pay score) simulator standalone.

Without ``--merchant-public-key`` it generates (once, in ``--keys-dir``) the merchant's API key
pair, the platform's key pair and an APIv3 key, and prints which files the gateway's
``[payments.wechatpay]`` settings point at. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from gateway.rails.sim import keyfiles
from gateway.rails.sim.cli_args import add_common, faults_from_args
from gateway.rails.wechatpay.sim.config import WeChatPaySimConfig
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator

DEFAULT_PORT = 9602
# Public, made-up identifiers in WeChat Pay's formats.
DEFAULT_MCHID = "1900000109"
DEFAULT_APPID = "wxd678efh567hg6787"
DEFAULT_SERVICE_ID = "2002000000000558128851361561536"
DEFAULT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate wechatpay`` flags to ``parser``."""
    add_common(parser, DEFAULT_PORT, "wechatpay")
    merchant = parser.add_argument_group("merchant")
    merchant.add_argument("--mchid", default=DEFAULT_MCHID, help="merchant id (default %(default)s)")
    merchant.add_argument("--appid", default=DEFAULT_APPID, help="app id (default %(default)s)")
    merchant.add_argument("--service-id", default=DEFAULT_SERVICE_ID, help="pay-score service id")
    merchant.add_argument(
        "--merchant-serial-no", default=DEFAULT_SERIAL, help="the merchant API certificate's serial"
    )
    merchant.add_argument(
        "--merchant-public-key", metavar="FILE", help="the merchant's public key (default: generated)"
    )
    merchant.add_argument(
        "--apiv3-key-file", metavar="FILE", help="the 32-byte APIv3 key (default: generated)"
    )
    merchant.add_argument("--declined-openid", action="append", default=[], metavar="OPENID",
                          help="a user whose pay score never qualifies (repeatable)")  # fmt: skip


def config_from_args(args: argparse.Namespace) -> WeChatPaySimConfig:
    keys_dir = Path(args.keys_dir)
    platform_private, _ = keyfiles.key_pair(keys_dir, "platform")  # the simulator's own signing key
    if args.merchant_public_key:
        merchant_public = keyfiles.read_text(args.merchant_public_key)
    else:
        _, merchant_public = keyfiles.key_pair(keys_dir, "merchant")
    if args.apiv3_key_file:
        apiv3_key = keyfiles.read_text(args.apiv3_key_file).strip()
    else:
        apiv3_key = keyfiles.secret(keys_dir, "apiv3_key.txt")
    return WeChatPaySimConfig(
        mchid=args.mchid,
        appid=args.appid,
        service_id=args.service_id,
        merchant_serial_no=args.merchant_serial_no,
        merchant_public_key=merchant_public,
        apiv3_key=apiv3_key,
        platform_private_key=platform_private,
        host=args.host,
        port=args.port,
        seed=args.seed,
        declined_openids=frozenset(args.declined_openid),
        faults=faults_from_args(args),
    )


async def run(args: argparse.Namespace) -> None:
    """Start the simulator, say where it listens and which files to use, serve until cancelled."""
    config = config_from_args(args)
    keys_dir = Path(args.keys_dir)
    async with WeChatPaySimulator(config) as sim:
        print(f"WeChat Pay simulator listening on {sim.base_url} (mchid {config.mchid})", flush=True)
        if not args.merchant_public_key:
            print(f"  merchant private key: {keys_dir / 'merchant_private_key.pem'}")
        if not args.apiv3_key_file:
            print(f"  APIv3 key file:       {keys_dir / 'apiv3_key.txt'}")
        print(f"  platform public key:  {keys_dir / 'platform_public_key.pem'}")
        print(f"  platform public key id: {config.platform_public_key_id}")
        admin = ("ledger", "faults", "notifications")
        print("  admin: " + "  ".join(f"{sim.base_url}/_sim/{path}" for path in admin), flush=True)
        await asyncio.Event().wait()
