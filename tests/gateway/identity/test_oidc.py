"""The OIDC verifier and its key cache against an issuer served on loopback (aiohttp.web): claims
checked, keys re-read on an unknown kid at a bounded rate, kept through an outage."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from gateway.app.server import bind
from gateway.identity.bearer import AuthError
from gateway.identity.jwks import JwksCache
from gateway.identity.oidc import OidcVerifier
from gateway.identity.tokens import Authenticator
from gateway.settings.sections import AuthSettings


class Issuer:
    """Discovery and a JWKS on loopback; counts key-set reads; can go down."""

    def __init__(self) -> None:
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.jwks_reads = 0
        self.discovery_reads = 0
        self.down = False
        self.url = ""

    def add_key(self, kid: str) -> None:
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())

    def token(self, kid: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "chargegate", "sub": "alice", "iat": now, "exp": now + 300, **claims}
        present = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(present, self.keys[kid], "ES256", {"kid": kid})

    async def discovery(self, request: web.Request) -> web.Response:
        self.discovery_reads += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

    async def jwks(self, request: web.Request) -> web.Response:
        self.jwks_reads += 1
        keys = [
            {**ECAlgorithm.to_jwk(k.public_key(), as_dict=True), "kid": kid, "use": "sig"}
            for kid, k in self.keys.items()
        ]
        return web.json_response({"keys": keys})


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    state = Issuer()
    state.add_key("k1")
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", state.discovery)
    app.router.add_get("/jwks", state.jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bind()
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def verifier(http: aiohttp.ClientSession, issuer: Issuer, min_refresh_s: float = 3600.0) -> OidcVerifier:
    keys = JwksCache(http, issuer.url, timeout_s=2.0, max_age_s=3600.0, min_refresh_s=min_refresh_s)
    return OidcVerifier(keys, "chargegate", algorithms=("ES256",))


async def reason(verify: OidcVerifier, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        await verify.verify(token)
    return caught.value.code


async def test_a_valid_token_names_its_subject(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    identity = await verifier(http, issuer).verify(issuer.token("k1"))
    assert (identity.issuer, identity.subject) == (issuer.url, "alice")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not_yet_valid"),
        ({"aud": "someone-else"}, "wrong_audience"),
        ({"aud": None}, "malformed"),
        ({"sub": None}, "malformed"),
        ({"sub": " padded "}, "malformed"),
    ],
)
async def test_claims_are_checked(
    http: aiohttp.ClientSession, issuer: Issuer, claims: dict[str, Any], code: str
) -> None:
    assert await reason(verifier(http, issuer), issuer.token("k1", **claims)) == code


async def test_a_forged_or_confused_token_is_refused(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    verify = verifier(http, issuer)
    real = issuer.keys["k1"]
    issuer.keys["k1"] = ec.generate_private_key(ec.SECP256R1())  # signed by someone else, same kid
    forged = issuer.token("k1")
    issuer.keys["k1"] = real
    assert await reason(verify, forged) == "bad_signature"
    unsigned = jwt.encode({"iss": issuer.url, "sub": "alice"}, None, "none", {"kid": "k1"})
    assert await reason(verify, unsigned) == "bad_signature"
    hmac = jwt.encode({"iss": issuer.url, "sub": "alice"}, "k" * 32, "HS256", {"kid": "k1"})
    assert await reason(verify, hmac) == "bad_signature"


async def test_unknown_kids_reread_the_keys_at_a_bounded_rate(
    http: aiohttp.ClientSession, issuer: Issuer
) -> None:
    verify = verifier(http, issuer, min_refresh_s=3600.0)
    await verify.verify(issuer.token("k1"))
    assert issuer.jwks_reads == 1
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode({"iss": issuer.url}, stranger, "ES256", {"kid": "made-up"})
    for _ in range(5):
        assert await reason(verify, forged) == "unknown_key"
    assert issuer.jwks_reads == 1  # within min_refresh_s of the last read: no new read


async def test_a_rotated_key_is_read_on_first_use(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    verify = verifier(http, issuer, min_refresh_s=0.0)
    await verify.verify(issuer.token("k1"))
    issuer.add_key("k2")
    assert (await verify.verify(issuer.token("k2"))).subject == "alice"
    assert issuer.jwks_reads == 2


async def test_keys_survive_a_provider_outage(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    verify = verifier(http, issuer, min_refresh_s=0.0)
    await verify.verify(issuer.token("k1"))
    issuer.down = True
    issuer.add_key("k2")
    assert await reason(verify, issuer.token("k2")) == "unknown_key"
    assert (await verify.verify(issuer.token("k1"))).subject == "alice"


async def test_no_keys_at_all_is_keys_unavailable(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    issuer.down = True
    assert await reason(verifier(http, issuer), issuer.token("k1")) == "keys_unavailable"


async def test_the_authenticator_routes_by_issuer(http: aiohttp.ClientSession, issuer: Issuer) -> None:
    settings = AuthSettings(jwt_key="shared-key-for-small-deployments-0123")
    auth = Authenticator(settings, verifier(http, issuer))
    assert await auth.driver(f"Bearer {issuer.token('k1')}") == "alice"
    assert await auth.driver(None) is None
    stranger = jwt.encode({"iss": "https://elsewhere.example", "sub": "alice"}, issuer.keys["k1"], "ES256")
    with pytest.raises(AuthError) as caught:
        await auth.driver(f"Bearer {stranger}")
    assert caught.value.code == "unknown_issuer"
    with pytest.raises(AuthError) as caught:
        await Authenticator(settings).driver(f"Bearer {issuer.token('k1')}")
    assert caught.value.code == "unknown_issuer"  # no provider configured at all


async def test_stale_keys_serve_through_an_outage_without_a_read_per_request(
    http: aiohttp.ClientSession, issuer: Issuer
) -> None:
    now = [0.0]
    keys = JwksCache(http, issuer.url, timeout_s=2.0, max_age_s=10.0, min_refresh_s=5.0, clock=lambda: now[0])
    verify = OidcVerifier(keys, "chargegate", algorithms=("ES256",))
    token = issuer.token("k1")
    await verify.verify(token)
    issuer.down = True
    now[0] = 20.0  # the keys are stale: one attempt to re-read them, which fails
    for _ in range(3):
        assert (await verify.verify(token)).subject == "alice"
    assert issuer.discovery_reads == 2
    now[0] = 26.0  # min_refresh_s after the failed attempt: one more try
    await verify.verify(token)
    assert issuer.discovery_reads == 3
    issuer.down = False
    now[0] = 32.0
    await verify.verify(token)
    assert (issuer.discovery_reads, keys.reads) == (4, 2)
