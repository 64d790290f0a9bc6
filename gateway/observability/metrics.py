"""Prometheus metrics, one registry per app so several apps (tests, replicas in-process) never clash."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.request_seconds = Histogram(
            "chargegate_graphql_request_seconds",
            "GraphQL operation latency",
            ["operation"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.upstream_seconds = Histogram(
            "chargegate_upstream_seconds",
            "Latency of calls to operators",
            ["operator", "method"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.upstream_errors = Counter(
            "chargegate_upstream_errors",
            "Failed calls to operators",
            ["operator", "method", "code"],
            registry=r,
        )
        self.cache_hits = Counter("chargegate_cache_hits", "Cache hits", ["kind"], registry=r)
        self.cache_misses = Counter("chargegate_cache_misses", "Cache misses", ["kind"], registry=r)
        self.breaker_open = Gauge(
            "chargegate_breaker_open", "1 while an operator's circuit is open", ["operator"], registry=r
        )
        self.catalogue_stations = Gauge(
            "chargegate_catalogue_stations", "Stations in the catalogue", ["operator"], registry=r
        )
        self.pushes = Counter("chargegate_pushes", "Pushes applied", ["operator", "kind"], registry=r)
        self.compiled_fallbacks = Counter(
            "chargegate_compiled_fallbacks",
            "Root fields completed by graphql-core's stock path instead of the compiled one, by reason",
            ["reason"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
