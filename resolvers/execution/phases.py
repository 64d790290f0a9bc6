"""The gateway's one schema extension: one hook per phase of every operation, in this order.

- operation: the parser's token limit and our validation rules; the operation timed for
  ``/metrics`` (no per-field hooks: off the hot path); once it has run, its errors shaped
  (:func:`resolvers.errors.shape_errors`);
- parse: the document from the bounded cache of parsed texts (:mod:`gateway.security.documents`);
- validate: the verdict on that document from a bounded cache, so the rules, query limits
  included, run once per distinct text;
- execute: the caller's bearer token verified (so resolvers read the driver synchronously), then
  the operation's root fields checked against the API key's scopes (:mod:`gateway.security.authz`).

One extension rather than one per concern: Strawberry builds every extension for every request
and wraps each hook it finds in a context manager per phase, which cost more than the steps.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from graphql import ASTValidationRule
from strawberry.extensions import SchemaExtension

from gateway.security.authz import check_scopes
from gateway.security.documents import Parser, limit_parsing, parse_cached
from resolvers.errors import shape_errors

Validate = Callable[..., Any]  # (schema, document, rules) -> errors, cached


def operation_label(name: str | None) -> str:
    """An operation's name as ``/metrics`` labels it (bounded: clients choose the names)."""
    return (name or "anonymous")[:64]


class GatewayPhases(SchemaExtension):
    """Use with ``functools.partial``: the parser, token limit, rules and validator are the schema's."""

    def __init__(
        self, parser: Parser, max_tokens: int, rules: Sequence[type[ASTValidationRule]], validate: Validate
    ) -> None:
        super().__init__()
        self.parser = parser
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.validate = validate

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        limit_parsing(ec, self.max_tokens)
        ec.validation_rules = ec.validation_rules + self.rules
        start = time.perf_counter()
        yield
        runtime = getattr(ec.context, "runtime", None)
        if runtime is not None:
            label = operation_label(ec.operation_name)
            runtime.metrics.request_seconds.labels(label).observe(time.perf_counter() - start)
        shape_errors(ec)

    def on_parse(self) -> Iterator[None]:
        parse_cached(self.execution_context, self.parser)
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        ec.pre_execution_errors = self.validate(ec.schema._schema, ec.graphql_document, ec.validation_rules)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        authenticate = getattr(ec.context, "authenticate", None)
        if authenticate is not None:
            await authenticate()
        check_scopes(ec)
        yield
