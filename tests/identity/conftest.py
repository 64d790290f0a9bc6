"""A real OpenID Connect provider (oidc-provider on Node, tests/identity/oidc) and a gateway with no
operators, served on loopback, for the identity tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.runtime import Runtime
from gateway.settings.load import Settings
from tests.servers import postgres_database

HERE = Path(__file__).resolve().parent
OIDC_DIR = HERE / "oidc"
ROOT = HERE.parents[1]
AUDIENCE = "chargegate"
START_TIMEOUT_S = 30.0


def private_jwk(alg: str, kid: str) -> dict[str, Any]:
    """A fresh private signing key as a JWK, for the provider's keystore."""
    if alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048), as_dict=True)
    elif alg == "ES256":
        jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate(), as_dict=True)
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="session")
def node() -> str:
    """node's path, after installing Node.js (when missing) and oidc-provider from the lockfile."""
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        subprocess.run([str(OIDC_DIR / "install.sh")], check=True, timeout=600)
    found = subprocess.run(
        [str(ROOT / "scripts" / "node.sh")], check=True, capture_output=True, text=True, timeout=600
    )
    return found.stdout.strip()


@dataclass
class Client:
    client_id: str
    client_secret: str
    driver: str


class OidcProvider:
    """oidc-provider in a Node process; :meth:`restart` with other keys is a key rotation."""

    def __init__(self, node: str, workdir: Path, clients: list[Client]) -> None:
        self.node, self.workdir, self.clients = node, workdir, clients
        sock = bind()
        self.port = sock.getsockname()[1]
        sock.close()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None
        self.log = b""

    async def start(self, keys: list[dict[str, Any]]) -> None:
        config = self.workdir / "provider.json"
        clients = [vars(c) for c in self.clients]
        config.write_text(json.dumps({"port": self.port, "jwks": {"keys": keys}, "clients": clients}))
        self.process = await asyncio.create_subprocess_exec(
            self.node,
            str(OIDC_DIR / "provider.mjs"),
            str(config),
            cwd=OIDC_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT_S):
            while b"listening" not in (line := await self.process.stdout.readline()):
                self.log += line
                if not line:
                    raise AssertionError(f"oidc-provider did not start:\n{self.log.decode()}")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None

    async def restart(self, keys: list[dict[str, Any]]) -> None:
        await self.stop()
        await self.start(keys)

    async def token(self, http: aiohttp.ClientSession, client: Client, alg: str = "rs256") -> str:
        """An access token by the client-credentials grant for the resource that signs with ``alg``."""
        form = {
            "grant_type": "client_credentials",
            "scope": "charge",
            "resource": f"https://chargegate.test/{alg}",
        }
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}  # client_secret_basic (RFC 6749 §2.3.1)
        async with http.post(f"{self.issuer}/token", data=form, headers=headers) as resp:
            body = await resp.json()
            assert resp.status == 200, body
        return body["access_token"]


@dataclass
class Gateway:
    url: str
    http: aiohttp.ClientSession
    runtime: Runtime

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables}
        async with self.http.post(f"{self.url}/graphql", json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """A gateway with no operators on loopback (the ledger is SQLite in the test's own directory)."""
    sock = bind()
    app = create_app(settings)
    async with serving(app, sock) as url, aiohttp.ClientSession() as http:
        yield Gateway(url, http, app.state.runtime)


@pytest.fixture
async def ledger_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of its own on the suite's PostgreSQL server, shared by the replicas of one test."""
    async with postgres_database(postgres_server_url, "identity") as url:
        yield url
