"""The demo's sign-in codes: what ``chargegate simulate alipay-code|wechat-code`` prints is what the
simulators redeem (once) for the demo user, and demo mode binds those users to the demo drivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app.cli import main
from gateway.identity.demo import seed_identities
from gateway.identity.store import IdentityStore
from gateway.rails.alipay.sim.ledger import alipay_user_id
from gateway.rails.demo import ALIPAY_APP_ID
from gateway.rails.sim.authcodes import AuthCodes, CodeRefused
from gateway.rails.wechatpay.sim.cli import DEFAULT_APPID
from gateway.store import open_store


@pytest.mark.parametrize(
    ("command", "app_id", "user"),
    [
        ("alipay-code", ALIPAY_APP_ID, "alice@example.com"),
        ("wechat-code", DEFAULT_APPID, "o-erin-demo-openid"),
    ],
)
def test_the_printed_code_is_redeemed_once(
    command: str, app_id: str, user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", command, "alice" if command == "alipay-code" else "erin"]) == 0
    code = capsys.readouterr().out.strip()
    codes = AuthCodes()
    assert codes.redeem(app_id, code) == user
    with pytest.raises(CodeRefused) as again:
        codes.redeem(app_id, code)
    assert again.value.reason == "used"


async def test_demo_users_are_bound_to_the_demo_drivers(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/ledger.db")
    try:
        identities = IdentityStore(store.database)
        await seed_identities(identities)
        await seed_identities(identities)  # idempotent across restarts
        assert await identities.linked_driver("alipay", alipay_user_id("dave@example.com")) == "dave"
        assert await identities.linked_driver("wechat", "o-alice-demo-openid") == "alice"
    finally:
        await store.close()
