"""Validated configuration of one OCPI operator (the ``[operators.*]`` table for protocol "ocpi").

Keys (secrets already resolved from the environment by the gateway):

=================== ======== ================================================================
key                 default  meaning
=================== ======== ================================================================
id                  required the CPO's country code + party id, 5 characters, e.g. ``"CNSHA"``
name                required display name
versions_url        required the CPO's versions endpoint (http/https)
token               required CREDENTIALS_TOKEN_A from the CPO (printable ASCII, ≤ 64)
timeout_s           2.0      per-request timeout, seconds
country_code        "CN"     *our* (eMSP) country code in credentials and routing headers
party_id            "CGW"    *our* (eMSP) party id
token_encoding      base64   ``base64`` (2.2.1) or ``plain`` (2.1.1-era peers)
registered_token    —        token C from an earlier registration: skip the handshake
our_token           —        token B the CPO uses towards us (random per process if absent)
concurrency         8        parallel GETs for per-location status
page_size           100      ``limit`` asked for on list calls (the CPO may cap it)
tariff_ttl_s        300      how long the pulled tariff table is reused
=================== ======== ================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from operators.base import OperatorConfigError

_ID = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,64}$")  # credentials token: string(64), printable, no spaces


@dataclass(frozen=True, slots=True)
class OcpiSettings:
    id: str
    name: str
    versions_url: str
    token: str = field(repr=False)
    timeout_s: float = 2.0
    country_code: str = "CN"
    party_id: str = "CGW"
    token_encoding: str = "base64"
    registered_token: str | None = field(default=None, repr=False)
    our_token: str | None = field(default=None, repr=False)
    concurrency: int = 8
    page_size: int = 100
    tariff_ttl_s: float = 300.0

    @property
    def cpo_country_code(self) -> str:
        return self.id[:2]

    @property
    def cpo_party_id(self) -> str:
        return self.id[2:]


def _str(
    config: Mapping[str, object], key: str, default: str | None = None, pattern: re.Pattern[str] | None = None
) -> str:
    value = config.get(key, default)
    if value is None:
        raise OperatorConfigError(key, "is required")
    if not isinstance(value, str) or not value.strip():
        raise OperatorConfigError(key, "must be a non-empty string")
    if pattern is not None and not pattern.match(value):
        raise OperatorConfigError(key, f"must match {pattern.pattern}")
    return value


def _optional_token(config: Mapping[str, object], key: str) -> str | None:
    return _str(config, key, pattern=_TOKEN) if config.get(key) is not None else None


def _number(config: Mapping[str, object], key: str, default: float, kind: type = float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise OperatorConfigError(key, "must be a positive number")
    if kind is int and not isinstance(value, int):
        raise OperatorConfigError(key, "must be a positive integer")
    return kind(value)


def _url(config: Mapping[str, object], key: str) -> str:
    value = _str(config, key)
    if not value.startswith(("http://", "https://")):
        raise OperatorConfigError(key, "must be an http(s) URL")
    return value


def parse_settings(config: Mapping[str, object], public_url: str) -> OcpiSettings:
    if not public_url.startswith(("http://", "https://")):
        raise OperatorConfigError("public_url", "must be an http(s) URL")
    encoding = _str(config, "token_encoding", "base64")
    if encoding not in ("base64", "plain"):
        raise OperatorConfigError("token_encoding", "must be 'base64' or 'plain'")
    return OcpiSettings(
        id=_str(config, "id", pattern=_ID),
        name=_str(config, "name"),
        versions_url=_url(config, "versions_url"),
        token=_str(config, "token", pattern=_TOKEN),
        timeout_s=_number(config, "timeout_s", 2.0),
        country_code=_str(config, "country_code", "CN", re.compile(r"^[A-Z]{2}$")),
        party_id=_str(config, "party_id", "CGW", re.compile(r"^[A-Z0-9]{3}$")),
        token_encoding=encoding,
        registered_token=_optional_token(config, "registered_token"),
        our_token=_optional_token(config, "our_token"),
        concurrency=int(_number(config, "concurrency", 8, int)),
        page_size=int(_number(config, "page_size", 100, int)),
        tariff_ttl_s=_number(config, "tariff_ttl_s", 300.0),
    )
