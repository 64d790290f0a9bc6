"""Every official OCPI 2.2.1 example parses through our models and serialises back without loss."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from operators.ocpi import codec
from operators.ocpi.messages import Cdr, Credentials, Envelope, Session, Token, Version, VersionDetails
from operators.ocpi.models import EVSE, DisplayText, Hours, Location, Tariff

EXAMPLES = Path(__file__).resolve().parent / "official"  # unmodified copies of shared/specs/ocpi-examples
if not EXAMPLES.is_dir():  # pragma: no cover - a checkout without the shared specs
    EXAMPLES = Path(__file__).resolve().parents[3] / "specs" / "ocpi-examples"

# (model, partial): partial for fragments and PATCH bodies, and for the two known-defective files
# (SOURCES.md: tariff_put_example lacks last_updated; location_put_example_add_evse has "floor",
# a numeric physical_reference and connectors without power data).
KINDS: dict[str, tuple[Any, bool]] = {
    "cdr_": (Cdr, False),
    "credentials_": (Credentials, False),
    "location_energymix_": (Location, True),
    "location_example": (Location, False),
    "location_hours_": (Hours, False),
    "location_patch_example_location": (Location, True),
    "location_patch_example_": (EVSE, True),
    "location_put_example_add_evse": (EVSE, True),
    "location_regularhours_": (Location, True),
    "session_example_": (Session, False),
    "session_patch_": (Session, True),
    "tariff_put_example": (Tariff, True),
    "tariff": (Tariff, False),
    "token_patch_": (Token, True),
    "token_": (Token, False),
    "transport_and_format_": (Envelope, False),
    "type_displaytext_": (DisplayText, False),
    "version_details_": (VersionDetails, False),
    "versions_info_": (tuple[Version, ...], False),
}

ENVELOPE_DATA = {
    "transport_and_format_get_token_example.json": Token,
    "transport_and_format_get_token_list_example.json": tuple[Token, ...],
    "transport_and_format_version_details_example.json": VersionDetails,
    "transport_and_format_version_info_example.json": tuple[Version, ...],
}


def _kind(name: str) -> tuple[Any, bool]:
    return next(kind for prefix, kind in KINDS.items() if name.startswith(prefix))


def _files() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.json"))


def test_all_59_examples_are_covered() -> None:
    assert len(_files()) == 59
    for name in _files():
        _kind(name)


@pytest.mark.parametrize("name", _files())
def test_example_round_trips(name: str) -> None:
    raw = codec.loads((EXAMPLES / name).read_bytes())
    cls, partial = _kind(name)
    parsed = codec.from_json(cls, raw, partial=partial)
    assert codec.to_json(parsed) == raw
    assert codec.loads(codec.dumps(parsed)) == raw
    if cls is Envelope:
        data = codec.from_json(ENVELOPE_DATA[name], parsed.data)
        assert codec.to_json(data) == raw["data"]


@pytest.mark.parametrize("name", ["tariff_put_example.json", "location_put_example_add_evse.json"])
def test_known_defective_examples_fail_strict_parsing(name: str) -> None:
    cls, _ = _kind(name)
    with pytest.raises(codec.ModelError):
        codec.from_json(cls, codec.loads((EXAMPLES / name).read_bytes()))


def test_location_is_typed() -> None:
    loc = codec.from_json(Location, codec.loads((EXAMPLES / "location_example.json").read_bytes()))
    assert loc.evses[0].connectors[1].tariff_ids == ("13",)
    assert loc.evses[1].status == "RESERVED"
    assert loc.last_updated.isoformat() == "2015-06-29T20:39:09+00:00"
    assert loc.coordinates.latitude == "51.047599"


def test_money_is_exact_decimal() -> None:
    cdr = codec.from_json(Cdr, codec.loads((EXAMPLES / "cdr_example.json").read_bytes()))
    assert cdr.total_cost.incl_vat == Decimal("4.40")
    assert cdr.total_energy == Decimal("15.342")
    assert codec.dumps({"a": Decimal("0.1000")}) == '{"a":0.1000}'


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09+00:00"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09+00:00"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200000+00:00"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123000+00:00"),
        ("2018-01-01T03:08:01+02:00", "2018-01-01T01:08:01+00:00"),
    ],
)
def test_datetime_variants(text: str, iso: str) -> None:
    parsed = codec.parse_datetime(text)
    assert parsed.isoformat() == iso
    assert codec.parse_datetime(codec.format_datetime(parsed)) == parsed


def test_unknown_fields_are_kept() -> None:
    raw = {"language": "en", "text": "x", "nl_custom": {"a": 1}}
    parsed = codec.from_json(DisplayText, raw)
    assert parsed.extensions == {"nl_custom": {"a": 1}}
    assert codec.to_json(parsed) == raw


def test_missing_required_field_names_the_path() -> None:
    raw = codec.loads((EXAMPLES / "location_example.json").read_bytes())
    del raw["evses"][1]["connectors"][0]["standard"]
    with pytest.raises(codec.ModelError, match=r"evses\[1\].connectors\[0\].standard"):
        codec.from_json(Location, raw)


def test_merge_patch_merges_evses_by_uid() -> None:
    stored = {"id": "L", "evses": [{"uid": "1", "status": "AVAILABLE"}, {"uid": "2", "status": "AVAILABLE"}]}
    merged = codec.merge_patch(
        stored, {"evses": [{"uid": "2", "status": "CHARGING"}], "name": "n"}, {"evses": "uid"}
    )
    assert merged == {
        "id": "L",
        "name": "n",
        "evses": [{"uid": "1", "status": "AVAILABLE"}, {"uid": "2", "status": "CHARGING"}],
    }
