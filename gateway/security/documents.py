"""Parsing with a token limit and a bounded cache of parsed documents.

The cache returns the same ``DocumentNode`` for the same text, so the schema's validation cache
(keyed by document, :mod:`resolvers.execution.phases`) runs the validation rules, query limits
included, once per distinct text.
A text that does not parse is not cached; Strawberry parses it again itself, which is where it
turns the syntax error (or the token limit) into a normal GraphQL error response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, parse
from strawberry.types import ExecutionContext

Parser = Callable[[str], DocumentNode]


def document_cache(max_tokens: int, maxsize: int) -> Parser:
    """A parser limited to ``max_tokens`` tokens (and comments), remembering ``maxsize`` texts."""

    @lru_cache(maxsize=maxsize)
    def cached(query: str) -> DocumentNode:
        parsed = parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)
        document = object.__new__(CachedDocument)
        document.__dict__.update(parsed.__dict__)
        return document

    return cached


class CachedDocument(DocumentNode):
    """A parsed document that is its own cache key: hashed and compared by identity.

    graphql-core's nodes are frozen dataclasses whose hash walks the whole tree, and the validation
    cache hashes the document on every request; this cache hands out one object per text, so
    identity is the same key at a constant cost.
    """

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


CachedDocument.kind = "document"  # not "cached_document": visitors dispatch on the kind


def limit_parsing(execution_context: ExecutionContext, max_tokens: int) -> None:
    """The token limit, for when Strawberry parses the text itself (after a failure of the cache)."""
    # Ignored: Strawberry's ParseOptions names only max_tokens, but it passes every key on to
    # graphql-core's parse.
    options: dict[str, object] = execution_context.parse_options  # type: ignore[assignment]
    options["max_lexical_tokens"] = options["max_comments"] = max_tokens


def parse_cached(execution_context: ExecutionContext, parser: Parser) -> None:
    """The operation's document from ``parser`` (a :func:`document_cache`), before Strawberry's own
    parse step, which then has nothing left to do."""
    ec = execution_context
    if ec.query and ec.graphql_document is None:
        # Raised here, the error would escape Strawberry's handling: let it parse again.
        with contextlib.suppress(GraphQLError):
            ec.graphql_document = parser(ec.query)
