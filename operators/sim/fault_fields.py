"""Checks and JSON updates shared by the simulators' fault settings (frozen dataclasses with
``latency_ms``, probabilities named in ``rates`` and a ``down`` switch)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

F = TypeVar("F", bound="DataclassInstance")


def validate(faults: Any, rates: Iterable[str]) -> None:
    if faults.latency_ms < 0:
        raise ValueError("latency_ms must be >= 0")
    for name in rates:
        if not 0.0 <= getattr(faults, name) <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")


def updated(faults: F, changes: Any) -> F:
    """A copy with ``changes`` (field name → JSON value) applied; ValueError on bad input."""
    if not isinstance(changes, dict):
        raise ValueError("faults must be a JSON object")
    unknown = set(changes) - {f.name for f in dataclasses.fields(faults)}
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "down":
            if not isinstance(value, bool):
                raise ValueError("down must be a boolean")
            clean[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            clean[name] = float(value)
        else:
            raise ValueError(f"{name} must be a number")
    return dataclasses.replace(faults, **clean)
