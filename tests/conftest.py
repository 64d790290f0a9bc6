"""Every test runs in its own empty working directory, so relative paths (the default SQLite ledger
``var/chargegate.sqlite3``) never touch the checkout or leak between tests."""

import pytest


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
