"""Real servers for the tests that need them: PostgreSQL (the ledger) and Redis (several replicas).

Each is started once per test run, on loopback in a temporary directory, by its script in
``scripts/`` (which apt-installs the server first if it is missing), and stopped at the end. Set
``CHARGEGATE_TEST_POSTGRES_URL`` / ``CHARGEGATE_TEST_REDIS_URL`` to use a running server instead.
A server that cannot be had fails the tests that need it: they never skip. The fixtures are
registered for the whole suite in ``tests/conftest.py``, so one run starts each server at most once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 900  # covers a first-time apt-get install


def _server(kind: str, script: str, env_url: str) -> Iterator[str]:
    if os.environ.get(env_url):
        yield os.environ[env_url]
        return
    directory = tempfile.mkdtemp(prefix=f"chargegate-{script.removesuffix('.sh')}-")
    path = ROOT / "scripts" / script
    started = time.monotonic()
    try:
        result = subprocess.run(
            ["bash", str(path), "start", directory],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        _stop(path, directory)
        pytest.fail(f"{kind} did not start within {START_TIMEOUT_S} s: {exc.stderr!r}")
    if result.returncode != 0:
        _stop(path, directory)
        pytest.fail(f"scripts/{script} could not start {kind}:\n{result.stderr}")
    print(f"\n{kind} for the tests ready in {time.monotonic() - started:.1f} s")
    try:
        yield result.stdout.strip().splitlines()[-1]
    finally:
        _stop(path, directory)


def _stop(script: Path, directory: str) -> None:
    subprocess.run(["bash", str(script), "stop", directory], capture_output=True, timeout=60, check=False)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A postgresql+asyncpg:// URL of a role that may create databases (and owns ``chargegate``)."""
    yield from _server("PostgreSQL", "postgres.sh", "CHARGEGATE_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A redis:// URL (with its password) of a server with no persistence."""
    yield from _server("Redis", "redis.sh", "CHARGEGATE_TEST_REDIS_URL")
