"""schema.graphql is generated from the code; a difference means someone forgot to export it."""

from pathlib import Path

from resolvers.schema import build_schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_file_is_current():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == build_schema().as_str() + "\n", "run `chargegate export-schema` and commit the result"
