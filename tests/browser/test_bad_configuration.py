"""A bad configuration in Chromium: the app still starts on the local backends, says what is wrong once
in its log and plainly in the page, never shows the bad values, and works."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, wait_for

pytestmark = pytest.mark.browser

MALFORMED_TOKEN = f"not-a-blob-token-{secrets.token_hex(8)}"
URL_PROBLEM = "TRELLIS_API_URL is set but TRELLIS_API_KEY is empty; using the local processor."
TOKEN_PROBLEM = "BLOB_READ_WRITE_TOKEN does not look like vercel_blob_rw_<store id>_<secret>; using local files."


@pytest.fixture(scope="module")
def misconfigured_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """A Trellis URL without its key and a malformed Blob token (its own build: it may run beside others)."""
    server = AppServer(
        tmp_path_factory.mktemp("misconfigured-app"),
        own_web_dir=True,
        TRELLIS_API_URL="https://trellis.invalid",
        TRELLIS_API_KEY="",
        BLOB_READ_WRITE_TOKEN=MALFORMED_TOKEN,
    )
    server.start()
    yield server
    server.stop()


def test_a_bad_configuration_is_reported_and_the_app_works_locally(
    misconfigured_app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, misconfigured_app)
    expect(page.get_by_test_id("backends")).to_have_text(
        "Processing: Local (learned cutout model) · Storage: Local files"
    )
    expect(page.get_by_text(URL_PROBLEM)).to_be_visible()
    expect(page.get_by_text(TOKEN_PROBLEM)).to_be_visible()

    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="the local cutout")
    page.reload()
    page.wait_for_selector("[data-ready=true]")
    expect(page.get_by_text(URL_PROBLEM)).to_be_visible()

    assert MALFORMED_TOKEN not in page.content() and MALFORMED_TOKEN not in str(local_storage(page))
    log = misconfigured_app.log.read_text()
    assert log.count(URL_PROBLEM) == 1 and log.count(TOKEN_PROBLEM) == 1  # once, at start-up
    assert MALFORMED_TOKEN not in log
