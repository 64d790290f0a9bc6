"""``_entities`` over real HTTP: every entity type by id, exactly as ``node(id)`` answers, one batch
per type, router-only in production, and the query limits applied to it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from resolvers import federation
from tests.app.conftest import HZ, SH, running_stack
from tests.federation.conftest import READER, ROUTER, Subgraph, as_router, bearer, settings

SELECTIONS = {
    "Station": "id name location { lat lon } operator { id name } connectors { id status maxPowerKw }",
    "Connector": "id type powerType status station { id name }",
    "Operator": "id name protocol stationCount",
    "ChargingSession": "id sessionStatus: status paymentMode cost { amount currency } connector { id }",
    "Bill": "id billStatus: status total { amount currency } lines { kind amount { amount currency } }",
    "Driver": "id driverName: name",
}
FRAGMENTS = " ".join(f"... on {kind} {{ {fields} }}" for kind, fields in SELECTIONS.items())
ENTITY_SELECTION = f"__typename {FRAGMENTS}"


def kinds_and_ids(subgraph: Subgraph) -> list[tuple[str, str]]:
    i = subgraph.ids
    return [
        ("Station", i.station),
        ("Connector", i.connector),
        ("Operator", i.operator),
        ("ChargingSession", i.session),
        ("Bill", i.bill),
        ("Driver", i.driver),
    ]


async def node(subgraph: Subgraph, global_id: str, headers: dict[str, str]) -> Any:
    body = await subgraph.post(
        {
            "query": f"query ($id: ID!) {{ node(id: $id) {{ __typename {FRAGMENTS} }} }}",
            "variables": {"id": global_id},
        },
        headers,
    )
    assert not body.get("errors"), body
    return body["data"]["node"]


async def test_each_entity_type_resolves_by_id_exactly_like_node(subgraph: Subgraph):
    wanted = kinds_and_ids(subgraph)
    reps = [{"__typename": kind, "id": global_id} for kind, global_id in wanted]
    body = await subgraph.entities(reps, ENTITY_SELECTION, as_router("alice"))
    assert not body.get("errors"), body
    entities = body["data"]["_entities"]
    assert [(e["__typename"], e["id"]) for e in entities] == wanted
    for entity, (_, global_id) in zip(entities, wanted, strict=True):
        assert entity == await node(subgraph, global_id, as_router("alice"))
    station = entities[0]
    assert station["connectors"] and all(c["status"] != "UNKNOWN" for c in station["connectors"])  # live
    assert entities[4]["total"] == {"amount": "12.30", "currency": "CNY"}


async def test_a_station_from_entities_equals_the_same_station_from_search(subgraph: Subgraph):
    """The search result goes through the compiled completion, _entities through graphql-core's."""
    fields = SELECTIONS["Station"]
    near = "near: {lat: 30.274, lon: 120.155}, first: 5"
    query = f"{{ stations({near}) {{ edges {{ node {{ {fields} }} }} }} }}"
    search = await subgraph.post({"query": query}, as_router())
    found = [edge["node"] for edge in search["data"]["stations"]["edges"]]
    reps = [{"__typename": "Station", "id": s["id"]} for s in found]
    body = await subgraph.entities(reps, f"... on Station {{ {fields} }}", as_router())
    assert not body.get("errors") and body["data"]["_entities"] == found


async def test_someone_elses_session_bill_or_driver_is_null_as_with_node(subgraph: Subgraph):
    i = subgraph.ids
    owned = [("ChargingSession", i.session), ("Bill", i.bill), ("Driver", i.driver)]
    reps = [{"__typename": kind, "id": global_id} for kind, global_id in owned]
    for headers in (as_router("bob"), as_router()):  # another driver; anonymous
        body = await subgraph.entities(reps, ENTITY_SELECTION, headers)
        assert not body.get("errors") and body["data"]["_entities"] == [None, None, None]
        assert [await node(subgraph, global_id, headers) for _, global_id in owned] == [None, None, None]
    mine = await subgraph.entities(
        [{"__typename": "ChargingSession", "id": i.bobs_session}],
        "... on ChargingSession { id }",
        as_router("bob"),
    )
    assert mine["data"]["_entities"] == [{"id": i.bobs_session}]
    theirs = await subgraph.entities(
        [{"__typename": "ChargingSession", "id": i.bobs_session}],
        "... on ChargingSession { id }",
        as_router("alice"),
    )
    assert theirs["data"]["_entities"] == [None]


async def test_unknown_ids_and_ids_of_another_type_are_null(subgraph: Subgraph):
    i = subgraph.ids
    reps = [
        {"__typename": "Station", "id": i.connector},  # a connector's id given as a Station
        {"__typename": "Connector", "id": "bm90LWFuLWlk"},
        {"__typename": "Operator", "id": "T3BlcmF0b3IfTk9QRQ"},
        {"__typename": "Bill", "id": i.session},
    ]
    body = await subgraph.entities(reps, ENTITY_SELECTION, as_router("alice"))
    assert not body.get("errors") and body["data"]["_entities"] == [None] * 4


async def test_malformed_representations_fail_alone_with_bad_user_input(subgraph: Subgraph):
    reps = [
        {"__typename": "OperatorHealth", "id": "x"},  # not an entity
        {"__typename": "Money", "amount": "1", "currency": "CNY"},
        {"__typename": "Station"},  # no id
        "Station",
        {"__typename": "Station", "id": subgraph.ids.station},
    ]
    body = await subgraph.entities(reps, "... on Station { id }", as_router())
    assert body["data"]["_entities"] == [None, None, None, None, {"id": subgraph.ids.station}]
    errors = sorted(body["errors"], key=lambda e: e["path"])
    assert [e["path"] for e in errors] == [["_entities", n] for n in range(4)]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}


