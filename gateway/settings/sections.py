"""The settings, as plain frozen data: one dataclass per ``[section]`` of the settings file.

Each field's type is what the loader (:mod:`gateway.settings.load`, pydantic-settings) validates a value
against: ``PositiveFloat`` is a number above zero, a ``Literal`` one of its words, ``Annotated``
bounds a range. Constructing a dataclass directly (tests, the demo) checks nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    public_url: str = ""  # where operators push to; defaults to http://{host}:{port}
    mode: Literal["production", "demo", "dev"] = "production"
    request_deadline_s: PositiveFloat = 3.0
    max_page_size: int = 100
    max_radius_km: float = 200.0


@dataclass(frozen=True, slots=True)
class CacheSettings:
    backend: Literal["memory", "redis"] = "memory"  # redis: replicas share cache, pushes, limits, a lease
    status_ttl_s: PositiveFloat = 15.0  # a polled status is reused this long
    status_push_ttl_s: PositiveFloat = 300.0  # a pushed status is trusted this long
    tariff_ttl_s: PositiveFloat = 3600.0
    redis_url: str = ""  # redis:// or rediss://; a password in it only from the environment
    redis_password: str = ""  # environment only (for a redis_url written without one)
    redis_prefix: str = "chargegate"  # of every key and channel, so deployments can share a server
    redis_timeout_s: PositiveFloat = 1.0  # per Redis command
    redis_lease_ttl_s: PositiveFloat = 15.0  # a crashed replica's reconciliation lease expires after this


@dataclass(frozen=True, slots=True)
class CatalogueSettings:
    refresh_s: float = 300.0  # incremental sync interval
    overlap_s: float = 60.0  # re-ask for changes this far before the last sync, for clock skew
    cell_deg: float = 0.02  # spatial index cell size (about 2 km)


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: Annotated[int, Field(ge=1)] = 5
    reset_after_s: float = 15.0


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """``[security]``: API keys, rate limits, query limits, CSRF, CORS, persisted queries."""

    require_api_key: bool = False  # false: anonymous clients may read stations
    key_hash_secret: str = ""  # HMAC key (pepper) for API key hashes; environment only
    api_keys: tuple[Mapping[str, Any], ...] = ()  # [[security.api_keys]]: id, name, scopes, hash, ...
    key_rate_per_s: PositiveFloat = 50.0  # per API key, unless the key sets rate_per_s
    key_burst: PositiveInt = 200
    anonymous_rate_per_s: NonNegativeFloat = 20.0  # per client IP; 0 disables
    anonymous_burst: NonNegativeInt = 100
    max_body_bytes: PositiveInt = 100_000
    max_depth: PositiveInt = 12
    max_aliases: PositiveInt = 30
    max_tokens: PositiveInt = 5_000
    max_cost: PositiveInt = 50_000  # a full page of 100 stations with every field costs about 37,000
    default_list_size: PositiveInt = 10  # assumed length of a list field without `first`
    max_batch: NonNegativeInt = 10  # operations in one JSON array; 0 disables batching
    introspection: Literal["auto", "on", "off"] = "auto"  # auto: on in demo/dev mode, off in production
    csrf_prevention: bool = True
    cors_origins: tuple[str, ...] = ()  # e.g. ("https://app.example.com",); "*" for any
    persisted_queries: NonNegativeInt = 1_000  # automatic persisted queries kept; 0 disables
    rate_limit_backend: Literal["auto", "memory", "redis"] = "auto"  # auto: redis when cache.backend is


@dataclass(frozen=True, slots=True)
class AuthSettings:
    jwt_key: str = ""  # HS256 key for driver tokens, >= 32 bytes; environment only (demo: a public key)
    token_ttl_s: PositiveInt = 86_400
    issuer: str = ""  # empty: not checked
    audience: str = ""
    # The app's own OpenID Connect provider (docs/deployment.md): its RS256/ES256/EdDSA access tokens.
    oidc_issuer: str = ""  # e.g. https://id.example.com; empty: no provider, only HS256 tokens
    oidc_audience: str = ""  # the aud its tokens must carry (required with oidc_issuer)
    oidc_driver_claim: str = "sub"  # the claim that names the driver
    oidc_algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    oidc_timeout_s: PositiveFloat = 2.0  # discovery and JWKS requests
    jwks_max_age_s: PositiveFloat = 3600.0  # keys are re-read at least this often
    jwks_min_refresh_s: NonNegativeFloat = 60.0  # an unknown kid re-reads the keys at most this often
    # Sign-in with Alipay ([alipay]'s app) or WeChat: short HS256 access tokens and refresh tokens.
    access_token_ttl_s: PositiveInt = 900
    refresh_token_ttl_s: PositiveInt = 30 * 86_400
    wechat_secret: str = ""  # the mini program's AppSecret (appid: [wechatpay] appid); environment only
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_timeout_s: PositiveFloat = 3.0


@dataclass(frozen=True, slots=True)
class CreditSettings:
    bureau_url: str = ""  # empty: no bureau, so nobody gets postpay (demo: the embedded simulator)
    bureau_api_key: str = ""  # environment only
    timeout_s: PositiveFloat = 1.0
    score_ttl_s: PositiveFloat = 3600.0
    postpay_min_score: int = 600
    postpay_bands: str = "600:200,680:500,750:1000"  # min score:outstanding limit, per band
    postpay_session_cap: str = "300"  # yuan; a postpaid session stops here at the latest
    prepaid_min_balance: str = "20"  # yuan in the wallet to start a prepaid session
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    database_url: str = "sqlite+aiosqlite:///var/chargegate.sqlite3"
    bill_due_days: PositiveFloat = 14.0  # an unpaid bill becomes OVERDUE after this
    dispute_tolerance: str = "0.05"  # yuan; operator total vs our recomputation
    overdue_sweep_s: PositiveFloat = 3600.0
    progress_poll_s: PositiveFloat = 30.0  # poll live sessions this often when pushes go quiet
    final_order_wait_s: PositiveFloat = 120.0  # a subscriber waits this long after the end for the bill


@dataclass(frozen=True, slots=True)
class AlipaySettings:
    """[alipay]: Zhima pay-after-use (docs/payments.md); off while ``app_id`` is empty."""

    app_id: str = ""
    app_private_key: str = ""  # environment only; PEM or the console's base64 body
    alipay_public_key: str = ""  # PEM or base64 body
    zm_service_id: str = ""
    gateway_url: str = "https://openapi.alipay.com/gateway.do"
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class WeChatPaySettings:
    """[wechatpay]: pay score (docs/payments.md); off while ``mchid`` is empty."""

    mchid: str = ""
    appid: str = ""
    service_id: str = ""
    merchant_private_key: str = ""  # environment only (apiclient_key.pem)
    merchant_serial_no: str = ""
    platform_public_key: str = ""  # the WeChat Pay public key (PEM)
    platform_public_key_id: str = ""  # PUB_KEY_ID_...
    apiv3_key: str = ""  # environment only; 32 bytes
    base_url: str = "https://api.mch.weixin.qq.com"
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class PaymentsSettings:
    """[payments]: which drivers charge on a credit rail, as ``DRIVER=RAIL:ACCOUNT`` (the account is
    the Alipay agreement id or the WeChat openid), e.g. ``["alice=alipay:ZMOP0001"]``."""

    enrolments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TracingSettings:
    """``[tracing]``: OpenTelemetry, off by default; on needs the ``tracing`` extra installed."""

    enabled: bool = False
    service_name: str = "chargegate"
    exporter: Literal["otlp", "console"] = "otlp"  # otlp (protobuf over HTTP) or console
    otlp_endpoint: str = ""  # e.g. http://collector:4318/v1/traces; empty: OTEL_EXPORTER_OTLP_* or default
    sample_ratio: Annotated[float, Field(ge=0, le=1)] = 1.0  # of new traces; a sampled parent is followed


@dataclass(frozen=True, slots=True)
class Settings:
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    credit: CreditSettings = field(default_factory=CreditSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    alipay: AlipaySettings = field(default_factory=AlipaySettings)
    wechatpay: WeChatPaySettings = field(default_factory=WeChatPaySettings)
    payments: PaymentsSettings = field(default_factory=PaymentsSettings)
    operators: tuple[Mapping[str, Any], ...] = ()

    @property
    def demo(self) -> bool:
        return self.gateway.mode == "demo"

    @property
    def public_url(self) -> str:
        return (self.gateway.public_url or f"http://{self.gateway.host}:{self.gateway.port}").rstrip("/")

    def with_operators(self, operators: tuple[Mapping[str, Any], ...]) -> Settings:
        return replace(self, operators=operators)
