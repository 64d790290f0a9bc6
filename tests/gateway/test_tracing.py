"""Optional tracing: off by default with nothing imported, and when on, spans for the GraphQL
operation and for every upstream call (with the operator, the method and any error)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.observability.metrics import Metrics
from gateway.observability.tracing import instrument_schema, upstream_tracer
from gateway.settings.load import ConfigError, TracingSettings, load
from gateway.upstream.instrumented import UpstreamMetrics
from operators.base import OperatorTimeout
from resolvers.schema import build_schema

ON = TracingSettings(enabled=True, exporter="console")


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_tracing_is_off_by_default_and_imports_nothing():
    code = (
        "import sys\n"
        "from gateway.app.asgi import create_app\n"
        "from gateway.settings.load import Settings\n"
        "create_app(Settings())\n"
        "names = ('strawberry.extensions.tracing', 'opentelemetry.sdk.trace')\n"
        "print(sorted(m for m in sys.modules if m.startswith(names)))\n"
    )
    # (redis-py imports parts of OpenTelemetry for its own metrics when it is installed; not these.)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    schema = build_schema()
    before = schema.extensions
    instrument_schema(schema, TracingSettings())
    assert schema.extensions == before
    assert upstream_tracer(TracingSettings()) is None


async def test_upstream_calls_get_client_spans(spans):
    provider, exporter = spans
    policy = UpstreamMetrics("MA1HZTEST", Metrics(), tracer=upstream_tracer(ON, provider))

    async def ok() -> str:
        return "fine"

    async def slow() -> str:
        raise OperatorTimeout("MA1HZTEST", "no answer in 0.5 s")

    assert await policy("connector_statuses", ok) == "fine"
    with pytest.raises(OperatorTimeout):
        await policy("tariffs", slow)
    good, bad = exporter.get_finished_spans()
    assert good.name == "MA1HZTEST connector_statuses" and good.kind == SpanKind.CLIENT
    assert good.attributes["chargegate.operator"] == "MA1HZTEST"
    assert good.status.status_code == StatusCode.UNSET
    assert bad.name == "MA1HZTEST tariffs" and bad.status.status_code == StatusCode.ERROR
    assert bad.attributes["chargegate.error"] == "OPERATOR_TIMEOUT"
    assert len(policy.recent) == 2  # still measured


async def test_the_schema_traces_operations_when_on(spans):
    provider, exporter = spans
    schema = build_schema()
    instrument_schema(schema, ON, provider)
    result = await schema.execute("query Ping { __typename }")
    assert result.errors is None
    names = [s.name for s in exporter.get_finished_spans()]
    assert "GraphQL Query: Ping" in names and "GraphQL Parsing" in names


def test_tracing_settings_are_checked():
    assert load(None, env={"CHARGEGATE__TRACING__ENABLED": "true"}).tracing.enabled is True
    with pytest.raises(ConfigError, match=r"tracing\.exporter"):
        load(None, env={"CHARGEGATE__TRACING__EXPORTER": "jaeger"})
    with pytest.raises(ConfigError, match=r"tracing\.sample_ratio"):
        load(None, env={"CHARGEGATE__TRACING__SAMPLE_RATIO": "2"})
