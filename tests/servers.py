"""Real servers for the tests that need them: PostgreSQL (the ledger), Redis (several replicas) and
the gateway itself as an OS process (kill-and-restart, replicas).

PostgreSQL and Redis are each started once per test run, on loopback in a temporary directory, by
their script in ``scripts/`` (which apt-installs the server first if it is missing), and stopped at
the end. Set ``CHARGEGATE_TEST_POSTGRES_URL`` / ``CHARGEGATE_TEST_REDIS_URL`` to use a running server
instead. A server that cannot be had fails the tests that need it: they never skip. The fixtures are
registered for the whole suite in ``tests/conftest.py``, so one run starts each server at most once.
:func:`postgres_database` gives a test a database of its own on that server.

A gateway process (:class:`GatewayProcess`) runs ``python -m gateway.app.cli serve --config FILE``
with the settings :func:`gateway_config` writes (one T/CEC operator, the credit bureau, the ledger)
and the secrets :func:`gateway_env` puts in its environment.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from operators.tcec.sim.server import TcecSimulator

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 900  # covers a first-time apt-get install
GATEWAY_READY_S = 30.0  # a gateway process answers /readyz within this (2 loaded cores)


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


@asynccontextmanager
async def postgres_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A database of its own on the PostgreSQL server at ``server_url`` (the store tests wipe the
    server's own database), named ``{prefix}_…`` and dropped afterwards; its URL, with the password."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connect = dict(user=url.username, password=url.password, host=url.host, port=url.port)

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(**connect, database=url.database)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A loopback port nobody listens on now (for a process that binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def gateway_config(port: int, operator: TcecSimulator, bureau_url: str, name: str, *, gateway: str = "",
                   sections: str = "") -> str:  # fmt: skip
    """The TOML of a dev-mode gateway on ``port`` with one T/CEC operator (the simulator's, named
    ``name``), the credit bureau at ``bureau_url`` and the ledger at ``$TEST_DATABASE_URL``; every
    secret comes from the environment :func:`gateway_env` builds. ``gateway`` adds lines to
    ``[gateway]``, ``sections`` adds whole sections before ``[auth]``."""
    config = operator.config
    return f"""
[gateway]
port = {port}
mode = "dev"
{gateway}{sections}[auth]
jwt_key = {{ env = "TEST_JWT_KEY" }}
[credit]
bureau_url = "{bureau_url}"
bureau_api_key = {{ env = "TEST_BUREAU_KEY" }}
[ledger]
database_url = {{ env = "TEST_DATABASE_URL" }}
progress_poll_s = 0.5
[[operators]]
id = "{config.operator_id}"
protocol = "tcec"
name = "{name}"
base_url = "{operator.base_url}"
our_operator_id = "{config.aggregator_operator_id}"
operator_secret = {{ env = "TEST_OP_SECRET" }}
data_secret = {{ env = "TEST_DATA_SECRET" }}
data_iv = {{ env = "TEST_DATA_IV" }}
sig_secret = {{ env = "TEST_SIG_SECRET" }}
"""


def gateway_env(
    operator: TcecSimulator, *, database_url: str, jwt_key: str, bureau_key: str, **more: str
) -> dict[str, str]:
    """The environment of a gateway process configured by :func:`gateway_config`: this one's, the
    secrets (the URLs may carry passwords too) and ``more`` (e.g. ``CHARGEGATE__…`` overrides)."""
    secrets = operator.config.secrets
    return os.environ | {
        "TEST_DATABASE_URL": database_url, "TEST_JWT_KEY": jwt_key, "TEST_BUREAU_KEY": bureau_key,
        "TEST_OP_SECRET": operator.config.operator_secret, "TEST_DATA_SECRET": secrets.data_secret,
        "TEST_DATA_IV": secrets.data_iv, "TEST_SIG_SECRET": secrets.sig_secret, "PYTHONPATH": str(ROOT),
    } | more  # fmt: skip


class GatewayProcess:
    """One gateway as a real OS process; :meth:`start` again after :meth:`kill` is a restart on the
    same ledger. Its output goes to ``log`` (read back by :meth:`tail` for failure messages)."""

    def __init__(
        self, name: str, config: Path, port: int, env: Mapping[str, str], log: Path, log_level: str = "info"
    ) -> None:
        self.name, self.config, self.port, self.env, self.log = name, config, port, dict(env), log
        self.log_level = log_level
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, http: aiohttp.ClientSession, timeout_s: float = GATEWAY_READY_S) -> None:
        """Spawn the process and wait (deadline ``timeout_s``) until ``/readyz`` answers 200."""
        command = [sys.executable, "-m", "gateway.app.cli", "serve", "--config", str(self.config)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--log-level", self.log_level], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not await self._ready(http):
            if loop.time() > deadline:
                raise AssertionError(f"gateway {self.name} not ready within {timeout_s}s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    async def _ready(self, http: aiohttp.ClientSession) -> bool:
        assert self.alive(), f"gateway {self.name} exited:\n{self.tail()}"
        try:
            async with http.get(f"{self.url}/readyz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs (leases are not given back, nothing is flushed)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM if it is still running (SIGKILL after ten seconds without exiting)."""
        if self.process is None or not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
