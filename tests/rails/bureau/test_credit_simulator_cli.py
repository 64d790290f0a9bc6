"""``chargegate simulate credit`` flag parsing and the run loop."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from gateway.rails.bureau.http import HttpCreditProvider
from gateway.rails.bureau.provider import CreditUnavailable
from gateway.rails.bureau.sim.cli import add_arguments, config_from_args, run
from gateway.rails.bureau.sim.config import DEFAULT_API_KEY


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargegate simulate credit")
    add_arguments(parser)
    return parser


def test_defaults_make_the_demo_bureau():
    config = config_from_args(_parser().parse_args([]))
    assert (config.host, config.port, config.seed, config.api_key) == ("127.0.0.1", 9501, 1, DEFAULT_API_KEY)
    assert dict(config.scores) == {"alice": 720, "bob": 480, "carol": 520}
    assert config.derive_unknown and not config.faults.down and config.faults.error_rate == 0


def test_flags_are_applied():
    args = _parser().parse_args(
        ["--port", "0", "--api-key", "s3cret-key", "--seed", "9", "--score", "alice=600",
         "--score", "dan=800", "--score", "fleet=7=650", "--table-only", "--latency-ms", "25",
         "--error-rate", "0.5", "--timeout-rate", "0.25", "--down"]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.port, config.api_key, config.seed) == (0, "s3cret-key", 9)
    assert dict(config.scores) == {"alice": 600, "bob": 480, "carol": 520, "dan": 800, "fleet=7": 650}
    assert not config.derive_unknown
    faults = config.faults
    assert (faults.latency_ms, faults.error_rate, faults.timeout_rate, faults.down) == (25.0, 0.5, 0.25, True)


def test_no_demo_drivers():
    config = config_from_args(_parser().parse_args(["--no-demo-drivers", "--score", "x=700"]))
    assert dict(config.scores) == {"x": 700}


@pytest.mark.parametrize(
    "argv",
    [
        ["--score", "alice"],
        ["--score", "alice=high"],
        ["--score", "=700"],
        ["--score", "alice=299"],
        ["--score", "alice=851"],
        ["--port", "70000"],
        ["--api-key", ""],
        ["--api-key", "two words"],
        ["--error-rate", "1.5"],
        ["--timeout-rate", "-0.1"],
        ["--latency-ms", "-5"],
    ],
)
def test_invalid_flags_are_argparse_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


async def test_run_serves_until_cancelled_and_never_prints_the_key(capsys, http):
    key = "cli-test-key-9f8e7d"
    args = _parser().parse_args(["--port", "0", "--api-key", key, "--score", "eve=777"])
    task = asyncio.create_task(run(args))
    out = ""
    try:
        async with asyncio.timeout(5):
            while "listening on" not in out:
                await asyncio.sleep(0.01)
                out += capsys.readouterr().out
        base_url = out.split("listening on ", 1)[1].split()[0]
        assert (await HttpCreditProvider(http, base_url, key).score("eve")).score == 777
        with pytest.raises(CreditUnavailable):
            await HttpCreditProvider(http, base_url, "not-the-key").score("eve")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    out += capsys.readouterr().out
    assert key not in out and "eve=777" in out and "key not shown" in out
