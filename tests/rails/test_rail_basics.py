"""Amounts, keys, the shared fault settings and the simulators' command lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.app.cli import main
from gateway.rails.alipay import signing
from gateway.rails.alipay.sim import cli as alipay_cli
from gateway.rails.amounts import from_fen, parse_yuan, to_fen, yuan_text
from gateway.rails.keys import load_private_key, load_public_key, pem_body
from gateway.rails.sim.faults import RailFaults
from tests.rails.conftest import KeyPair


@pytest.mark.parametrize("text", ["1_000", "١٢٣", "1e3", "-1.00", "1.001", " 1", "01.00", "", "NaN"])
def test_parse_yuan_refuses_what_no_accountant_writes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_yuan(text)


def test_amount_conversions_are_exact() -> None:
    assert (parse_yuan("12.5"), yuan_text(Decimal("12.5")), to_fen(Decimal("12.34"))) == (
        Decimal("12.50"), "12.50", 1234
    )  # fmt: skip
    assert from_fen(1) == Decimal("0.01")
    with pytest.raises(ValueError):
        to_fen(Decimal("0.005"))  # the rails never round
    with pytest.raises(ValueError):
        from_fen(True)


def test_keys_load_from_pem_and_from_console_bodies(merchant_keys: KeyPair) -> None:
    assert (
        load_private_key(pem_body(merchant_keys.private)).private_numbers()
        == merchant_keys.key.private_numbers()
    )
    assert (
        load_public_key(pem_body(merchant_keys.public)).public_numbers()
        == load_public_key(merchant_keys.public).public_numbers()
    )
    with pytest.raises(ValueError):
        load_private_key("not a key")


def test_response_node_is_the_exact_text() -> None:
    body = (
        '{"alipay_trade_query_response" : {"code":"10000","msg":"{}\\"}","n":{"x":[1,{"y":"}"}]}},"sign":"s"}'
    )
    text, node = signing.response_node(body, "alipay_trade_query_response")
    assert text == '{"code":"10000","msg":"{}\\"}","n":{"x":[1,{"y":"}"}]}}'
    assert node["n"] == {"x": [1, {"y": "}"}]}
    assert signing.response_node(body, "alipay_trade_pay_response") is None


def test_faults_update_from_json() -> None:
    faults = RailFaults().updated({"decline_credit": True, "timeout_rate": 0.5})
    assert (faults.decline_credit, faults.timeout_rate) == (True, 0.5)
    for bad in ({"decline_credit": 1}, {"timeout_rate": 2}, {"nope": True}, []):
        with pytest.raises(ValueError):
            RailFaults().updated(bad)


def test_alipay_simulator_cli_generates_keys_once(tmp_path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    alipay_cli.add_arguments(parser)
    args = parser.parse_args(["--keys-dir", str(tmp_path), "--declined-user", "risky@example.com"])
    first, second = alipay_cli.config_from_args(args), alipay_cli.config_from_args(args)
    assert first.apps == second.apps and first.alipay_private_key == second.alipay_private_key
    assert first.declined_users == {"risky@example.com"}
    assert (tmp_path / "app_private_key.pem").stat().st_mode & 0o077 == 0


def test_simulate_alipay_rejects_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "alipay", "--timeout-rate", "2"])
    assert "timeout-rate" in capsys.readouterr().err


def test_wechatpay_simulator_cli_generates_keys_once(tmp_path) -> None:
    import argparse

    from gateway.rails.wechatpay.sim import cli as wechatpay_cli

    parser = argparse.ArgumentParser()
    wechatpay_cli.add_arguments(parser)
    args = parser.parse_args(
        ["--keys-dir", str(tmp_path), "--declined-openid", "o-risky", "--decline-credit"]
    )
    first, second = wechatpay_cli.config_from_args(args), wechatpay_cli.config_from_args(args)
    assert (first.apiv3_key, first.merchant_public_key) == (second.apiv3_key, second.merchant_public_key)
    assert (
        len(first.apiv3_key) == 32 and first.declined_openids == {"o-risky"} and first.faults.decline_credit
    )
    assert (tmp_path / "apiv3_key.txt").stat().st_mode & 0o077 == 0
