"""Automatic persisted queries: register by hash, answer by hash, bounded, hash checked."""

import hashlib

import pytest
from strawberry.http import GraphQLRequestData

from gateway.security.persisted import PersistedQueries, PersistedQueryError

QUERY = "{ operators { id } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()


def request(query: str | None, sha: str = SHA, version: int = 1) -> GraphQLRequestData:
    extensions = {"persistedQuery": {"version": version, "sha256Hash": sha}}
    return GraphQLRequestData(query=query, variables=None, operation_name=None, extensions=extensions)


def test_unknown_hash_then_register_then_hash_alone():
    store = PersistedQueries(10)
    with pytest.raises(PersistedQueryError) as caught:
        store.resolve(request(None))
    assert caught.value.code == "PERSISTED_QUERY_NOT_FOUND"
    assert caught.value.graphql_error().extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert store.resolve(request(QUERY)).query == QUERY
    assert store.resolve(request(None)).query == QUERY


def test_a_query_that_does_not_match_its_hash_is_refused_and_not_stored():
    store = PersistedQueries(10)
    with pytest.raises(PersistedQueryError) as caught:
        store.resolve(request("{ evil }"))
    assert caught.value.code == "PERSISTED_QUERY_HASH_MISMATCH"
    assert len(store) == 0


@pytest.mark.parametrize(("capacity", "version", "code"), [(0, 1, "NOT_SUPPORTED"), (10, 2, "NOT_SUPPORTED")])
def test_disabled_or_unknown_versions(capacity, version, code):
    with pytest.raises(PersistedQueryError) as caught:
        PersistedQueries(capacity).resolve(request(QUERY, version=version))
    assert caught.value.code == f"PERSISTED_QUERY_{code}"


def test_requests_without_the_extension_pass_through():
    data = GraphQLRequestData(query=QUERY, variables=None, operation_name=None, extensions={"other": 1})
    assert PersistedQueries(10).resolve(data) is data


def test_the_store_keeps_the_most_recently_used():
    store = PersistedQueries(2)
    queries = [f"{{ q{i}: __typename }}" for i in range(3)]
    hashes = [hashlib.sha256(q.encode()).hexdigest() for q in queries]
    store.put(hashes[0], queries[0])
    store.put(hashes[1], queries[1])
    assert store.get(hashes[0]) == queries[0]  # now the most recent
    store.put(hashes[2], queries[2])
    assert store.get(hashes[1]) is None and store.get(hashes[0]) == queries[0] and len(store) == 2
