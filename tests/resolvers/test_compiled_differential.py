"""The compiled completion held to graphql-core on the real schema: thousands of generated queries.

hypothesis-graphql generates valid query operations over the production schema; each is rewritten
to hit real data (station searches around the simulators' centres, ``node`` and QR lookups with
ids that exist) and to wrap selections in fragments on the object's own type, its interfaces and
the unions that hold it (inline and named, nested as the spec allows). Each operation then runs
through the compiled and the stock graphql-core completion, in-process, over a fixed data set — two
T/CEC simulators with fixed seeds whose connectors never change on their own — with the same
request time; ``data`` and ``errors`` must be identical, every time. The examples are derandomized
(the same operations every run); raise ``CHARGEGATE_DIFF_EXAMPLES`` for a deeper hunt.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import hypothesis_graphql
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    SelectionSetNode,
    StringValueNode,
    get_named_type,
    print_ast,
    validate,
)
from hypothesis import HealthCheck, Phase, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.identity.bearer import issue_token
from gateway.security.limits import QueryLimits
from gateway.settings.load import AuthSettings, BreakerSettings, CacheSettings, GatewaySettings, Settings
from resolvers import ids
from resolvers.context import RequestContext
from resolvers.execution.compiled import CompiledExecutionContext
from resolvers.schema import build_schema
from tests.app.conftest import CENTERS, DEADLINE_S, running_stack

EXAMPLES = int(os.environ.get("CHARGEGATE_DIFF_EXAMPLES", "2000"))
JWT_KEY = "differential-jwt-key-0123456789abcdef"
RADII = ("0.5", "2", "5", "20")
LIMITS = QueryLimits(introspection=True, max_depth=20, max_aliases=1000, max_cost=10**9, max_tokens=10**6)


@st.composite
def operations(draw: st.DrawFn, schema: GraphQLSchema, real: dict[str, list[str]]) -> str:
    assert schema.query_type is not None
    document = draw(
        hypothesis_graphql.queries(
            schema,
            fields=[
                name for name in schema.query_type.fields if not name.startswith("_")
            ],  # not federation's
            custom_scalars={
                "Decimal": st.decimals(0, 200, places=2).map(lambda d: StringValueNode(value=str(d))),
                "DateTime": st.just(StringValueNode(value="2026-01-02T03:04:05Z")),
            },
            print_ast=lambda d: d,
            allow_x00=False,
        )
    )
    rewrite = Rewrite(draw, schema, real)
    operation = document.definitions[0]
    body = rewrite.selections(schema.query_type, operation.selection_set, root=True)
    document = DocumentNode(definitions=(replace(operation, selection_set=body), *rewrite.fragments))
    assume(not validate(schema, document))  # a rewrite that broke a rule (rare): skip it
    return print_ast(document)


class Rewrite:
    """Real ids in arguments, and selections wrapped in fragments on types that hold the object."""

    def __init__(self, draw: st.DrawFn, schema: GraphQLSchema, real: dict[str, list[str]]) -> None:
        self.draw, self.schema, self.real = draw, schema, real
        self.fragments: list[FragmentDefinitionNode] = []

    def selections(
        self, parent: Any, selection_set: SelectionSetNode, root: bool = False
    ) -> SelectionSetNode:
        out: list[Any] = []
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode) and sel.selection_set is not None:
                field_type = get_named_type(parent.fields[sel.name.value].type)
                sel = replace(
                    sel,
                    arguments=tuple(self.argument(sel.name.value, a) for a in sel.arguments)
                    if root
                    else sel.arguments,
                    selection_set=self.selections(field_type, sel.selection_set),
                )
            elif isinstance(sel, InlineFragmentNode):
                condition = (
                    self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                )
                sel = replace(sel, selection_set=self.selections(condition, sel.selection_set))
            out.append(sel)
        if isinstance(parent, GraphQLObjectType) and not root:
            if self.draw(st.booleans()):
                out.append(FieldNode(name=NameNode(value="__typename")))
            if len(out) > 1 and self.draw(st.booleans()):
                cut = self.draw(st.integers(0, len(out) - 1))
                out[cut:] = [self.wrapped(parent, out[cut:])]
        return SelectionSetNode(selections=tuple(out))

    def wrapped(self, parent: GraphQLObjectType, inner: list[Any]) -> Any:
        """``inner`` under a fragment on ``parent``, an interface it implements or a union holding it."""
        unions = [t for t in self.schema.type_map.values() if getattr(t, "types", None) and parent in t.types]
        condition = self.draw(st.sampled_from([parent, *parent.interfaces, *unions]))
        if condition is not parent and not (
            isinstance(condition, GraphQLInterfaceType)
            and all(isinstance(s, FieldNode) and s.name.value in condition.fields for s in inner)
        ):
            inner = [InlineFragmentNode(type_condition=named(parent), selection_set=selection_set(inner))]
            if not isinstance(condition, GraphQLInterfaceType):
                inner.insert(0, FieldNode(name=NameNode(value="__typename")))
        if self.draw(st.booleans()):
            return InlineFragmentNode(type_condition=named(condition), selection_set=selection_set(inner))
        name = f"F{len(self.fragments)}"
        self.fragments.append(
            FragmentDefinitionNode(
                name=NameNode(value=name), type_condition=named(condition), selection_set=selection_set(inner)
            )
        )
        return FragmentSpreadNode(name=NameNode(value=name))

    def argument(self, field: str, arg: ArgumentNode) -> ArgumentNode:
        name = arg.name.value
        if field == "stations" and name == "near":
            lat, lon = self.draw(st.sampled_from(sorted(CENTERS.values())))
            point = [("lat", lat), ("lon", lon)]
            value: Any = ObjectValueNode(
                fields=tuple(
                    ObjectFieldNode(name=NameNode(value=k), value=FloatValueNode(value=str(v)))
                    for k, v in point
                )
            )
        elif field == "stations" and name == "radiusKm":
            value = FloatValueNode(value=self.draw(st.sampled_from(RADII)))
        elif field == "node" and name == "id":
            value = StringValueNode(value=self.draw(st.sampled_from(self.real["ids"])))
        elif field == "connectorByQrCode" and name == "code":
            value = StringValueNode(value=self.draw(st.sampled_from(self.real["codes"])))
        else:
            return arg
        return replace(arg, value=value)


def named(gtype: Any) -> NamedTypeNode:
    return NamedTypeNode(name=NameNode(value=gtype.name))


def selection_set(selections: list[Any]) -> SelectionSetNode:
    return SelectionSetNode(selections=tuple(selections))


def real_data(runtime: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"ids": [], "codes": []}
    for lat, lon in CENTERS.values():
        for _, station in runtime.catalogue.near(lat, lon, 3)[:10]:
            found["ids"].append(ids.station_id(station.operator_id, station.id))
            for connector in station.connectors:
                found["ids"].append(ids.connector_id(station.operator_id, connector.id))
                if connector.qr_code:
                    found["codes"].append(connector.qr_code)
    found["ids"] += [ids.operator_id(op) for op in CENTERS]
    return found


def answer(result: Any) -> tuple[Any, list[str]]:
    return result.data, sorted(str(e.formatted) for e in result.errors or [])


async def test_compiled_and_stock_completion_answer_the_same_on_generated_queries():
    settings = Settings(
        gateway=GatewaySettings(mode="dev", request_deadline_s=DEADLINE_S),
        cache=CacheSettings(status_ttl_s=3600, status_push_ttl_s=3600, tariff_ttl_s=3600),
        breaker=BreakerSettings(failure_threshold=3, reset_after_s=60),
        auth=AuthSettings(jwt_key=JWT_KEY),
    )
    compiled = build_schema(LIMITS)
    stock = build_schema(LIMITS)
    stock.execution_context_class = StrawberryGraphQLCoreExecutionContext  # graphql-core's own completion
    request = SimpleNamespace(headers={"authorization": f"Bearer {issue_token('alice', JWT_KEY)}"}, scope={})
    started = time.monotonic()
    differences: list[str] = []
    counts = {"operations": 0, "with data": 0}
    contexts: list[tuple[RequestContext, RequestContext]] = []
    async with running_stack(settings) as stack:
        loop = asyncio.get_running_loop()
        real = real_data(stack.runtime)
        assert len(real["ids"]) > 20 and real["codes"]

        async def pair(query: str) -> tuple[tuple[Any, list[str]], tuple[Any, list[str]]]:
            first = RequestContext.create(stack.runtime, request)
            ours = answer(await compiled.execute(query, context_value=first))
            # The same clock reading (prices in force now), but a deadline of its own: on a loaded
            # machine the first run may use up most of a shared one.
            second = RequestContext(stack.runtime, request, first.deadline, first.now)
            second.renew_deadline()
            theirs = answer(await stock.execute(query, context_value=second))
            # Kept to the end: loaders of fields abandoned by null bubbling may still be running,
            # and they reach their context through a weak proxy.
            contexts.append((first, second))
            return ours, theirs

        async def both(query: str) -> None:
            ours, theirs = await pair(query)
            for _ in range(2):  # an upstream call that timed out on one side only is no completion
                if not any("OPERATOR_UNAVAILABLE" in e for e in ours[1] + theirs[1]):
                    break
                ours, theirs = await pair(query)  # statuses and tariffs are cached for an hour by now
            counts["operations"] += 1
            counts["with data"] += bool(ours[0])
            if ours != theirs:
                differences.append(f"{query}\ncompiled: {ours}\nstock:    {theirs}")

        @given(query=operations(compiled._schema, real))
        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
        )
        def run(query: str) -> None:
            asyncio.run_coroutine_threadsafe(both(query), loop).result(timeout=60)

        await asyncio.to_thread(run)
    print(f"differential: {counts} in {time.monotonic() - started:.1f}s")
    assert not differences, f"{len(differences)} differences, the first:\n" + "\n\n".join(differences[:3])
    assert counts["operations"] >= EXAMPLES * 0.9
    assert counts["with data"] >= counts["operations"] // 2  # the rewrite reaches real data


def test_the_production_schema_completes_the_compiled_way():
    assert issubclass(build_schema().execution_context_class, CompiledExecutionContext)
