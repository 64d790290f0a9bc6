"""Settings: a TOML file plus environment overrides, validated once at start-up.

The only module that reads ``os.environ``. Environment overrides use ``CHARGEGATE__SECTION__KEY``
(e.g. ``CHARGEGATE__GATEWAY__PORT=8001``). Secrets never live in the file: a secret-looking key of
an operator table (``*secret``, ``*token``, ``*_iv``, ``*password``, ``*key``) must be written as
``{ env = "VAR_NAME" }`` and is read from the environment. A bad setting raises
:class:`ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "CHARGEGATE__"
MODES = ("production", "demo", "dev")
SECRET_SUFFIXES = ("secret", "token", "_iv", "password", "key")


class ConfigError(ValueError):
    """A setting is missing or wrong; ``key`` is its dotted path (``operators[1].base_url``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"config error at {key}: {message}")
        self.key = key


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # where operators push to; defaults to http://{host}:{port}
    mode: str = "production"
    request_deadline_s: float = 3.0
    max_page_size: int = 100
    max_radius_km: float = 200.0


@dataclass(frozen=True, slots=True)
class CacheSettings:
    backend: str = "memory"
    status_ttl_s: float = 15.0  # a polled status is reused this long
    status_push_ttl_s: float = 300.0  # a pushed status is trusted this long
    tariff_ttl_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class CatalogueSettings:
    refresh_s: float = 300.0  # incremental sync interval
    overlap_s: float = 60.0  # re-ask for changes this far before the last sync, for clock skew
    cell_deg: float = 0.02  # spatial index cell size (about 2 km)


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: int = 5
    reset_after_s: float = 15.0


@dataclass(frozen=True, slots=True)
class Settings:
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    operators: tuple[Mapping[str, Any], ...] = ()

    @property
    def demo(self) -> bool:
        return self.gateway.mode == "demo"

    @property
    def public_url(self) -> str:
        return (self.gateway.public_url or f"http://{self.gateway.host}:{self.gateway.port}").rstrip("/")

    def with_operators(self, operators: tuple[Mapping[str, Any], ...]) -> Settings:
        return replace(self, operators=operators)


SECTIONS: dict[str, type] = {
    "gateway": GatewaySettings,
    "cache": CacheSettings,
    "catalogue": CatalogueSettings,
    "breaker": BreakerSettings,
}


def load(path: str | Path | None, env: Mapping[str, str] | None = None, **gateway: Any) -> Settings:
    """Read ``path`` (or nothing), apply environment overrides and keyword overrides of [gateway]."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError("--config", f"no such file: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"not valid TOML: {exc}") from exc
    unknown = set(raw) - set(SECTIONS) - {"operators"}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown section")
    sections = {name: dict(raw.get(name, {})) for name in SECTIONS}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            section, _, name = key[len(ENV_PREFIX) :].lower().partition("__")
            if section not in SECTIONS or not name:
                raise ConfigError(key, "unknown environment override")
            sections[section][name] = value
    sections["gateway"].update({k: v for k, v in gateway.items() if v is not None})
    built = {name: _section(name, cls, sections[name]) for name, cls in SECTIONS.items()}
    operators = raw.get("operators", [])
    if not isinstance(operators, list):
        raise ConfigError("operators", "must be an array of tables ([[operators]])")
    settings = Settings(**built, operators=tuple(_operator(i, op, env) for i, op in enumerate(operators)))
    _check(settings)
    return settings


def _section(name: str, cls: type, values: Mapping[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{name}.{key}", "unknown setting")
        default = getattr(cls(), key)
        out[key] = _coerce(f"{name}.{key}", value, type(default))
    return cls(**out)


def _coerce(key: str, value: Any, kind: type) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind in (int, float) and isinstance(value, bool):
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, f"expected {kind.__name__}, got {value!r}") from exc


def _operator(index: int, table: Any, env: Mapping[str, str]) -> dict[str, Any]:
    where = f"operators[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(where, "must be a table")
    for key in ("id", "protocol"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ConfigError(f"{where}.{key}", "is required (a non-empty string)")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and set(value) == {"env"}:
            name = value["env"]
            if name not in env:
                raise ConfigError(f"{where}.{key}", f"environment variable {name} is not set")
            out[key] = env[name]
        elif key.lower().endswith(SECRET_SUFFIXES):
            raise ConfigError(f"{where}.{key}", 'secrets come from the environment: write { env = "VAR" }')
        else:
            out[key] = value
    return out


def _check(settings: Settings) -> None:
    g = settings.gateway
    if g.mode not in MODES:
        raise ConfigError("gateway.mode", f"must be one of {', '.join(MODES)}")
    if not 0 <= g.port <= 65535:
        raise ConfigError("gateway.port", "must be 0..65535")
    if g.request_deadline_s <= 0:
        raise ConfigError("gateway.request_deadline_s", "must be positive")
    if settings.cache.backend != "memory":
        raise ConfigError("cache.backend", "only 'memory' is supported so far")
    for name in ("status_ttl_s", "status_push_ttl_s", "tariff_ttl_s"):
        if getattr(settings.cache, name) <= 0:
            raise ConfigError(f"cache.{name}", "must be positive")
    if settings.breaker.failure_threshold < 1:
        raise ConfigError("breaker.failure_threshold", "must be at least 1")
    seen: set[str] = set()
    for i, op in enumerate(settings.operators):
        if op["id"] in seen:
            raise ConfigError(f"operators[{i}].id", f"duplicate operator id {op['id']!r}")
        seen.add(op["id"])
