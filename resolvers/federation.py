"""Apollo Federation 2: ``_entities`` resolved in one batch per entity type, and the public SDL.

A router sends ``_entities(representations: [{__typename, id}, …])``. Every representation joins
the request's loader for its type (:func:`entity_loader`), so a call costs one batch per type
whatever the number of representations, and the same entity asked twice in a request is loaded
once. What a representation resolves to is exactly what ``node(id)`` answers: an unknown id, an id
of another type, or someone else's session, bill or driver record is null.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_scalar_type,
)
from graphql.utilities.print_schema import print_type
from strawberry.types import Info

from resolvers import ids
from resolvers.context import RequestContext
from resolvers.drivers.driver import current_driver, driver, owned_node
from resolvers.execution.loaders import BatchLoader
from resolvers.stations import types as t
from resolvers.stations.hydrate import Wants, hydrate, operator

# Fields and types the federation spec adds to a subgraph; clients of our own API never need them.
FEDERATION_FIELDS = frozenset({"_entities", "_service"})
FEDERATION_TYPES = frozenset({"_Any", "_Entity", "_Service", "_FieldSet", "link__Import", "link__Purpose"})

Loaded = t.Node | None


@dataclass(frozen=True, slots=True)
class Lookup:
    """What an entity batch is loaded for: the request, the selection and the calling driver."""

    ctx: RequestContext
    info: Info
    wants: Wants  # which upstream data the selection needs (live status, prices)
    me: str | None  # the driver of the forwarded Authorization header; None when anonymous


BatchFn = Callable[[Lookup, list[str]], Awaitable[Sequence[Loaded]]]


async def _operators(lookup: Lookup, keys: list[str]) -> list[Loaded]:
    ops = lookup.ctx.runtime.operators
    out: list[Loaded] = []
    for key in keys:
        decoded = ids.decode(key)
        found = decoded and decoded[0] == "Operator" and len(decoded[1]) == 1 and ops.get(decoded[1][0])
        out.append(operator(found.info) if found else None)
    return out


async def _stations(lookup: Lookup, keys: list[str]) -> list[Loaded]:
    catalogue = lookup.ctx.runtime.catalogue
    found = []
    for key in keys:
        decoded = ids.decode(key)
        ok = decoded is not None and decoded[0] == "Station" and len(decoded[1]) == 2
        found.append(catalogue.station(*decoded[1]) if ok and decoded else None)
    hydrated = iter(await hydrate(lookup.ctx, [s for s in found if s is not None], lookup.wants))
    return [next(hydrated) if s is not None else None for s in found]


async def _connectors(lookup: Lookup, keys: list[str]) -> list[Loaded]:
    catalogue = lookup.ctx.runtime.catalogue
    found = []
    for key in keys:
        decoded = ids.decode(key)
        ok = decoded is not None and decoded[0] == "Connector" and len(decoded[1]) == 2
        found.append(catalogue.connector(*decoded[1]) if ok and decoded else None)
    stations = {id(pair[0]): pair[0] for pair in found if pair is not None}  # each station hydrated once
    nodes = dict(zip(stations, await hydrate(lookup.ctx, list(stations.values()), lookup.wants), strict=True))
    out: list[Loaded] = []
    for pair in found:
        if pair is None:
            out.append(None)
            continue
        station, connector = pair
        index = [c.id for c in station.connectors].index(connector.id)
        out.append(nodes[id(station)].connectors[index])
    return out


def _owned(kind: str) -> BatchFn:
    async def load(lookup: Lookup, keys: list[str]) -> list[Loaded]:
        info, me = lookup.info, lookup.me
        if me is None:  # anonymous: nothing a driver owns is visible
            return [None] * len(keys)
        out: list[Loaded] = []
        for key in keys:
            decoded = ids.decode(key)
            if decoded is None or decoded[0] != kind or len(decoded[1]) != 1:
                out.append(None)
            elif kind == "Driver":  # ensure_driver only for the caller's own record
                out.append(await driver(info, me) if decoded[1][0] == me else None)
            else:
                out.append(await owned_node(info, kind, decoded[1][0]))
        return out

    return load


OWNED = frozenset({"ChargingSession", "Bill", "Driver"})  # resolved only for their driver
ENTITIES: dict[str, BatchFn] = {
    "Operator": _operators,
    "Station": _stations,
    "Connector": _connectors,
    "ChargingSession": _owned("ChargingSession"),
    "Bill": _owned("Bill"),
    "Driver": _owned("Driver"),
}


def entity_loader(lookup: Lookup, kind: str) -> BatchLoader[str, Loaded]:
    """The request's loader for ``kind`` entities fetched with ``lookup.wants`` (one per type and
    request as a rule: a router's ``_entities`` call selects the same fields for each of a type)."""
    key = (kind, lookup.wants, lookup.me)
    loaders = lookup.ctx.entity_loaders
    loader = loaders.get(key)
    if loader is None:
        loader = loaders[key] = BatchLoader(partial(ENTITIES[kind], lookup))
    return loader


def _bad(index: int, message: str) -> GraphQLError:
    return GraphQLError(f"representations[{index}]: {message}", extensions={"code": "BAD_USER_INPUT"})


async def resolve_entities(info: Info, representations: list[Any]) -> list[Any]:
    """The entities for ``representations``, in order: an object, null, or an error for that item."""
    ctx: RequestContext = info.context
    limit = ctx.runtime.settings.gateway.max_page_size
    if len(representations) > limit:
        raise GraphQLError(
            f"_entities takes at most {limit} representations per call.",
            extensions={"code": "BAD_USER_INPUT", "limit": limit},
        )
    # As with node(id): the driver's token is read only for what drivers own, so a token that is
    # not valid fails a call asking for sessions, bills or drivers, never one for stations.
    owned = any(isinstance(rep, dict) and rep.get("__typename") in OWNED for rep in representations)
    lookup = Lookup(ctx, info, Wants.of(info), current_driver(info) if owned else None)
    results: list[Any] = []
    waits: list[tuple[int, Awaitable[list[Loaded]]]] = []
    for index, rep in enumerate(representations):
        kind = rep.get("__typename") if isinstance(rep, dict) else None
        key = rep.get("id") if isinstance(rep, dict) else None
        if kind not in ENTITIES:
            results.append(_bad(index, f"__typename must be one of {', '.join(sorted(ENTITIES))}"))
        elif not isinstance(key, str):
            results.append(_bad(index, "id must be a string, the entity's global ID"))
        else:
            results.append(None)
            # Joined now, before anything is awaited: every representation of a type shares a batch.
            waits.append((index, entity_loader(lookup, kind).load_many((key,))))
    for index, wait in waits:
        results[index] = (await wait)[0]
    return results


def public_sdl(schema: GraphQLSchema) -> str:
    """The SDL of our own API (types sorted by name): the schema without what the federation spec
    adds to a subgraph (``_entities``, ``_service``, their types and the federation directives)."""
    printed = []
    for name in sorted(schema.type_map):
        named = schema.type_map[name]
        if name in FEDERATION_TYPES or is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        if named is schema.query_type:
            fields = {k: f for k, f in named.fields.items() if k not in FEDERATION_FIELDS}
            named = GraphQLObjectType(named.name, fields, description=named.description)
        printed.append(print_type(named))
    return "\n\n".join(printed)
