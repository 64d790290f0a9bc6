"""``chargegate simulate alipay-code|wechat-code USER``: a sign-in code the simulators accept.

What the Alipay mini program's ``my.getAuthCode`` or WeChat's ``wx.login`` would hand the app for
USER (a demo driver's name such as ``alice``, an Alipay login, or an openid), valid once for five
minutes, for the demo's app ids unless ``--app-id`` names another. Printed on stdout; pass it to
``signIn``. Codes are MAC'd with the simulators' public key: they sign nobody in anywhere else.
"""

from __future__ import annotations

import argparse

from gateway.identity.demo import alipay_login, wechat_user
from gateway.rails.demo import ALIPAY_APP_ID
from gateway.rails.sim.authcodes import mint
from gateway.rails.wechatpay.sim.cli import DEFAULT_APPID

COMMANDS = {
    "alipay-code": "print an Alipay sign-in code for a demo user (alipay.system.oauth.token)",
    "wechat-code": "print a WeChat login code for a demo user (code2Session)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", help="a demo driver (alice, dave, …), an Alipay login or an openid")
    parser.add_argument("--app-id", help="the simulator's app id (default: the demo's)")


async def run(args: argparse.Namespace) -> None:
    if args.protocol == "alipay-code":
        print(mint(args.app_id or ALIPAY_APP_ID, alipay_login(args.user)))
    else:
        print(mint(args.app_id or DEFAULT_APPID, wechat_user(args.user)))
