"""Every test runs in its own empty working directory, so relative paths (the default SQLite ledger
``var/chargegate.sqlite3``) never touch the checkout or leak between tests."""

import pytest

from tests.servers import postgres_server_url, redis_server_url

__all__ = ["postgres_server_url", "redis_server_url"]  # session-wide fixtures, one server per run


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
