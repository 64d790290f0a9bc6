"""The schema extension that verifies the caller's bearer token once before each operation."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class Authentication(SchemaExtension):
    """Awaits ``RequestContext.authenticate`` so resolvers can read the driver synchronously."""

    async def on_execute(self) -> AsyncIterator[None]:
        authenticate = getattr(self.execution_context.context, "authenticate", None)
        if authenticate is not None:
            await authenticate()
        yield
