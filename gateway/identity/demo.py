"""Demo mode's sign-in users: every demo driver is an Alipay user and a WeChat user of the embedded
simulators, so ``chargegate simulate alipay-code alice`` mints a code that signs alice in."""

from __future__ import annotations

from gateway.identity.store import How, IdentityStore
from gateway.rails.alipay.sim.ledger import alipay_user_id
from gateway.rails.demo import EXTRA_DRIVERS

DEMO_DRIVERS = ("alice", "bob", "carol", *EXTRA_DRIVERS)


def alipay_login(name: str) -> str:
    """The demo user's Alipay login: ``alice`` → ``alice@example.com`` (a login is kept as is); the
    simulator signs alice's pay-after-use agreement with the same login, so with the same user id."""
    return name if "@" in name else f"{name}@example.com"


def wechat_user(name: str) -> str:
    """The demo user's openid: ``erin`` → ``o-erin-demo-openid`` (an openid is kept as is)."""
    return name if name.startswith("o-") else f"o-{name}-demo-openid"


async def seed_identities(store: IdentityStore) -> None:
    """Bind each demo driver to their simulated Alipay and WeChat users; idempotent."""
    for name in DEMO_DRIVERS:
        await store.bind(name, "alipay", alipay_user_id(alipay_login(name)), How.DEMO)
        await store.bind(name, "wechat", wechat_user(name), How.DEMO)
