"""Which texts PreparedOperations prepares (the HTTP side is tests/app/test_prepared.py)."""

from __future__ import annotations

import pytest

from gateway.observability import tracing
from gateway.settings.sections import TracingSettings
from resolvers.schema import build_schema

SEARCH = "query S($near: GeoPointInput!) { stations(near: $near) { totalCount } }"


def test_a_query_is_prepared_the_second_time_it_is_seen():
    prepared = build_schema().prepared
    assert prepared is not None
    assert prepared.get(SEARCH, None) is None  # first sight: prepared now, run the stock way
    operation = prepared.get(SEARCH, None)
    assert operation is not None and operation.label == "S" and operation.direct is not None
    assert prepared.get(SEARCH, "Other") is None  # another operation name is another entry


@pytest.mark.parametrize(
    "query",
    [
        'mutation { signOut(refreshToken: "x") }',
        'subscription { chargingSession(id: "x") { id } }',
        "{ stations(near: {lat: 1, lon: 1}) { nope } }",
        "{ stations(",
    ],
)
def test_what_is_never_prepared(query: str):
    prepared = build_schema().prepared
    assert prepared is not None
    assert prepared.get(query, None) is None
    assert prepared.get(query, None) is None


def test_nothing_is_prepared_when_another_extension_wraps_the_phases():
    pytest.importorskip("opentelemetry")
    schema = build_schema()
    tracing.instrument_schema(schema, TracingSettings(enabled=True))
    assert schema.prepared is not None
    schema.prepared.get(SEARCH, None)
    assert schema.prepared.get(SEARCH, None) is None  # tracing's spans wrap Strawberry's phases


def test_the_memory_is_bounded():
    prepared = build_schema().prepared
    assert prepared is not None
    prepared.capacity = 3
    for n in range(5):
        prepared.get(f"query Q{n} {{ operators {{ id }} }}", None)
    assert len(prepared._seen) <= 3
