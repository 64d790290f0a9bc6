"""Settings: a TOML file plus environment overrides, validated once at start-up by pydantic-settings.

The only module that reads ``os.environ``. Three sources, the first winning: keyword overrides of
``[gateway]`` (the CLI's ``--host`` and ``--port``), environment overrides ``CHARGEGATE__SECTION__KEY``
(e.g. ``CHARGEGATE__GATEWAY__PORT=8001``; a list is comma-separated), then the TOML file. Each
``[section]`` is one of the frozen dataclasses of :mod:`gateway.settings.sections`, which pydantic validates
(types coerced, unknown sections and keys refused by name). Secrets never live in the file: a secret
of a section (:data:`SECTION_SECRETS`) or a secret-looking key of an operator table (``*secret``,
``*token``, ``*_iv``, ``*password``, ``*key``) must be written as ``{ env = "VAR_NAME" }`` and is read
from the environment. The checks no type can express (one mode of three, a URL's scheme, each
operator table as its adapter reads it) run last. A bad setting raises :class:`ConfigError`: one
line naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway.security.apikeys import parse_key_records
from gateway.settings.errors import ConfigError
from gateway.settings.sections import (
    AlipaySettings,
    AuthSettings,
    BreakerSettings,
    CacheSettings,
    CatalogueSettings,
    CreditSettings,
    GatewaySettings,
    LedgerSettings,
    PaymentsSettings,
    SecuritySettings,
    Settings,
    TracingSettings,
    WeChatPaySettings,
)

ENV_PREFIX = "CHARGEGATE__"
SECRET_SUFFIXES = ("secret", "token", "_iv", "password", "key")


__all__ = [  # the settings dataclasses are imported from here too
    "ConfigError",
    "load",
    "GatewaySettings",
    "CacheSettings",
    "CatalogueSettings",
    "BreakerSettings",
    "SecuritySettings",
    "AuthSettings",
    "CreditSettings",
    "LedgerSettings",
    "TracingSettings",
    "AlipaySettings",
    "WeChatPaySettings",
    "PaymentsSettings",
    "Settings",
]

SECTIONS: dict[str, type] = {
    "gateway": GatewaySettings,
    "cache": CacheSettings,
    "catalogue": CatalogueSettings,
    "breaker": BreakerSettings,
    "security": SecuritySettings,
    "auth": AuthSettings,
    "credit": CreditSettings,
    "ledger": LedgerSettings,
    "tracing": TracingSettings,
    "alipay": AlipaySettings,
    "wechatpay": WeChatPaySettings,
    "payments": PaymentsSettings,
}
# Secrets of the sections above: only ``{ env = "VAR" }`` or an environment override, never inline.
SECTION_SECRETS = {
    "security.key_hash_secret",
    "auth.jwt_key",
    "auth.wechat_secret",
    "credit.bureau_api_key",
    "cache.redis_password",
    "alipay.app_private_key",
    "wechatpay.merchant_private_key",
    "wechatpay.apiv3_key",
}
# URLs that may carry a password: written in the file only without one.
SECTION_URLS = {"cache.redis_url"}
REDIS_SCHEMES = ("redis", "rediss")


class SettingsFile(BaseSettings):
    """Every section and the operator tables, as pydantic-settings reads and validates them."""

    model_config = SettingsConfigDict(extra="forbid", coerce_numbers_to_str=True)

    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    credit: CreditSettings = Field(default_factory=CreditSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    alipay: AlipaySettings = Field(default_factory=AlipaySettings)
    wechatpay: WeChatPaySettings = Field(default_factory=WeChatPaySettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    operators: tuple[dict[str, Any], ...] = ()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Not pydantic-settings' own environment source: it would read os.environ, not a test's
        # mapping, and parse a list as JSON where an override is comma-separated.
        path, env = _INPUTS.get()
        return init_settings, EnvironmentOverrides(settings_cls, env), TomlFile(settings_cls, path, env)


# What the sources of one load() read: the file and the environment (os.environ unless a test's).
_INPUTS: ContextVar[tuple[Path | None, Mapping[str, str]]] = ContextVar("settings_inputs")


def load(path: str | Path | None, env: Mapping[str, str] | None = None, **gateway: Any) -> Settings:
    """Read ``path`` (or nothing), apply environment overrides and keyword overrides of [gateway]."""
    overrides = {k: v for k, v in gateway.items() if v is not None}
    with _inputs(None if path is None else Path(path), os.environ if env is None else env):
        try:
            model = SettingsFile(gateway=overrides) if overrides else SettingsFile()
        except ValidationError as exc:
            raise _config_error(exc) from None
    built = {name: getattr(model, name) for name in SECTIONS}
    settings = Settings(**built, operators=model.operators)
    _check(settings)
    _check_operators(settings)
    _check_rails(settings)
    return settings


@contextmanager
def _inputs(path: Path | None, env: Mapping[str, str]) -> Iterator[None]:
    token = _INPUTS.set((path, env))
    try:
        yield
    finally:
        _INPUTS.reset(token)


class TomlFile(TomlConfigSettingsSource):
    """The settings file, with each ``{ env = "VAR" }`` read from the environment, inline secrets
    refused, and the operator tables checked for what every adapter needs (``id``, ``protocol``)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None, env: Mapping[str, str]) -> None:
        self.env = env
        if path is not None and not path.is_file():
            raise ConfigError("--config", f"no such file: {path}")
        try:
            super().__init__(settings_cls, toml_file=path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"not valid TOML: {exc}") from exc

    def __call__(self) -> dict[str, Any]:
        raw = super().__call__()
        out: dict[str, Any] = {}
        for name, table in raw.items():
            if name == "operators":
                if not isinstance(table, list):
                    raise ConfigError("operators", "must be an array of tables ([[operators]])")
                out[name] = [_operator(i, op, self.env) for i, op in enumerate(table)]
            elif name in SECTIONS:
                out[name] = _section(name, table, self.env)
            else:
                raise ConfigError(name, "unknown section")
        return out


