"""API keys: scopes, hashed storage, constant-time authentication, and minting new keys.

A key reads ``cg_<id>_<secret>``: the id is public (it names the key in settings, logs and rate-limit
buckets), the secret is 256 random bits. Only ``HMAC-SHA256(security.key_hash_secret, key)`` is
stored. Keys are random, not chosen by people, so a slow password hash would add nothing but
latency; the pepper keeps a leaked settings file useless without the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.settings.errors import ConfigError

PREFIX = "cg"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,31}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


class Scope(StrEnum):
    """What a key may do. ``admin`` implies every other scope."""

    STATIONS_READ = "stations:read"  # search stations, operators, connectors, prices
    DRIVERS_ACT = "drivers:act"  # act for a driver: sessions, bills, `me`
    ROUTER = "router"  # a federation router: _service (the subgraph SDL) and _entities
    ADMIN = "admin"  # internal tooling

    @classmethod
    def parse(cls, names: Iterable[str]) -> frozenset[Scope]:
        try:
            return frozenset(cls(name) for name in names)
        except ValueError as exc:
            raise ValueError(f"unknown scope; use {', '.join(s.value for s in cls)}") from exc


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A configured key, without its secret."""

    id: str
    name: str
    scopes: frozenset[Scope]
    digest: str  # hex HMAC-SHA256 of the whole key
    rate_per_s: float | None = None  # None: security.key_rate_per_s
    burst: int | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


def hash_key(key: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


class KeyStore:
    """Looks keys up by id, then compares digests in constant time."""

    def __init__(self, keys: Iterable[ApiKey], pepper: str) -> None:
        self._by_id = {key.id: key for key in keys}
        self._pepper = pepper

    def __len__(self) -> int:
        return len(self._by_id)

    def authenticate(self, presented: str) -> ApiKey | None:
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        record = self._by_id.get(key_id) if prefix == PREFIX and secret else None
        digest = hash_key(presented, self._pepper)  # computed either way: equal work for any answer
        if record is None or not hmac.compare_digest(digest, record.digest):
            return None
        return record


def parse_key_records(tables: Iterable[Mapping[str, Any]]) -> list[ApiKey]:
    """``[[security.api_keys]]`` tables → keys; a bad one raises :class:`ConfigError` naming it."""
    keys: list[ApiKey] = []
    seen: set[str] = set()
    for i, table in enumerate(tables):
        where = f"security.api_keys[{i}]"
        if not isinstance(table, Mapping):
            raise ConfigError(where, "must be a table")
        unknown = set(table) - {"id", "name", "scopes", "hash", "rate_per_s", "burst"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}", "unknown setting")
        key_id, digest, scopes = table.get("id"), table.get("hash"), table.get("scopes")
        if not isinstance(key_id, str) or not _ID.match(key_id):
            raise ConfigError(f"{where}.id", "must be 3-32 characters of a-z, 0-9 and '-'")
        if key_id in seen:
            raise ConfigError(f"{where}.id", f"duplicate key id {key_id!r}")
        seen.add(key_id)
        if not isinstance(digest, str) or not _HASH.match(digest):
            raise ConfigError(f"{where}.hash", "must be 64 hex digits, as `chargegate apikey create` prints")
        if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
            raise ConfigError(f"{where}.scopes", "must be a non-empty list of scope names")
        try:
            parsed = Scope.parse(scopes)
        except ValueError as exc:
            raise ConfigError(f"{where}.scopes", str(exc)) from exc
        rate, burst = table.get("rate_per_s"), table.get("burst")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0):
            raise ConfigError(f"{where}.rate_per_s", "must be a positive number")
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int) or burst < 1):
            raise ConfigError(f"{where}.burst", "must be a positive integer")
        name = str(table.get("name", key_id))
        keys.append(ApiKey(key_id, name, parsed, digest, None if rate is None else float(rate), burst))
    return keys


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once, never stored
    record: ApiKey

    def toml(self) -> str:
        """The ``[[security.api_keys]]`` table to paste into the settings file."""
        scopes = ", ".join(f'"{s.value}"' for s in sorted(self.record.scopes))
        return (
            "[[security.api_keys]]\n"
            f'id = "{self.record.id}"\n'
            f'name = "{self.record.name}"\n'
            f"scopes = [{scopes}]\n"
            f'hash = "{self.record.digest}"\n'
        )


def create_key(scopes: Iterable[str], pepper: str, *, name: str = "", key_id: str | None = None) -> NewKey:
    """Mint a key (for ``chargegate apikey create --scopes stations:read --name "Fleet app"``).

    ``pepper`` must be the deployment's ``security.key_hash_secret``. Print :attr:`NewKey.key` to
    the operator once and store only :meth:`NewKey.toml`.
    """
    parsed = Scope.parse(scopes)
    if not parsed:
        raise ValueError("a key needs at least one scope")
    key_id = key_id or secrets.token_hex(4)
    if not _ID.match(key_id):
        raise ValueError("key id must be 3-32 characters of a-z, 0-9 and '-'")
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key, ApiKey(key_id, name or key_id, parsed, hash_key(key, pepper)))