async def test_each_type_is_loaded_in_one_batch(subgraph: Subgraph, monkeypatch: pytest.MonkeyPatch):
    runtime = subgraph.stack.runtime
    stations = [s for _, s in runtime.catalogue.near(30.274, 120.155, 50)][:3]
    stations += [s for _, s in runtime.catalogue.near(31.230, 121.474, 50)][:3]
    assert {s.operator_id for s in stations} == {HZ, SH}
    connectors = [(s.operator_id, c.id) for s in stations for c in s.connectors][:4]
    batches: list[tuple[str, int]] = []
    for kind in ("Station", "Connector"):
        load = federation.ENTITIES[kind]

        async def counting(lookup: Any, keys: list[str], kind: str = kind, load: Any = load) -> Any:
            batches.append((kind, len(keys)))
            return await load(lookup, keys)

        monkeypatch.setitem(federation.ENTITIES, kind, counting)
    reps = [{"__typename": "Station", "id": federation.ids.station_id(s.operator_id, s.id)} for s in stations]
    reps += [{"__typename": "Connector", "id": federation.ids.connector_id(*pair)} for pair in connectors]
    reps.append(reps[0])  # asked twice, loaded once
    before = {op: Counter(sim.calls) for op, sim in subgraph.stack.sims.items()}
    body = await subgraph.entities(
        reps, "... on Station { id connectors { status } } ... on Connector { id status }", as_router()
    )
    assert not body.get("errors") and all(body["data"]["_entities"])
    assert sorted(batches) == [("Connector", 4), ("Station", 6)]
    for op, sim in subgraph.stack.sims.items():  # live status: at most one upstream call per operator
        status_calls = {k: v - before[op][k] for k, v in sim.calls.items() if "status" in k.lower()}
        assert sum(status_calls.values()) <= 1, status_calls


@pytest.mark.parametrize(
    "query", ["{ _service { sdl } }", "{ _entities(representations: []) { __typename } }"]
)
async def test_production_answers_federation_fields_only_to_a_router_key(subgraph: Subgraph, query: str):
    for headers in (
        {},
        {"x-api-key": READER.key},
        bearer("alice"),
        {"x-api-key": READER.key, **bearer("alice")},
    ):
        body = await subgraph.post({"query": query}, headers)
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scopes": ["router"]}
    body = await subgraph.post({"query": query}, as_router())
    assert not body.get("errors"), body


async def test_service_sdl_is_the_committed_subgraph_schema(subgraph: Subgraph):
    from tests.federation.test_subgraph_schema import ROOT

    body = await subgraph.post({"query": "{ _service { sdl } }"}, as_router())
    assert body["data"]["_service"]["sdl"] + "\n" == (ROOT / "subgraph.graphql").read_text(encoding="utf-8")


@pytest.mark.parametrize("mode", ["demo", "dev"])
async def test_outside_production_federation_fields_are_open(mode: str):
    async with running_stack(settings(mode)) as stack:
        query = "{ _service { sdl } _entities(representations: []) { __typename } }"
        async with stack.http.post(f"{stack.url}/graphql", json={"query": query}) as r:
            body = await r.json()
    assert not body.get("errors"), body
    assert "@key" in body["data"]["_service"]["sdl"] and body["data"]["_entities"] == []


def deep_station(levels: int) -> str:
    inner = "id"
    for level in range(levels):
        inner = f"{'connectors' if level % 2 == 0 else 'station'} {{ {inner} }}"
    return f"... on Station {{ {inner} }}"


async def test_entities_obey_the_depth_limit(subgraph: Subgraph):
    body = await subgraph.entities(
        [{"__typename": "Station", "id": subgraph.ids.station}], deep_station(13), as_router()
    )
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"


async def test_entities_cost_counts_every_representation(subgraph: Subgraph):
    """Five nested lists under _entities: cheap for one entity, too costly for a page of them."""
    selection = deep_station(5)
    one = [{"__typename": "Station", "id": subgraph.ids.station}]
    literal = f'[{{__typename: "Station", id: "{subgraph.ids.station}"}}]'
    query = f"{{ _entities(representations: {literal}) {{ {selection} }} }}"
    assert not (await subgraph.post({"query": query}, as_router())).get("errors")
    body = await subgraph.entities(one, selection, as_router())  # a variable: costed as a full page
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_entities_take_at_most_a_page_of_representations(subgraph: Subgraph):
    page = subgraph.stack.runtime.settings.gateway.max_page_size
    reps = [{"__typename": "Operator", "id": subgraph.ids.operator}] * (page + 1)
    body = await subgraph.entities(reps, "... on Operator { id }", as_router())
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "limit": page}
    body = await subgraph.entities(reps[:page], "... on Operator { id }", as_router())
    assert not body.get("errors") and len(body["data"]["_entities"]) == page


async def test_a_forwarded_token_that_is_not_valid_fails_driver_entities_only(subgraph: Subgraph):
    """As with node(id): a bad token is UNAUTHENTICATED for what drivers own, ignored for stations."""
    headers = {"x-api-key": ROUTER.key, "Authorization": "Bearer not-a-token"}
    body = await subgraph.entities(
        [{"__typename": "Driver", "id": subgraph.ids.driver}], "... on Driver { id }", headers
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await subgraph.post({"query": f'{{ node(id: "{subgraph.ids.driver}") {{ id }} }}'}, headers))[
        "errors"
    ][0]["extensions"]["code"] == "UNAUTHENTICATED"
    station = [{"__typename": "Station", "id": subgraph.ids.station}]
    body = await subgraph.entities(station, "... on Station { id }", headers)
    assert not body.get("errors") and body["data"]["_entities"] == [{"id": subgraph.ids.station}]