class EnvironmentOverrides(PydanticBaseSettingsSource):
    """``CHARGEGATE__SECTION__KEY=value``: a value of a section (an unknown section is refused here,
    an unknown key by the section's validation); a list setting is comma-separated."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # not used: __call__ reads every override at once

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.env.items():
            if key.startswith(ENV_PREFIX):
                section, _, name = key[len(ENV_PREFIX) :].lower().partition("__")
                if section not in SECTIONS or not name:
                    raise ConfigError(key, "unknown environment override")
                out.setdefault(section, {})[name] = (
                    tuple(part.strip() for part in value.split(",") if part.strip())
                    if isinstance(_default(section, name), tuple)
                    else value
                )
        return out


def _default(section: str, name: str) -> Any:
    cls = SECTIONS[section]
    return getattr(cls(), name, None) if name in {f.name for f in fields(cls)} else None


def _section(name: str, table: Any, env: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(name, "must be a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{name}.{key}"
        if isinstance(value, dict) and set(value) == {"env"}:
            if value["env"] not in env:
                raise ConfigError(where, f"environment variable {value['env']} is not set")
            out[key] = env[value["env"]]
            continue
        if where in SECTION_SECRETS:
            raise ConfigError(where, 'secrets come from the environment: write { env = "VAR" }')
        if where in SECTION_URLS and isinstance(value, str) and _has_password(value):
            raise ConfigError(
                where, 'a URL with a password comes from the environment: write { env = "VAR" }'
            )
        default = _default(name, key)
        if isinstance(value, bool) and isinstance(default, int | float) and not isinstance(default, bool):
            raise ConfigError(where, f"expected {type(default).__name__}, got {value!r}")
        out[key] = value
    return out


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:  # a malformed URL is reported by the checks, with its key
        return False


# pydantic's error types (int_parsing, string_type, ...) by their first word, as a TOML author reads them.
_EXPECTED = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "string": "str",
    "tuple": "a list",
    "list": "a list",
}


def _config_error(exc: ValidationError) -> ConfigError:
    """pydantic's first error as one line naming the key, in this module's words."""
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return ConfigError(key, "unknown section" if len(loc) == 1 else "unknown setting")
    if kind in ("dataclass_type", "dict_type", "model_type"):
        return ConfigError(key, "must be a table")
    bound = _bound(kind, error.get("ctx", {}))
    if bound:
        return ConfigError(key, bound)
    expected = _EXPECTED.get(kind.split("_")[0])
    message = f"expected {expected}" if expected else str(error["msg"])
    if key in SECTION_SECRETS:
        return ConfigError(key, message)  # never the value
    return ConfigError(key, f"{message}, got {error.get('input')!r}")


def _bound(kind: str, ctx: Mapping[str, Any]) -> str | None:
    """A value outside its field's range or choice (``PositiveFloat``, ``Literal``), in words."""
    if kind == "greater_than":
        return "must be positive" if ctx["gt"] == 0 else f"must be more than {ctx['gt']}"
    if kind == "greater_than_equal":
        return "must not be negative" if ctx["ge"] == 0 else f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    return None


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
    """What a field's type cannot say: settings that depend on each other, URLs, amounts, key records."""
    _check_cache(settings)
    _check_security(settings.security)
    _check_billing(settings)
    seen: set[str] = set()
    for i, op in enumerate(settings.operators):
        if op["id"] in seen:
            raise ConfigError(f"operators[{i}].id", f"duplicate operator id {op['id']!r}")
        seen.add(op["id"])


