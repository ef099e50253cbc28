"""Session-wide test set-up."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop running in the main thread
    from its first use, after which pytest-asyncio cannot start one for the async unit tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
