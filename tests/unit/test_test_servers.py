"""The tests' throw-away Postgres: run as the `postgres` user when root, gone after stop, and an error (never
a skip) when Postgres is not installed."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg
import pytest

from tests import servers
from tests.servers import PostgresMissingError, PostgresServer


def test_a_server_runs_in_its_own_folder_as_a_non_root_user_and_is_removed_after_stop() -> None:
    server = PostgresServer().start()
    try:
        owner = pwd.getpwuid(server.data_dir.stat().st_uid).pw_name
        assert owner == ("postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name)
        url = server.new_database().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
            assert conn.execute("SHOW port").fetchone() == (str(server.port),)
    finally:
        server.stop()
    assert not server.data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5)


def test_a_missing_postgres_is_an_error_that_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servers, "BIN_DIRS", (tmp_path,))
    monkeypatch.delenv("POSTGRES_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresMissingError, match="apt-get install postgresql"):
        PostgresServer()
