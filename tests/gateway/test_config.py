import pytest

from gateway.app.cli import main
from gateway.settings.load import ConfigError, load


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
    text = TCEC.replace('sig_secret = { env = "S" }', "sig_secret = { env = 'SIG' }")
    settings = load(write(tmp_path, text), env={**SECRETS, "SIG": "s3cr3t-value-123"})
    assert settings.operators[0]["sig_secret"] == "s3cr3t-value-123"
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text.replace("'SIG'", "'OTHER'")), env={**SECRETS, "SIG": "s3cr3t-value-123"})
    assert "s3cr3t" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml", env={})


TCEC = """
[[operators]]
id = "MA1HZTEST"
protocol = "tcec"
name = "Hangzhou"
base_url = "http://127.0.0.1:9001/evcs/v20160701"
our_operator_id = "MA1GWTEST"
operator_secret = { env = "S" }
data_secret = { env = "S" }
data_iv = { env = "S" }
sig_secret = { env = "S" }
"""
OCPI = """
[[operators]]
id = "CNSHA"
protocol = "ocpi"
name = "Shanghai"
versions_url = "http://127.0.0.1:9002/ocpi/versions"
token = { env = "T" }
"""
SECRETS = {"S": "0123456789abcdef", "T": "token-a"}


def test_complete_operator_tables_load(tmp_path):
    settings = load(write(tmp_path, TCEC + OCPI), env=SECRETS)
    assert [op["id"] for op in settings.operators] == ["MA1HZTEST", "CNSHA"]


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ('base_url = "ftp:/nope"', "operators[1].base_url", "must be an http:// or https:// URL"),
        ('profile = "1999"', "operators[1].profile", "unknown preset '1999'"),
        ("timout_s = 3", "operators[1].timout_s", "unknown setting for protocol 'tcec'"),
        ("qr_patterns = ['https://qr.example/pile']", "operators[1].qr_patterns", "{ConnectorID}"),
    ],
)
def test_a_bad_operator_table_is_one_line_naming_the_key(tmp_path, extra, key, message):
    second = TCEC.replace("MA1HZTEST", "MA1SHTEST")
    if extra.startswith("base_url"):
        second = second.replace('base_url = "http://127.0.0.1:9001/evcs/v20160701"\n', "")
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, TCEC + second + extra + "\n"), env=SECRETS)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"config error at {key}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


FAKE = """
[[operators]]
id = "FAKE1"
protocol = "fake"
"""


def test_the_fake_operator_is_refused_in_production_only(tmp_path):
    with pytest.raises(ConfigError, match=r"operators\[0\]\.protocol: 'fake' is refused in production mode"):
        load(write(tmp_path, FAKE))
    settings = load(write(tmp_path, "[gateway]\nmode = 'dev'\n" + FAKE))
    assert settings.operators[0]["protocol"] == "fake"


def test_an_unknown_key_of_an_ocpi_table_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"operators\[0\]\.tiemout_s: unknown setting"):
        load(write(tmp_path, OCPI + "tiemout_s = 3\n"), env=SECRETS)


