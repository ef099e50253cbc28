"""Session-wide test set-up."""

from __future__ import annotations

import pytest

from tests import reliability_report


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
