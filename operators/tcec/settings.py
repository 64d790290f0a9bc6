"""Validated settings of one T/CEC operator, parsed from its config table.

Keys: ``id`` (the partner's OperatorID), ``name``, ``base_url``, ``our_operator_id`` (ours: 9
characters, because StartChargeSeq is it plus 18, §4), ``operator_secret``, ``data_secret``,
``data_iv``, ``sig_secret`` (16 characters each, §3.1), ``timeout_s`` (2.0), ``profile`` ("2016",
see :mod:`operators.tcec.profile`), ``page_size`` (50), ``status_batch`` (50, at most 50 per §2.4),
``max_concurrency`` (8) and ``push_window_s`` (600: how far a push's TimeStamp may be from our
clock, see :mod:`operators.tcec.replay`). Every problem raises :class:`OperatorConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from operators.base import OperatorConfigError
from operators.tcec.codec import Secrets
from operators.tcec.profile import Profile, resolve_profile
from operators.tcec.replay import DEFAULT_WINDOW_S

MAX_STATUS_BATCH = 50  # §2.4 / §5.3: query_station_status takes at most 50 station ids


@dataclass(frozen=True, slots=True)
class TcecSettings:
    id: str
    name: str
    base_url: str
    our_operator_id: str
    operator_secret: str = field(repr=False)
    secrets: Secrets = field(repr=False)
    profile: Profile
    timeout_s: float = 2.0
    page_size: int = 50
    status_batch: int = MAX_STATUS_BATCH
    max_concurrency: int = 8
    push_window_s: float = DEFAULT_WINDOW_S


def parse_settings(config: Mapping[str, object]) -> TcecSettings:
    secrets = {key: _secret(config, key) for key in ("data_secret", "data_iv", "sig_secret")}
    return TcecSettings(
        # §2.1: a 9-character organisation code; some partners use the 18-character credit code.
        id=_operator_id(config, "id", (9, 18)),
        name=_text(config, "name"),
        base_url=_base_url(config),
        our_operator_id=_operator_id(config, "our_operator_id", (9,)),
        operator_secret=_secret(config, "operator_secret"),
        secrets=Secrets(**secrets),
        profile=resolve_profile(config.get("profile", "2016")),
        timeout_s=_number(config, "timeout_s", 2.0, low=0.01, high=120.0),
        page_size=int(_number(config, "page_size", 50, low=1, high=1000, integer=True)),
        status_batch=int(
            _number(config, "status_batch", MAX_STATUS_BATCH, low=1, high=MAX_STATUS_BATCH, integer=True)
        ),
        max_concurrency=int(_number(config, "max_concurrency", 8, low=1, high=256, integer=True)),
        push_window_s=_number(config, "push_window_s", DEFAULT_WINDOW_S, low=10, high=86400),
    )


def _text(config: Mapping[str, object], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OperatorConfigError(key, "is required and must be a non-empty string")
    return value


def _operator_id(config: Mapping[str, object], key: str, lengths: tuple[int, ...]) -> str:
    value = _text(config, key)
    if len(value) not in lengths or not value.isascii() or not value.isalnum():
        raise OperatorConfigError(key, f"must be {' or '.join(map(str, lengths))} letters or digits")
    return value


def _secret(config: Mapping[str, object], key: str) -> str:
    value = _text(config, key)
    if len(value.encode("utf-8")) != 16:  # §3.1: the 16 ASCII bytes are the key itself
        raise OperatorConfigError(key, "must be exactly 16 ASCII characters")  # never echo the value
    return value


def _base_url(config: Mapping[str, object]) -> str:
    value = _text(config, "base_url")
    if not value.startswith(("http://", "https://")):
        raise OperatorConfigError("base_url", "must be an http:// or https:// URL")
    return value.rstrip("/")


def _number(
    config: Mapping[str, object], key: str, default: float, *, low: float, high: float, integer: bool = False
) -> float:
    value = config.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not float(value).is_integer())
    ):
        raise OperatorConfigError(key, "must be an integer" if integer else "must be a number")
    if not low <= value <= high:
        raise OperatorConfigError(key, f"must be between {low:g} and {high:g}")
    return float(value)
