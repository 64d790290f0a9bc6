"""Drivers signed in by a real OpenID Connect provider (oidc-provider): RS256, ES256 and EdDSA
access tokens verified against its discovered JWKS, a key rotation taken without a gateway restart,
and tokens from an issuer the gateway does not trust refused with a stable reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.settings.load import AuthSettings, GatewaySettings, Settings
from resolvers import ids
from tests.identity.conftest import AUDIENCE, Client, Gateway, OidcProvider, private_jwk, running_gateway

ME = "{ me { id } }"
ALICE = Client("alice-app", "alice-app-secret-0123456789", "alice")
BOB = Client("bob-app", "bob-app-secret-0123456789", "bob")
KEYS = [private_jwk("RS256", "rsa-1"), private_jwk("ES256", "ec-1"), private_jwk("EdDSA", "ed-1")]


def settings(issuer: str, **auth: object) -> Settings:
    return Settings(
        gateway=GatewaySettings(mode="production", request_deadline_s=5.0),
        auth=AuthSettings(
            oidc_issuer=issuer,
            oidc_audience=AUDIENCE,
            oidc_driver_claim="driver",
            jwks_min_refresh_s=0.0,  # a rotation is picked up by the very next token
            **auth,  # type: ignore[arg-type]
        ),
    )


@pytest.fixture
async def provider(node: str, tmp_path: Path) -> AsyncIterator[OidcProvider]:
    oidc = OidcProvider(node, tmp_path, [ALICE, BOB])
    await oidc.start(KEYS)
    try:
        yield oidc
    finally:
        await oidc.stop()


@pytest.fixture
async def gateway(provider: OidcProvider) -> AsyncIterator[Gateway]:
    async with running_gateway(settings(provider.issuer)) as gw:
        yield gw


def me(body: dict[str, object]) -> object:
    assert not body.get("errors"), body
    return body["data"]["me"]["id"]  # type: ignore[index]


@pytest.mark.parametrize("alg", ["rs256", "es256", "eddsa"])
async def test_each_algorithm_names_the_driver_in_the_configured_claim(
    provider: OidcProvider, gateway: Gateway, alg: str
) -> None:
    token = await provider.token(gateway.http, ALICE, alg)
    assert me(await gateway.graphql(ME, token=token)) == ids.encode("Driver", "alice")
    token = await provider.token(gateway.http, BOB, alg)
    assert me(await gateway.graphql(ME, token=token)) == ids.encode("Driver", "bob")


async def test_keys_are_read_once_and_cached(provider: OidcProvider, gateway: Gateway) -> None:
    keys = gateway.runtime.authenticator.oidc.keys  # type: ignore[union-attr]
    for _ in range(3):
        await gateway.graphql(ME, token=await provider.token(gateway.http, ALICE, "es256"))
    assert keys.reads == 1


async def test_a_key_rotation_is_taken_without_restarting_the_gateway(
    provider: OidcProvider, gateway: Gateway
) -> None:
    old_token = await provider.token(gateway.http, ALICE, "rs256")
    assert me(await gateway.graphql(ME, token=old_token)) == ids.encode("Driver", "alice")
    keys = gateway.runtime.authenticator.oidc.keys  # type: ignore[union-attr]
    reads = keys.reads

    # The provider publishes a new signing key first and keeps the old one for tokens in flight.
    await provider.restart([private_jwk("RS256", "rsa-2"), *KEYS])
    new_token = await provider.token(gateway.http, ALICE, "rs256")
    assert new_token != old_token
    assert me(await gateway.graphql(ME, token=new_token)) == ids.encode("Driver", "alice")
    assert keys.reads == reads + 1  # the unknown kid made the gateway re-read the keys once
    assert me(await gateway.graphql(ME, token=old_token)) == ids.encode("Driver", "alice")

    # A key the provider has withdrawn verifies nothing once the keys are re-read.
    await provider.restart([private_jwk("RS256", "rsa-3")])
    newest = await provider.token(gateway.http, ALICE, "rs256")
    assert me(await gateway.graphql(ME, token=newest)) == ids.encode("Driver", "alice")
    body = await gateway.graphql(ME, token=old_token)
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "unknown_key"}


async def test_a_token_from_another_issuer_is_refused_as_unknown_issuer(
    node: str, tmp_path: Path, gateway: Gateway
) -> None:
    stranger = OidcProvider(node, tmp_path, [ALICE])
    await stranger.start([private_jwk("RS256", "rsa-1"), private_jwk("ES256", "ec-1")])  # even the same kids
    try:
        token = await stranger.token(gateway.http, ALICE, "es256")
    finally:
        await stranger.stop()
    body = await gateway.graphql(ME, token=token)
    assert body["data"] == {"me": None}
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "unknown_issuer"}


async def test_hs256_tokens_still_work_beside_the_provider(provider: OidcProvider) -> None:
    from gateway.identity.bearer import issue_token

    key = "small-deployment-shared-key-0123456789"
    async with running_gateway(settings(provider.issuer, jwt_key=key)) as gw:
        assert me(await gw.graphql(ME, token=issue_token("carol", key))) == ids.encode("Driver", "carol")
        oidc_token = await provider.token(gw.http, ALICE, "es256")
        assert me(await gw.graphql(ME, token=oidc_token)) == ids.encode("Driver", "alice")
