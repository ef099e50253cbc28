"""Reading the page the way a user (and an outside test) sees it, through the stable test hooks."""

from __future__ import annotations

import json
import time

from playwright.sync_api import Page

from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY
from tests.browser.app_server import AppServer

DROP = "[data-testid=dropzone] input[type=file]"


def open_app(page: Page, app: AppServer) -> Page:
    """Load the page and wait until its library is open."""
    page.goto(app.url)
    page.wait_for_selector("[data-ready=true]", timeout=30_000)
    return page


def statuses(page: Page) -> dict[str, str]:
    """Item id → the status text on its card."""
    return page.eval_on_selector_all(
        "[data-testid=item-card]",
        "cards => Object.fromEntries(cards.map(c => [c.dataset.itemId,"
        " c.querySelector('[data-testid=item-status]').textContent]))",
    )


def wait_for(page: Page, predicate, *, timeout: float = 90, what: str = "condition") -> None:
    """Poll the page until `predicate(page)` is true (the timeout only bounds a failure: model cutouts take
    a second or more each on a small shared machine, one inference at a time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(page):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}; statuses now {statuses(page)}")


def wait_until(condition, *, timeout: float = 30, what: str = "condition") -> None:
    """Poll `condition()` (e.g. the app's database) until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def all_completed(count: int):
    """Predicate: exactly `count` cards, all completed."""
    return lambda page: len(found := statuses(page)) == count and set(found.values()) == {"completed"}


def processing(count: int, of: int):
    """Predicate: `of` cards, `count` of them processing (with local jobs held, they provably run)."""
    return lambda page: len(found := statuses(page)) == of and list(found.values()).count("processing") == count


def local_storage(page: Page) -> dict:
    """The mirror and library id as the browser holds them."""
    raw = page.evaluate(f"{[ITEMS_KEY, JOBS_KEY, LIBRARY_KEY]}.map(key => localStorage.getItem(key))")
    return {
        "items": json.loads(raw[0])["items"] if raw[0] else [],
        "jobs": json.loads(raw[1])["jobs"] if raw[1] else [],
        "library": raw[2],
        "bytes": sum(len(text or "") for text in raw),
    }
