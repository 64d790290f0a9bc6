import pytest

from gateway.config import ConfigError, load


def write(tmp_path, text):
    path = tmp_path / "chargegate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    settings = load(None, env={})
    assert settings.gateway.port == 8000
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.operators == ()


def test_file_env_and_keyword_overrides(tmp_path):
    path = write(tmp_path, "[gateway]\nport = 9000\n[cache]\nstatus_ttl_s = 5\n")
    settings = load(path, env={"CHARGEGATE__CACHE__STATUS_TTL_S": "7.5"}, host="0.0.0.0")
    assert settings.gateway.port == 9000
    assert settings.cache.status_ttl_s == 7.5
    assert settings.gateway.host == "0.0.0.0"


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("[gateway]\nport = 'eighty'\n", {}, "gateway.port"),
        ("[gateway]\nprot = 1\n", {}, "gateway.prot"),
        ("[gatway]\n", {}, "gatway"),
        ("[gateway]\nmode = 'staging'\n", {}, "gateway.mode"),
        ("[cache]\ntariff_ttl_s = -1\n", {}, "cache.tariff_ttl_s"),
        ("", {"CHARGEGATE__NOPE__X": "1"}, "CHARGEGATE__NOPE__X"),
        ("[[operators]]\nprotocol = 'tcec'\n", {}, "operators[0].id"),
        (
            "[[operators]]\nid = 'A'\nprotocol = 'tcec'\nsig_secret = 'inline'\n",
            {},
            "operators[0].sig_secret",
        ),
        (
            "[[operators]]\nid = 'A'\nprotocol = 'tcec'\nsig_secret = { env = 'MISSING' }\n",
            {},
            "operators[0].sig_secret",
        ),
        (
            "[[operators]]\nid = 'A'\nprotocol = 'x'\n[[operators]]\nid = 'A'\nprotocol = 'x'\n",
            {},
            "operators[1].id",
        ),
        ("[gateway\n", {}, "--config"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, env, key):
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), env=env)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_secrets_come_from_the_environment_and_are_not_in_the_error(tmp_path):
    text = "[[operators]]\nid = 'A'\nprotocol = 'tcec'\nsig_secret = { env = 'SIG' }\n"
    settings = load(write(tmp_path, text), env={"SIG": "s3cr3t-value-123"})
    assert settings.operators[0]["sig_secret"] == "s3cr3t-value-123"
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text.replace("'SIG'", "'OTHER'")), env={"SIG": "s3cr3t-value-123"})
    assert "s3cr3t" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml", env={})
