"""Automatic persisted queries (Apollo's protocol) for frontends.

A client first sends only ``extensions.persistedQuery = {version: 1, sha256Hash}``; if the gateway
has not seen that hash it answers ``PERSISTED_QUERY_NOT_FOUND`` and the client retries with the
query text as well, which is checked against the hash and remembered. After that the hash alone
is enough, so a large query costs a few bytes per request (and fits in a cacheable GET URL).

The store is a bounded LRU in this process; a shared one (Redis) would fit behind the same two
methods.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def graphql_error(self) -> GraphQLError:
        return GraphQLError(str(self), extensions={"code": self.code})


class PersistedQueries:
    """Hash → query text, the ``capacity`` most recently used kept (0 disables the feature)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, sha256: str) -> str | None:
        query = self._queries.get(sha256)
        if query is not None:
            self._queries.move_to_end(sha256)
        return query

    def put(self, sha256: str, query: str) -> None:
        self._queries[sha256] = query
        self._queries.move_to_end(sha256)
        while len(self._queries) > self.capacity:
            self._queries.popitem(last=False)

    def resolve(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """``data`` with its query filled in from the store (or the store filled from it).

        Raises :class:`PersistedQueryError` for an unknown hash without a query, a query that
        does not match its hash, or any persisted-query request while the feature is off.
        """
        sha256 = _requested_hash(data.extensions)
        if sha256 is None:
            return data
        if self.capacity == 0:
            raise PersistedQueryError(NOT_SUPPORTED, "PersistedQueryNotSupported")
        if data.query is None:
            query = self.get(sha256)
            if query is None:
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
            return replace(data, query=query)
        if hashlib.sha256(data.query.encode()).hexdigest() != sha256:
            raise PersistedQueryError(HASH_MISMATCH, "provided sha does not match query")
        self.put(sha256, data.query)
        return data


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(NOT_SUPPORTED, "Unsupported persisted query version")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise PersistedQueryError(HASH_MISMATCH, "persistedQuery.sha256Hash must be 64 hex digits")
    return sha256.lower()