def test_serve_prints_one_line_for_a_bad_operator_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("S", SECRETS["S"])
    path = write(tmp_path, TCEC + 'timeout_s = "soon"\n')
    assert main(["serve", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["chargegate: config error at operators[0].timeout_s: must be a number"], err


def test_sources_in_order_keyword_then_environment_then_file(tmp_path):
    path = write(tmp_path, "[gateway]\nport = 9000\nhost = '10.0.0.1'\nmode = 'dev'\n")
    env = {"CHARGEGATE__GATEWAY__PORT": "9001", "CHARGEGATE__GATEWAY__HOST": "10.0.0.2"}
    settings = load(path, env=env, host="10.0.0.3", port=None)
    assert (settings.gateway.host, settings.gateway.port, settings.gateway.mode) == ("10.0.0.3", 9001, "dev")


def test_environment_overrides_are_typed_and_lists_are_comma_separated(tmp_path):
    env = {
        "CHARGEGATE__SECURITY__CORS_ORIGINS": "https://a.example, https://b.example",
        "CHARGEGATE__SECURITY__REQUIRE_API_KEY": "yes",
        "CHARGEGATE__BREAKER__FAILURE_THRESHOLD": "7",
        "CHARGEGATE__CREDIT__POSTPAY_SESSION_CAP": "150.50",
    }
    settings = load(None, env=env)
    assert settings.security.cors_origins == ("https://a.example", "https://b.example")
    assert settings.security.require_api_key is True and settings.breaker.failure_threshold == 7
    assert settings.credit.postpay_session_cap == "150.50"


def test_the_process_environment_is_read_when_none_is_given(monkeypatch):
    monkeypatch.setenv("CHARGEGATE__GATEWAY__PORT", "8123")
    assert load(None).gateway.port == 8123


@pytest.mark.parametrize(
    ("text", "env", "line"),
    [
        ("[gateway]\nprot = 1\n", {}, "gateway.prot: unknown setting"),
        ("", {"CHARGEGATE__GATEWAY__PROT": "1"}, "gateway.prot: unknown setting"),
        ("[gatway]\n", {}, "gatway: unknown section"),
        ("[gateway]\nport = 'eighty'\n", {}, "gateway.port: expected int, got 'eighty'"),
        ("", {"CHARGEGATE__GATEWAY__PORT": "8k"}, "gateway.port: expected int, got '8k'"),
        ("[gateway]\nport = true\n", {}, "gateway.port: expected int, got True"),
        (
            "[cache]\nstatus_ttl_s = 'soon'\n",
            {},
            "cache.status_ttl_s: expected float, got 'soon'",
        ),
        (
            "[security]\ncors_origins = 'x'\n",
            {},
            "security.cors_origins: expected a list, got 'x'",
        ),
        ("gateway = 5\n", {}, "gateway: must be a table"),
        ("[gateway]\nmode = 'staging'\n", {}, "gateway.mode: must be one of 'production', 'demo' or 'dev'"),
        ("", {"CHARGEGATE__CACHE__TARIFF_TTL_S": "0"}, "cache.tariff_ttl_s: must be positive"),
        ("[gateway]\nport = 70000\n", {}, "gateway.port: must be at most 65535"),
        ("[breaker]\nfailure_threshold = 0\n", {}, "breaker.failure_threshold: must be at least 1"),
        ("[security]\nmax_batch = -1\n", {}, "security.max_batch: must not be negative"),
        (
            "[auth]\njwt_key = 'inline-secret-of-thirty-two-bytes!'\n",
            {},
            'auth.jwt_key: secrets come from the environment: write { env = "VAR" }',
        ),
        (
            "[cache]\nredis_url = 'redis://:pw@127.0.0.1:6379/0'\n",
            {},
            'cache.redis_url: a URL with a password comes from the environment: write { env = "VAR" }',
        ),
        (
            "[auth]\njwt_key = { env = 'NO_SUCH_VAR' }\n",
            {},
            "auth.jwt_key: environment variable NO_SUCH_VAR is not set",
        ),
    ],
)
def test_each_bad_setting_is_one_line_naming_the_key(tmp_path, text, env, line):
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), env=env)
    assert str(caught.value) == f"config error at {line}"


def test_a_section_secret_comes_from_the_environment(tmp_path):
    path = write(tmp_path, "[auth]\njwt_key = { env = 'JWT' }\n")
    key = "k" * 40
    assert load(path, env={"JWT": key}).auth.jwt_key == key
    assert load(None, env={"CHARGEGATE__AUTH__JWT_KEY": key}).auth.jwt_key == key
    with pytest.raises(ConfigError) as caught:
        load(None, env={"CHARGEGATE__AUTH__JWT_KEY": "short-secret"})
    assert caught.value.key == "auth.jwt_key" and "short-secret" not in str(caught.value)


def test_every_default_is_kept():
    # The loaded defaults are exactly the dataclasses' own: nothing added, dropped or changed.
    from gateway.settings.sections import Settings

    assert load(None, env={}) == Settings()
