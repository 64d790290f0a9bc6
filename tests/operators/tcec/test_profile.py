"""Partner profiles: URL layout, liberal reading, strict writing, and config overrides (spec §8)."""

from __future__ import annotations

import copy

import pytest

from operators.base import OperatorConfigError
from operators.tcec.profile import DEFAULT_ALIASES, PRESETS, Profile, resolve_profile


@pytest.mark.parametrize(
    ("preset", "base_url", "token_url", "status_url"),
    [
        (
            "2016",
            "https://op.example/evcs/v20160701/",
            "https://op.example/evcs/v20160701/query_token",
            "https://op.example/evcs/v20160701/query_station_status",
        ),
        (
            "didi",
            "https://didi.example",
            "https://didi.example/evcs/sdk/query_token",
            "https://didi.example/evcs/v1/query_station_status",
        ),
        (
            "starcharge",
            "https://star.example",
            "https://star.example/evcs/starcharge/query_token",
            "https://star.example/evcs/starcharge/query_station_status",
        ),
    ],
)
def test_preset_urls(preset: str, base_url: str, token_url: str, status_url: str) -> None:
    profile = PRESETS[preset]
    assert profile.url(base_url, "query_token") == token_url
    assert profile.url(base_url, "query_station_status") == status_url


def test_normalise_reads_every_spelling_as_the_2016_one() -> None:
    raw = {
        "connectorID": "1",
        "ServiceMoney": 1,
        "ElectMoney": 2,
        "SubPeriod": 1,
        "StarTime": "2024-05-01 00:00:00",
        "ChargeDetails": [{"DetailServiceMoney": 3, "servicePrice": 0.4}],
        "ServiceTel": "0571",  # a correct 2016 field that merely contains "Service": untouched
    }
    assert PRESETS["2016"].normalise(raw) == {
        "ConnectorID": "1",
        "SeviceMoney": 1,
        "ElecMoney": 2,
        "SumPeriod": 1,
        "StartTime": "2024-05-01 00:00:00",
        "ChargeDetails": [{"DetailSeviceMoney": 3, "SevicePrice": 0.4}],
        "ServiceTel": "0571",
    }


def test_normalise_respells_below_canonical_objects_and_never_modifies_its_input() -> None:
    profile = Profile()
    canonical = {"StationID": "S1", "ConnectorStatusInfos": [{"ConnectorID": "C1", "Status": 1}]}
    assert profile.normalise(canonical) == canonical  # keys learnt as canonical on the first pass
    assert profile.normalise(canonical) == canonical
    nested = {"StationID": "S1", "Infos": [{"ConnectorID": "C1"}, {"connectorID": "C2", "ServiceMoney": 1}]}
    before = copy.deepcopy(nested)
    for _ in range(2):  # once learning the keys, once from what was learnt
        assert profile.normalise(nested) == {
            "StationID": "S1",
            "Infos": [{"ConnectorID": "C1"}, {"ConnectorID": "C2", "SeviceMoney": 1}],
        }
    assert nested == before
    assert profile.normalise([1, {"a": [{"b": None}]}, "x"]) == [1, {"A": [{"B": None}]}, "x"]
    assert profile.normalise({1: {"k": 2}}) == {"1": {"K": 2}}


def test_emit_uses_the_partner_spelling() -> None:
    payload = {"SevicePrice": 1, "Nested": [{"DetailSeviceMoney": 2}], "Other": "Sevice"}
    assert PRESETS["2016"].emit(payload) == payload
    assert PRESETS["didi"].emit(payload) == {
        "ServicePrice": 1,
        "Nested": [{"DetailServiceMoney": 2}],
        "Other": "Sevice",  # values are never rewritten
    }


def test_overrides_from_config() -> None:
    profile = resolve_profile(
        {
            "preset": "didi",
            "token_reissue": "new",
            "token_refresh_margin_s": 60,
            "aliases": {"Elec": "ElecMoney"},
        }
    )
    assert (profile.name, profile.token_reissue, profile.token_refresh_margin_s) == ("didi", "new", 60.0)
    assert profile.query_path == "/evcs/v1/{interface}"
    assert profile.normalise({"elec": 1, "ServiceMoney": 2}) == {"ElecMoney": 1, "SeviceMoney": 2}
    assert resolve_profile("2016") == Profile()
    assert DEFAULT_ALIASES["SubPeriod"] == "SumPeriod"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (42, "profile"),
        ("nonesuch", "profile"),
        ({"preset": "nonesuch"}, "profile"),
        ({"query_path": "evcs/{interface}"}, "profile.query_path"),
        ({"token_path": 1}, "profile.token_path"),
        ({"service_spelling": "Servise"}, "profile.service_spelling"),
        ({"token_reissue": "sometimes"}, "profile.token_reissue"),
        ({"token_refresh_margin_s": -1}, "profile.token_refresh_margin_s"),
        ({"aliases": {"a": 1}}, "profile.aliases"),
        ({"name": "x"}, "profile.name"),
    ],
)
def test_bad_overrides_name_the_key(value: object, key: str) -> None:
    with pytest.raises(OperatorConfigError) as info:
        resolve_profile(value)
    assert info.value.key == key
