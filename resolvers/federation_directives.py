"""The Federation 2 directives our types carry (entity keys, shared value types, internal fields).

They matter only to a router composing the supergraph: ``schema.graphql`` (the public API) prints
without them, ``subgraph.graphql`` (``_service { sdl }``) with them. See docs/federation.md.
"""

from __future__ import annotations

from strawberry.federation.schema_directives import Inaccessible, Key, Shareable
from strawberry.federation.types import FieldSet

KEY = (Key(fields=FieldSet("id")),)  # an entity: any subgraph may reference it by its global ID
SHAREABLE = (Shareable(),)  # a value type other subgraphs may define and resolve too
INACCESSIBLE = (Inaccessible(),)  # in our API, hidden from the supergraph
