"""Session-wide test set-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests import reliability_report
from tests.redis_server import clean_redis, redis_url  # noqa: F401 (fixtures: one Redis for the whole session)
from tests.servers import PostgresServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability(scenario, promise): a fault, bad-input or security check reported in RELIABILITY.md"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop running in the main thread
    from its first use, after which pytest-asyncio cannot start one for the async unit tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    reliability_report.record(item, outcome.get_result())


def pytest_sessionfinish(session: pytest.Session) -> None:
    reliability_report.write(session)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real Postgres 15 for the whole session (started on first use; stopped and removed at the end).
    No Postgres installed is an error, never a skip."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A new empty database on the session's Postgres, dropped after the test."""
    url = postgres.new_database()
    yield url
    postgres.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a new empty store database: once a SQLite file, once a Postgres database (one store
    contract, two databases)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def thread_starts(monkeypatch) -> list[str]:
    """The names of the threads started from now on (in this test)."""
    started: list[str] = []
    real_start = threading.Thread.start

    def recorded(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", recorded)
    return started
