"""Small statistics over windows and rounds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench.load import Window


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def summary(windows: Sequence[Window]) -> dict:
    """Medians over rounds of each round's figures, plus totals of requests and failures."""
    return {
        "rounds": len(windows),
        "requests": sum(w.requests for w in windows),
        "failures": sum(w.failures for w in windows),
        "reasons": _merge([w.reasons for w in windows]),
        "throughput": median([w.throughput for w in windows]),
        "p50_ms": median([ms(percentile(w.latencies, 50)) for w in windows]),
        "p99_ms": median([ms(percentile(w.latencies, 99)) for w in windows]),
        "cpu_us": median([w.cpu_us_per_request for w in windows]),
    }


def ratios(a: Sequence[float | None], b: Sequence[float | None]) -> list[float]:
    """Per-round ratios a/b (rounds where either is missing are skipped)."""
    return [x / y for x, y in zip(a, b, strict=True) if x is not None and y]


def versus(a: Sequence[Window], b: Sequence[Window]) -> dict[str, list[float]]:
    """Per-round ratios of ``a``'s CPU per request and p50 latency to ``b``'s (round i against round i)."""
    return {
        "cpu": ratios([w.cpu_us_per_request for w in a], [w.cpu_us_per_request for w in b]),
        "p50": ratios([percentile(w.latencies, 50) for w in a], [percentile(w.latencies, 50) for w in b]),
    }


def _merge(dicts: Sequence[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out
