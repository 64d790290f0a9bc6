"""Demo mode (``chargegate serve --demo``): everything embedded, nothing external.

Starts the operator simulators (see :mod:`operators.sim.demo`), a credit-bureau simulator and the
payment rails' simulators (:mod:`gateway.rails.demo`), and fills in the settings that point at
them. The JWT key and bureau key here are public demo values: ``chargegate token alice`` signs with
the same key, so its tokens work against ``make run``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from gateway.rails import demo as rails_demo
from gateway.rails.bureau.demo import demo_scores
from gateway.rails.bureau.sim.config import DEFAULT_API_KEY, BureauConfig
from gateway.rails.bureau.sim.server import CreditBureauSimulator
from gateway.settings.load import Settings

DEMO_JWT_KEY = "chargegate-demo-jwt-key-public-not-a-secret"  # ≥ 32 bytes, and public on purpose
# An `admin` API key for the README's internal-tooling steps (refunds, rail mismatches); public on
# purpose like the JWT key, and only ever added in demo mode when no key is configured.
DEMO_ADMIN_KEY = "cg_demo-admin_public-demo-admin-key-not-a-secret"
DEMO_KEY_PEPPER = "chargegate-demo-key-pepper-public-not-a-secret"


def with_demo_admin_key(settings: Settings) -> Settings:
    """Demo mode without API keys of its own: :data:`DEMO_ADMIN_KEY` (scope ``admin``) works."""
    security = settings.security
    if settings.gateway.mode != "demo" or security.key_hash_secret or security.api_keys:
        return settings
    from gateway.security.apikeys import hash_key

    key = {"id": "demo-admin", "name": "demo admin (public)", "scopes": ["admin"],
           "hash": hash_key(DEMO_ADMIN_KEY, DEMO_KEY_PEPPER)}  # fmt: skip
    return replace(settings, security=replace(security, key_hash_secret=DEMO_KEY_PEPPER, api_keys=(key,)))


def demo_auth_key(settings: Settings) -> str:
    """The key driver tokens are signed with: the configured one, else (demo only) the public demo key."""
    return settings.auth.jwt_key or DEMO_JWT_KEY


@contextlib.asynccontextmanager
async def demo_lifespan(settings: Settings) -> AsyncIterator[Settings]:
    """Start the embedded simulators; yield settings that use them (configured operators kept)."""
    from operators.sim import demo

    async with (
        demo.running(settings.public_url) as configs,
        CreditBureauSimulator(
            BureauConfig(api_key=DEFAULT_API_KEY, scores=demo_scores() | rails_demo.SCORES)
        ) as bureau,
        rails_demo.running(settings) as settings,
    ):
        credit = settings.credit
        if not credit.bureau_url:
            credit = replace(credit, bureau_url=bureau.base_url, bureau_api_key=DEFAULT_API_KEY)
        yield replace(
            settings,
            operators=tuple(settings.operators) + tuple(configs),
            auth=replace(settings.auth, jwt_key=demo_auth_key(settings)),
            credit=credit,
        )
