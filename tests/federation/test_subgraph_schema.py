"""subgraph.graphql is generated from the code (like schema.graphql), and says what a router needs."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.app.cli import main
from resolvers.schema import build_schema, subgraph_sdl

ROOT = Path(__file__).resolve().parent.parent.parent
ENTITIES = ("Bill", "ChargingSession", "Connector", "Driver", "Operator", "Station")


def test_subgraph_file_is_current():
    committed = (ROOT / "subgraph.graphql").read_text(encoding="utf-8")
    expected = subgraph_sdl(build_schema()) + "\n"
    assert committed == expected, "run `chargegate export-schema --federation` and commit the result"


def test_export_schema_federation_writes_the_subgraph_sdl(tmp_path: Path):
    assert main(["export-schema", "--federation", "--output", str(tmp_path / "out.graphql")]) == 0
    assert (tmp_path / "out.graphql").read_text(encoding="utf-8") == subgraph_sdl(build_schema()) + "\n"
    assert main(["export-schema", "--federation"]) == 0  # the default name, in the working directory
    assert Path("subgraph.graphql").read_text(encoding="utf-8") == subgraph_sdl(build_schema()) + "\n"


def test_subgraph_sdl_links_federation_2_and_marks_keys_shared_and_internal_types():
    sdl = subgraph_sdl(build_schema())
    assert sdl.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.5"')
    keyed = re.findall(r"^type (\w+) implements Node @key\(fields: \"id\"", sdl, re.MULTILINE)
    assert sorted(keyed) == list(ENTITIES)
    for value_type in ("Money", "GeoPoint", "Price", "PageInfo"):
        assert f"type {value_type} @shareable {{" in sdl
    assert "health: OperatorHealth @inaccessible" in sdl and "type OperatorHealth @inaccessible {" in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl


def test_the_public_schema_has_no_federation_internals():
    public = build_schema().as_str()
    for internal in (
        "_entities",
        "_service",
        "_Any",
        "_Entity",
        "@key",
        "@link",
        "@shareable",
        "@inaccessible",
    ):
        assert internal not in public
    assert "health: OperatorHealth" in public  # inaccessible only in the supergraph, not in our API
