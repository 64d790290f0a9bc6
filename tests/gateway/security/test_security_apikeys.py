"""API keys: minted, stored only as a peppered hash, checked in constant time, validated in config."""

import pytest

from gateway.security.apikeys import KeyStore, Scope, create_key, hash_key, parse_key_records
from gateway.settings.load import ConfigError, load

PEPPER = "pepper-for-tests-0123456789abcdef"


def test_a_minted_key_authenticates_and_only_its_hash_is_stored():
    new = create_key(["stations:read"], PEPPER, name="Fleet app")
    store = KeyStore([new.record], PEPPER)
    assert store.authenticate(new.key) == new.record
    assert new.key.startswith(f"cg_{new.record.id}_")
    secret = new.key.removeprefix(f"cg_{new.record.id}_")  # the secret itself may hold an underscore
    assert secret not in repr(new.record) and secret not in new.toml()
    assert new.record.digest == hash_key(new.key, PEPPER) and new.record.digest in new.toml()


@pytest.mark.parametrize(
    "presented",
    ["", "cg_", "nonsense", "cg_unknown_abc", "xx_{id}_{secret}", "cg_{id}_{secret}x", "cg_{id}_"],
)
def test_wrong_or_malformed_keys_are_refused(presented):
    new = create_key(["admin"], PEPPER)
    key_id, secret = new.record.id, new.key.split("_", 2)[2]
    assert KeyStore([new.record], PEPPER).authenticate(presented.format(id=key_id, secret=secret)) is None


def test_the_pepper_is_part_of_the_hash():
    new = create_key(["admin"], PEPPER)
    assert KeyStore([new.record], "another-pepper").authenticate(new.key) is None


def test_admin_implies_every_scope():
    admin = create_key(["admin"], PEPPER).record
    reader = create_key(["stations:read"], PEPPER).record
    assert all(admin.allows(s) for s in Scope)
    assert reader.allows(Scope.STATIONS_READ) and not reader.allows(Scope.DRIVERS_ACT)


def test_unknown_scopes_cannot_be_minted():
    with pytest.raises(ValueError, match="unknown scope"):
        create_key(["stations:write"], PEPPER)


def test_keys_load_from_the_settings_file_with_the_pepper_from_the_environment(tmp_path):
    new = create_key(["stations:read", "drivers:act"], PEPPER, name="Maps", key_id="maps-1")
    path = tmp_path / "chargegate.toml"
    path.write_text('[security]\nkey_hash_secret = { env = "PEPPER" }\n' + new.toml(), encoding="utf-8")
    settings = load(path, env={"PEPPER": PEPPER})
    assert settings.security.key_hash_secret == PEPPER
    [record] = parse_key_records(settings.security.api_keys)
    assert KeyStore([record], PEPPER).authenticate(new.key) == record
    assert record.name == "Maps" and record.scopes == {Scope.STATIONS_READ, Scope.DRIVERS_ACT}


GOOD_HASH = "0" * 64


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[security]\nkey_hash_secret = "inline"\n', "security.key_hash_secret"),
        (
            f'[[security.api_keys]]\nid = "a"\nscopes = ["admin"]\nhash = "{GOOD_HASH}"\n',
            "security.api_keys[0].id",
        ),
        (
            '[[security.api_keys]]\nid = "app"\nscopes = ["admin"]\nhash = "abc"\n',
            "security.api_keys[0].hash",
        ),
        (
            f'[[security.api_keys]]\nid = "app"\nscopes = ["root"]\nhash = "{GOOD_HASH}"\n',
            "security.api_keys[0].scopes",
        ),
        (
            f'[[security.api_keys]]\nid = "app"\nscopes = []\nhash = "{GOOD_HASH}"\n',
            "security.api_keys[0].scopes",
        ),
        (
            f'[[security.api_keys]]\nid = "app"\nscopes = ["admin"]\nhash = "{GOOD_HASH}"\nburst = 0\n',
            "security.api_keys[0].burst",
        ),
        (
            f'[[security.api_keys]]\nid = "app"\nscopes = ["admin"]\nhash = "{GOOD_HASH}"\n' * 2,
            "security.api_keys[1].id",
        ),
        ("[security]\nmax_depth = 0\n", "security.max_depth"),
        ("[security]\nintrospection = 'maybe'\n", "security.introspection"),
        ("[security]\ncors_origins = ['app.example.com']\n", "security.cors_origins"),
    ],
)
def test_bad_security_settings_name_the_key(tmp_path, text, key):
    path = tmp_path / "chargegate.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert caught.value.key == key


def test_cors_origins_from_the_environment_are_comma_separated():
    env = {"CHARGEGATE__SECURITY__CORS_ORIGINS": "https://a.example, https://b.example"}
    assert load(None, env=env).security.cors_origins == ("https://a.example", "https://b.example")
