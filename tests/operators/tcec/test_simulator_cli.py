"""``chargegate simulate tcec`` flag parsing and the run loop."""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import pytest

from operators.tcec.sim.cli import add_arguments, config_from_args, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargegate simulate tcec")
    add_arguments(parser)
    return parser


def test_defaults_make_a_valid_config():
    config = config_from_args(_parser().parse_args([]))
    assert config.port == 9101 and config.operator_id == "MA1SIMTC1" and config.stations == 300
    assert config.center == (30.274, 120.155) and config.charge_push_interval_s == 30.0


def test_flags_are_applied():
    args = _parser().parse_args(
        ["--port", "0", "--operator-id", "MA1TEST99", "--center", "31.230,121.474", "--push-interval", "1",
         "--error-rate", "0.25", "--malformed-rate", "0.1", "--notify-url", "http://127.0.0.1:8000/tcec"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.operator_id == "MA1TEST99" and config.center == (31.230, 121.474)
    assert config.faults.error_rate == 0.25 and config.faults.malformed_data_rate == 0.1
    assert config.charge_push_interval_s == 1.0 and config.notify_url == "http://127.0.0.1:8000/tcec"


def test_profile_flag_selects_the_dialect():
    didi = config_from_args(_parser().parse_args(["--profile", "didi"]))
    assert didi.profile.name == "didi" and didi.path_prefix == "" and didi.token_reissue == "same"
    assert config_from_args(_parser().parse_args([])).path_prefix == "/evcs/v20160701"
    custom = config_from_args(
        _parser().parse_args(["--profile", "starcharge", "--path-prefix", "/x", "--token-reissue", "new"])
    )
    assert (custom.profile.name, custom.path_prefix, custom.token_reissue) == ("starcharge", "/x", "new")


@pytest.mark.parametrize(
    "argv",
    [
        ["--profile", "nobody"],
        ["--operator-id", "SHORT"],
        ["--data-secret", "fifteen-chars!!"],
        ["--sig-secret", "seventeen-chars!!"],
        ["--center", "30.2"],
        ["--center", "north,east"],
        ["--push-interval", "0.5"],
        ["--error-rate", "1.5"],
    ],
)
def test_invalid_flags_are_argparse_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


async def test_run_serves_until_cancelled_and_never_prints_secrets(capsys):
    args = _parser().parse_args(["--port", "0", "--stations", "5", "--status-interval", "0"])
    task = asyncio.create_task(run(args))
    async with asyncio.timeout(5):
        while "listening on" not in (out := capsys.readouterr().out):
            await asyncio.sleep(0.01)
    base_url = out.split("listening on ")[1].split()[0]
    root = base_url.split("/evcs")[0]
    async with aiohttp.ClientSession() as http, http.get(f"{root}/_sim/network") as resp:
        assert (await resp.json())["stations"] == 5
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for secret in ("demo-op-secret16", "demo-data-secret", "demo-data-iv-16b", "demo-sig-secret1"):
        assert secret not in out
