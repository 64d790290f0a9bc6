"""Sign in with Alipay and with WeChat against the rails' simulators: codes exchanged once, drivers
found or created, short access tokens and rotating refresh tokens, sign-out honoured at once,
typed errors with stable codes, and no code, token or key in any log line."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from gateway.rails import demo as rails_demo
from gateway.rails.demo import ALIPAY_APP_ID
from gateway.rails.sim.authcodes import mint
from gateway.rails.wechatpay.sim.cli import DEFAULT_APPID
from gateway.settings.load import GatewaySettings, LedgerSettings, Settings
from tests.identity.conftest import Gateway, running_gateway

JWT_KEY = "identity-test-jwt-key-0123456789abcdef"
SIGN_IN = """mutation($provider: SignInProvider!, $code: String!) {
  signIn(input: {provider: $provider, code: $code}) {
    __typename
    ... on AuthTokens { accessToken refreshToken expiresIn tokenType driver { id } }
    ... on AuthFailed { code message }
  } }"""
REFRESH = """mutation($token: String!) { refreshToken(input: {refreshToken: $token}) { __typename
  ... on AuthTokens { accessToken refreshToken driver { id } } ... on AuthFailed { code message } } }"""
SIGN_OUT = """mutation($token: String!) { signOut(input: {refreshToken: $token}) {
  __typename ... on SignedOut { ok } ... on AuthFailed { code message } } }"""
ME = "{ me { id } }"


def code_for(provider: str, user: str, **kwargs: Any) -> str:
    if provider == "ALIPAY":
        return mint(ALIPAY_APP_ID, f"{user}@example.com", **kwargs)
    return mint(DEFAULT_APPID, f"o-{user}-demo-openid", **kwargs)


def gateway_settings(rails: Settings, database_url: str) -> Settings:
    return replace(
        rails,
        gateway=GatewaySettings(mode="dev", request_deadline_s=5.0),
        auth=replace(rails.auth, jwt_key=JWT_KEY),
        ledger=LedgerSettings(database_url=database_url),
    )


@pytest.fixture
async def rails() -> AsyncIterator[Settings]:
    """Both rails' simulators, and settings that point the gateway at them."""
    async with rails_demo.running(Settings()) as settings:
        yield settings


@pytest.fixture
async def gateway(rails: Settings, tmp_path: Any) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(rails, f"sqlite+aiosqlite:///{tmp_path}/ledger.db")) as gw:
        yield gw


async def sign_in(gw: Gateway, provider: str, code: str) -> dict[str, Any]:
    body = await gw.graphql(SIGN_IN, {"provider": provider, "code": code})
    assert not body.get("errors"), body
    return body["data"]["signIn"]


async def me(gw: Gateway, token: str) -> dict[str, Any]:
    return await gw.graphql(ME, token=token)


@pytest.mark.parametrize("provider", ["ALIPAY", "WECHAT"])
async def test_a_code_signs_the_provider_user_in_as_one_driver(gateway: Gateway, provider: str) -> None:
    first = await sign_in(gateway, provider, code_for(provider, "frank"))
    assert first["__typename"] == "AuthTokens", first
    assert first["tokenType"] == "Bearer" and first["expiresIn"] == 900
    driver = first["driver"]["id"]
    assert (await me(gateway, first["accessToken"]))["data"]["me"]["id"] == driver
    again = await sign_in(gateway, provider, code_for(provider, "frank"))
    assert again["driver"]["id"] == driver  # found, not created twice
    other = await sign_in(gateway, provider, code_for(provider, "grace"))
    assert other["driver"]["id"] != driver


@pytest.mark.parametrize("provider", ["ALIPAY", "WECHAT"])
async def test_used_expired_and_foreign_codes_are_code_rejected(gateway: Gateway, provider: str) -> None:
    code = code_for(provider, "frank")
    assert (await sign_in(gateway, provider, code))["__typename"] == "AuthTokens"
    used = await sign_in(gateway, provider, code)
    assert used["code"] == "CODE_REJECTED", used
    expired = await sign_in(gateway, provider, code_for(provider, "frank", now=time.time() - 3600))
    assert expired["code"] == "CODE_REJECTED"
    other = "WECHAT" if provider == "ALIPAY" else "ALIPAY"
    foreign = await sign_in(gateway, provider, code_for(other, "frank"))  # another app's code
    assert foreign["code"] == "CODE_REJECTED"
    assert (await sign_in(gateway, provider, "not-a-code"))["code"] == "CODE_REJECTED"


async def test_wechat_says_when_a_code_was_used(gateway: Gateway) -> None:
    code = code_for("WECHAT", "frank")
    await sign_in(gateway, "WECHAT", code)
    assert "already used" in (await sign_in(gateway, "WECHAT", code))["message"]


