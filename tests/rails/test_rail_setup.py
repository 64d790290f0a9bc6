"""The rails' settings: checked at load with the key that is wrong, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from gateway.rails import setup
from gateway.settings.load import ConfigError, load
from tests.rails.conftest import KeyPair


def alipay_env(keys: KeyPair, **extra: str) -> dict[str, str]:
    return {
        "CHARGEGATE__ALIPAY__APP_ID": "2021000000000001",
        "CHARGEGATE__ALIPAY__APP_PRIVATE_KEY": keys.private,
        "CHARGEGATE__ALIPAY__ALIPAY_PUBLIC_KEY": keys.public,
        "CHARGEGATE__ALIPAY__ZM_SERVICE_ID": "2020000000000001",
        **extra,
    }


async def test_configured_rails_are_built_with_their_notify_urls(merchant_keys: KeyPair) -> None:
    settings = load(None, env=alipay_env(merchant_keys, CHARGEGATE__PAYMENTS__ENROLMENTS="dave=alipay:ZMOP1"))
    assert setup.enrolments(settings) == {"dave": ("alipay", "ZMOP1")}
    assert setup.alipay_config(settings).notify_url == "http://127.0.0.1:8000/payments/alipay/notify"
    async with aiohttp.ClientSession() as http:
        assert set(setup.build(settings, http)) == {"alipay"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"CHARGEGATE__ALIPAY__ZM_SERVICE_ID": ""}, "alipay.zm_service_id"),
        ({"CHARGEGATE__ALIPAY__ALIPAY_PUBLIC_KEY": "not a key"}, "alipay.alipay_public_key"),
        ({"CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=wechatpay:o-1"}, "payments"),
        ({"CHARGEGATE__PAYMENTS__ENROLMENTS": "dave"}, "payments"),
        ({"CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=alipay:a,dave=alipay:b"}, "payments"),
        ({"CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=bureau:dave"}, "payments"),  # no bureau configured
        (
            {
                "CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=bureau:erin",
                "CHARGEGATE__CREDIT__BUREAU_URL": "http://b",
            },
            "payments",
        ),  # the account on the bureau rail is the driver
    ],
)
def test_bad_rail_settings_name_their_key(merchant_keys: KeyPair, change: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, env=alipay_env(merchant_keys) | change)
    assert caught.value.key == key


def test_a_driver_is_enrolled_on_the_bureau_rail_when_a_bureau_is_configured(merchant_keys: KeyPair) -> None:
    env = {
        "CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=bureau:dave",
        "CHARGEGATE__CREDIT__BUREAU_URL": "http://b",
    }
    assert setup.enrolments(load(None, env=alipay_env(merchant_keys) | env)) == {"dave": ("bureau", "dave")}


def test_private_keys_never_come_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chargegate.toml"
    path.write_text('[wechatpay]\nmchid = "1900000109"\napiv3_key = "0123456789abcdef0123456789abcdef"\n')
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert caught.value.key == "wechatpay.apiv3_key"


def test_ledger_rails_without_rails_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.app.cli import main

    assert main(["ledger", "rails"]) == 2
    assert "no credit rail is configured" in capsys.readouterr().err


async def test_the_ledger_cli_leaves_the_bureau_rail_out(merchant_keys: KeyPair, tmp_path: Path) -> None:
    """``chargegate ledger rails`` has no card to ask: bureau-enrolled drivers are not compared."""
    from gateway.app.money import rail_billing
    from gateway.store import open_store

    env = {"CHARGEGATE__PAYMENTS__ENROLMENTS": "dave=bureau:dave,alice=alipay:ZMOP1",
           "CHARGEGATE__CREDIT__BUREAU_URL": "http://b"}  # fmt: skip
    settings = load(None, env=alipay_env(merchant_keys) | env)
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}")
    try:
        async with aiohttp.ClientSession() as http:
            rails = rail_billing(settings, http, store)
            assert rails is not None and set(rails.rails) == {"alipay"}
    finally:
        await store.close()
