"""OpenTelemetry tracing, optional and off by default (``[tracing] enabled = false``).

When off, nothing here imports OpenTelemetry and nothing is added to a request's path. When on
(install the ``tracing`` extra), ``chargegate serve`` installs an SDK tracer provider for the
process (service name, sampling ratio, OTLP over HTTP or console exporter), the schema gets
Strawberry's ``OpenTelemetryExtension`` (spans for the operation, parsing, validation and
resolvers; it switches off the compiled completion, so expect more CPU per request), and every
upstream call gets a client span ``<operator> <method>`` from the metrics policy.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from gateway.settings.sections import TracingSettings

if TYPE_CHECKING:
    import strawberry

TRACER_NAME = "chargegate.upstream"


def install(settings: TracingSettings) -> Any:
    """Install the process-wide tracer provider (once, at start-up); None when tracing is off."""
    if not settings.enabled:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if settings.exporter == "console":
        exporter: Any = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint or None)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def instrument_schema(schema: strawberry.Schema, settings: TracingSettings, provider: Any = None) -> None:
    """Add Strawberry's OpenTelemetry extension to ``schema`` when tracing is on."""
    if not settings.enabled:
        return
    from strawberry.extensions.tracing import OpenTelemetryExtension

    schema.extensions = (*schema.extensions, partial(OpenTelemetryExtension, tracer_provider=provider))


def upstream_tracer(settings: TracingSettings, provider: Any = None) -> Any:
    """The tracer for upstream calls (None when tracing is off: the policy then does nothing more)."""
    if not settings.enabled:
        return None
    from opentelemetry import trace

    return trace.get_tracer(TRACER_NAME, tracer_provider=provider)
