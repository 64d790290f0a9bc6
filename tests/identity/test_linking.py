"""One driver, several ways in: a driver who signed in with Alipay links the app's OIDC identity and
a WeChat user, explicitly and with an audit row; afterwards each of them names the same driver, and
an identity already bound to someone else stays theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.rails import demo as rails_demo
from gateway.settings.load import Settings
from resolvers import ids
from tests.identity.conftest import AUDIENCE, Client, Gateway, OidcProvider, private_jwk, running_gateway
from tests.identity.test_sign_in import ME, SIGN_IN, code_for, gateway_settings

FRANK = Client("frank-app", "frank-app-secret-0123456789", "frank-oidc")
LINK = """mutation($provider: IdentityProvider!, $code: String, $token: String) {
  linkIdentity(input: {provider: $provider, code: $code, token: $token}) {
    __typename ... on IdentityLinked { driver { id } provider } ... on AuthFailed { code message } } }"""


@pytest.fixture
async def gateway(node: str, tmp_path: Path) -> AsyncIterator[tuple[Gateway, OidcProvider]]:
    provider = OidcProvider(node, tmp_path, [FRANK])
    await provider.start([private_jwk("RS256", "rsa-1"), private_jwk("ES256", "ec-1")])
    try:
        async with rails_demo.running(Settings()) as rails:
            settings = gateway_settings(rails, f"sqlite+aiosqlite:///{tmp_path}/ledger.db")
            auth = replace(
                settings.auth, oidc_issuer=provider.issuer, oidc_audience=AUDIENCE, oidc_driver_claim="driver"
            )
            async with running_gateway(replace(settings, auth=auth)) as gw:
                yield gw, provider
    finally:
        await provider.stop()


async def data(gw: Gateway, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    body = await gw.graphql(query, variables, token=token)
    assert not body.get("errors"), body
    return body["data"]


async def test_linked_identities_name_the_same_driver(gateway: tuple[Gateway, OidcProvider]) -> None:
    gw, provider = gateway
    signed = (await data(gw, SIGN_IN, {"provider": "ALIPAY", "code": code_for("ALIPAY", "frank")}))["signIn"]
    driver, access = signed["driver"], signed["accessToken"]
    oidc_token = await provider.token(gw.http, FRANK, "es256")
    assert (await data(gw, ME, {}, oidc_token))["me"] != driver  # not linked yet: another driver

    linked = await data(gw, LINK, {"provider": "OIDC", "token": oidc_token}, access)
    assert linked["linkIdentity"] == {"__typename": "IdentityLinked", "driver": driver, "provider": "OIDC"}
    assert (await data(gw, ME, {}, oidc_token))["me"] == driver

    wechat = await data(gw, LINK, {"provider": "WECHAT", "code": code_for("WECHAT", "frank")}, access)
    assert wechat["linkIdentity"]["driver"] == driver
    again = await data(gw, SIGN_IN, {"provider": "WECHAT", "code": code_for("WECHAT", "frank")})
    assert again["signIn"]["driver"] == driver

    driver_id = again["signIn"]["driver"]["id"]
    native = ids.decode(driver_id)[1][0]  # type: ignore[index]
    trail = await gw.runtime.sessions.store.audit_trail(native)  # type: ignore[union-attr]
    assert [(row["action"], row["actor"]) for row in trail] == [("linkIdentity", f"driver:{native}")] * 2


async def test_an_identity_of_another_driver_is_identity_taken(gateway: tuple[Gateway, OidcProvider]) -> None:
    gw, provider = gateway
    first = (await data(gw, SIGN_IN, {"provider": "ALIPAY", "code": code_for("ALIPAY", "frank")}))["signIn"]
    second = (await data(gw, SIGN_IN, {"provider": "ALIPAY", "code": code_for("ALIPAY", "grace")}))["signIn"]
    oidc_token = await provider.token(gw.http, FRANK, "rs256")
    await data(gw, LINK, {"provider": "OIDC", "token": oidc_token}, first["accessToken"])
    taken = await data(gw, LINK, {"provider": "OIDC", "token": oidc_token}, second["accessToken"])
    assert taken["linkIdentity"]["code"] == "IDENTITY_TAKEN"
    assert (await data(gw, ME, {}, oidc_token))["me"] == first["driver"]
    bad = await data(gw, LINK, {"provider": "OIDC", "token": "not-a-token"}, second["accessToken"])
    assert bad["linkIdentity"]["code"] == "TOKEN_INVALID"
    used = code_for("WECHAT", "frank")
    await data(gw, LINK, {"provider": "WECHAT", "code": used}, first["accessToken"])
    replay = await data(gw, LINK, {"provider": "WECHAT", "code": used}, second["accessToken"])
    assert replay["linkIdentity"]["code"] == "CODE_REJECTED"


async def test_linking_needs_a_signed_in_driver(gateway: tuple[Gateway, OidcProvider]) -> None:
    gw, _ = gateway
    body = await gw.graphql(LINK, {"provider": "WECHAT", "code": code_for("WECHAT", "frank")})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