def _check_operators(settings: Settings) -> None:
    """Each operator table as its adapter and the gateway will read it, so a bad value or an unknown
    key stops start-up with one line naming it, before anything starts."""
    from gateway.catalogue.qrcodes import QrPatterns
    from operators import registry
    from operators.base import OperatorConfigError

    for index, table in enumerate(settings.operators):
        protocol = table.get("protocol")
        if protocol in registry.NOT_IN_PRODUCTION and settings.gateway.mode == "production":
            raise ConfigError(f"operators[{index}].protocol", f"{protocol!r} is refused in production mode")
        try:
            registry.check(table, settings.public_url)
        except OperatorConfigError as exc:
            raise ConfigError(f"operators[{index}].{exc.key}", str(exc).partition(": ")[2]) from None
    try:
        QrPatterns.from_operators(settings.operators)
    except OperatorConfigError as exc:
        raise ConfigError(exc.key, str(exc).partition(": ")[2]) from None


def _check_cache(settings: Settings) -> None:
    c = settings.cache
    wanted = c.backend == "redis" or settings.security.rate_limit_backend == "redis"
    if wanted and not c.redis_url:
        raise ConfigError("cache.redis_url", "is required with Redis (redis://host:port/db)")
    if c.redis_url:
        try:
            parts = urlsplit(c.redis_url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ConfigError("cache.redis_url", f"is not a URL: {exc}") from exc
        if parts.scheme not in REDIS_SCHEMES or not parts.hostname:
            raise ConfigError("cache.redis_url", "must be redis://host[:port][/db] or rediss://…")
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise ConfigError("cache.redis_url", "the path must be a database number, e.g. /0")
    if not c.redis_prefix or any(ch.isspace() for ch in c.redis_prefix):
        raise ConfigError("cache.redis_prefix", "must be a non-empty word")


def _check_security(s: SecuritySettings) -> None:
    if s.anonymous_rate_per_s > 0 and s.anonymous_burst < 1:
        raise ConfigError("security.anonymous_burst", "must be at least 1 when anonymous_rate_per_s is set")
    for origin in s.cors_origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError("security.cors_origins", f"{origin!r} is not an origin (scheme://host[:port])")
    parse_key_records(s.api_keys)


def _check_billing(settings: Settings) -> None:
    from decimal import Decimal, InvalidOperation

    key = settings.auth.jwt_key
    if key and len(key.encode()) < 32:
        raise ConfigError("auth.jwt_key", "must be at least 32 bytes")
    _check_auth(settings.auth)
    c = settings.credit
    for name in ("postpay_session_cap", "prepaid_min_balance"):
        try:
            if Decimal(getattr(c, name)) < 0:
                raise ConfigError(f"credit.{name}", "must not be negative")
        except InvalidOperation as exc:
            raise ConfigError(f"credit.{name}", "must be a decimal amount such as 20.00") from exc
    ledger = settings.ledger
    if not ledger.database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("ledger.database_url", "must be a sqlite:/// or postgresql:// URL")
    try:
        Decimal(ledger.dispute_tolerance)
    except InvalidOperation as exc:
        raise ConfigError("ledger.dispute_tolerance", "must be a decimal amount") from exc


def _check_rails(settings: Settings) -> None:
    from gateway.rails import setup  # imports the rails' clients only when settings are loaded

    try:
        setup.check(settings)
    except ValueError as exc:
        key = str(exc).split(" ", 1)[0] if str(exc).startswith(("alipay.", "wechatpay.")) else "payments"
        raise ConfigError(key, str(exc)) from None


def _check_auth(a: AuthSettings) -> None:
    if a.oidc_issuer:
        if not a.oidc_issuer.startswith(("https://", "http://")):
            raise ConfigError("auth.oidc_issuer", "must be the provider's https:// issuer URL")
        if not a.oidc_audience:
            raise ConfigError("auth.oidc_audience", "is required with oidc_issuer (the aud its tokens carry)")
        unknown = set(a.oidc_algorithms) - {"RS256", "ES256", "EdDSA"}
        if unknown or not a.oidc_algorithms:
            raise ConfigError("auth.oidc_algorithms", "must be some of RS256, ES256, EdDSA")
