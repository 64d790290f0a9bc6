"""Settings for several replicas: ``cache.backend = "redis"``, its URL, and secrets kept out of files."""

from __future__ import annotations

import pytest

from gateway.replicas import redis as redis_conn
from gateway.settings.load import ConfigError, load


def write(tmp_path, text):
    path = tmp_path / "chargegate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_redis_from_the_file_with_the_password_from_the_environment(tmp_path):
    path = write(
        tmp_path,
        '[cache]\nbackend = "redis"\nredis_url = "redis://cache.internal:6380/2"\n'
        'redis_password = { env = "REDIS_PW" }\nredis_prefix = "cg-prod"\n',
    )
    settings = load(path, env={"REDIS_PW": "s3cret"})
    assert settings.cache.backend == "redis"
    options = redis_conn.options(settings.cache)
    assert options == {
        "host": "cache.internal",
        "port": 6380,
        "db": 2,
        "username": None,
        "password": "s3cret",
        "ssl": False,
    }
    assert redis_conn.key(settings.cache, "lease", "sessions") == "cg-prod:lease:sessions"


def test_a_url_with_a_password_from_the_environment(tmp_path):
    path = write(tmp_path, '[cache]\nbackend = "redis"\nredis_url = { env = "REDIS_URL" }\n')
    settings = load(path, env={"REDIS_URL": "rediss://app:p%40ss@10.0.0.5/0"})
    options = redis_conn.options(settings.cache)
    assert (options["username"], options["password"], options["ssl"], options["port"]) == (
        "app",
        "p@ss",
        True,
        6379,
    )
    via_override = load(
        None, env={"CHARGEGATE__CACHE__BACKEND": "redis", "CHARGEGATE__CACHE__REDIS_URL": "redis://:pw@h:1/0"}
    )
    assert redis_conn.options(via_override.cache)["password"] == "pw"


def test_memory_stays_the_default():
    settings = load(None, env={})
    assert settings.cache.backend == "memory" and settings.security.rate_limit_backend == "auto"


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ('[cache]\nbackend = "memcached"\n', {}, "cache.backend"),
        ('[cache]\nbackend = "redis"\n', {}, "cache.redis_url"),
        ('[security]\nrate_limit_backend = "redis"\n', {}, "cache.redis_url"),
        ('[security]\nrate_limit_backend = "etcd"\n', {}, "security.rate_limit_backend"),
        ('[cache]\nbackend = "redis"\nredis_url = "redis://:inline@h:6379/0"\n', {}, "cache.redis_url"),
        ('[cache]\nredis_password = "inline"\n', {}, "cache.redis_password"),
        ('[cache]\nbackend = "redis"\nredis_url = "http://h:6379/0"\n', {}, "cache.redis_url"),
        ('[cache]\nbackend = "redis"\nredis_url = "redis://h:port/0"\n', {}, "cache.redis_url"),
        ('[cache]\nbackend = "redis"\nredis_url = "redis://h:6379/zero"\n', {}, "cache.redis_url"),
        ("[cache]\nredis_lease_ttl_s = 0\n", {}, "cache.redis_lease_ttl_s"),
        ('[cache]\nredis_prefix = ""\n', {}, "cache.redis_prefix"),
    ],
)
def test_bad_redis_settings_name_the_key(tmp_path, text, env, key):
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), env=env)
    assert caught.value.key == key
    assert "inline" not in str(caught.value)  # a refused secret is never echoed