async def test_an_unreachable_provider_is_provider_unavailable(gateway: Gateway, rails: Settings) -> None:
    sim = rails.alipay.gateway_url.removesuffix("/gateway.do")
    async with gateway.http.post(f"{sim}/_sim/faults", json={"down": True}) as resp:
        assert resp.status == 200, await resp.text()
    failed = await sign_in(gateway, "ALIPAY", code_for("ALIPAY", "frank"))
    assert failed["code"] == "PROVIDER_UNAVAILABLE"


async def test_a_refresh_token_is_spent_and_a_replay_ends_the_sign_in(gateway: Gateway) -> None:
    signed = await sign_in(gateway, "ALIPAY", code_for("ALIPAY", "frank"))
    body = await gateway.graphql(REFRESH, {"token": signed["refreshToken"]})
    fresh = body["data"]["refreshToken"]
    assert fresh["__typename"] == "AuthTokens" and fresh["driver"] == signed["driver"]
    assert fresh["refreshToken"] != signed["refreshToken"]
    assert (await me(gateway, fresh["accessToken"]))["data"]["me"] == signed["driver"]
    replay = (await gateway.graphql(REFRESH, {"token": signed["refreshToken"]}))["data"]["refreshToken"]
    assert replay["code"] == "REFRESH_TOKEN_REVOKED"
    after = await me(gateway, fresh["accessToken"])  # the replay ended the whole sign-in
    assert after["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}
    junk = (await gateway.graphql(REFRESH, {"token": "nope"}))["data"]["refreshToken"]
    assert junk["code"] == "REFRESH_TOKEN_INVALID"


async def test_sign_out_revokes_the_access_token(gateway: Gateway) -> None:
    signed = await sign_in(gateway, "WECHAT", code_for("WECHAT", "frank"))
    out = (await gateway.graphql(SIGN_OUT, {"token": signed["refreshToken"]}))["data"]["signOut"]
    assert out == {"__typename": "SignedOut", "ok": True}
    after = await me(gateway, signed["accessToken"])
    assert after["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}
    refresh = (await gateway.graphql(REFRESH, {"token": signed["refreshToken"]}))["data"]["refreshToken"]
    assert refresh["code"] == "REFRESH_TOKEN_REVOKED"


async def test_a_deployment_without_the_provider_says_so(tmp_path: Any) -> None:
    settings = Settings(
        gateway=GatewaySettings(mode="production"),
        ledger=LedgerSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/ledger.db"),
    )
    async with running_gateway(settings) as gw:
        failed = await sign_in(gw, "WECHAT", "whatever")
    assert failed["code"] == "PROVIDER_NOT_CONFIGURED"


async def test_no_code_token_or_secret_reaches_the_logs(
    gateway: Gateway, rails: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # third-party libraries at production level, ours at DEBUG
    for ours in ("gateway", "resolvers", "operators"):
        caplog.set_level(logging.DEBUG, ours)
    secrets: list[str] = [JWT_KEY, rails.auth.wechat_secret]
    for provider in ("ALIPAY", "WECHAT"):
        code = code_for(provider, "frank")
        signed = await sign_in(gateway, provider, code)
        await sign_in(gateway, provider, code)  # used: refused
        body = await gateway.graphql(REFRESH, {"token": signed["refreshToken"]})
        refreshed = body["data"]["refreshToken"]
        await gateway.graphql(REFRESH, {"token": signed["refreshToken"]})  # replayed: refused
        await me(gateway, refreshed["accessToken"])  # revoked
        secrets += [code, signed["accessToken"], signed["refreshToken"], refreshed["refreshToken"]]
        secrets += [signed["refreshToken"].partition(".")[2]]  # the secret half (the id half is not)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args}" for r in caplog.records)
    assert caplog.records  # the flows did log (sign-in failures, key reads, …)
    for secret in secrets:
        assert secret not in logged


async def test_two_replicas_honour_each_others_refresh_and_sign_out(rails: Settings, ledger_url: str) -> None:
    """Replica A signs the driver in; B refreshes; A sees the rotation; B signs out; A refuses."""
    settings = gateway_settings(rails, ledger_url)
    async with running_gateway(settings) as a, running_gateway(settings) as b:
        signed = await sign_in(a, "ALIPAY", code_for("ALIPAY", "frank"))
        assert (await me(b, signed["accessToken"]))["data"]["me"] == signed["driver"]
        fresh = (await b.graphql(REFRESH, {"token": signed["refreshToken"]}))["data"]["refreshToken"]
        assert fresh["__typename"] == "AuthTokens"
        stale = (await a.graphql(REFRESH, {"token": signed["refreshToken"]}))["data"]["refreshToken"]
        assert stale["code"] == "REFRESH_TOKEN_REVOKED"  # spent on B, replayed on A: sign-in ended

        again = await sign_in(b, "ALIPAY", code_for("ALIPAY", "frank"))
        assert again["driver"] == signed["driver"]
        assert (await me(a, again["accessToken"]))["data"]["me"] == again["driver"]
        out = (await b.graphql(SIGN_OUT, {"token": again["refreshToken"]}))["data"]["signOut"]
        assert out["__typename"] == "SignedOut"
        refused = await me(a, again["accessToken"])
        assert refused["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}
