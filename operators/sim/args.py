"""Argument types shared by the simulators' command lines (``chargegate simulate …``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def bounded(low: float, high: float | None = None, kind: type = float) -> Callable[[str], Any]:
    """An argparse ``type`` for a number of ``kind`` within [low, high]."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {kind.__name__}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be between {low} and {high}" if high is not None else f"must be >= {low}"
            )
        return value

    return parse


rate = bounded(0.0, 1.0)
"""A fault-injection probability."""


def center(text: str) -> tuple[float, float]:
    """``LAT,LON`` within the valid ranges."""
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be LAT,LON, e.g. 30.274,120.155") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError("latitude must be within ±90 and longitude within ±180")
    return lat, lon
