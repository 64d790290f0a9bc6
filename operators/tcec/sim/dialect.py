"""How the simulator speaks a partner's dialect (a :class:`~operators.tcec.profile.Profile`).

Everything the simulator builds is canonical (2016 spelling, JSON numbers); :func:`speak` turns a
payload into what that partner would send — its ``renames`` for the interface, its ``Service*``
spelling, lower-case first letters, numbers as strings — and :func:`hear` reads what the
aggregator sent back into canonical keys, as our own receiver does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from operators.tcec.profile import Profile


def speak(profile: Profile, interface: str, payload: Any) -> Any:
    """``payload`` (canonical) as ``profile``'s partner sends it on ``interface``."""
    return _speak(profile, profile.renames.get(interface, {}), payload)


def _speak(profile: Profile, renames: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _key(profile, renames, key): _value(profile, renames, key, item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_speak(profile, renames, item) for item in value]
    return value


def _value(profile: Profile, renames: Any, key: str, item: Any) -> Any:
    number = isinstance(item, int | float | Decimal) and not isinstance(item, bool)
    if number and ("*" in profile.string_fields or key in profile.string_fields):
        return str(item)
    return _speak(profile, renames, item)


def _key(profile: Profile, renames: Any, key: str) -> str:
    key = renames.get(key, key)
    if profile.service_spelling == "Service":
        key = key.replace("Sevice", "Service")
    return key[:1].lower() + key[1:] if profile.lower_first_keys else key


def hear(profile: Profile, payload: Any) -> Any:
    """What the aggregator sent, in canonical keys (the partner reads liberally too)."""
    return profile.normalise(payload)
