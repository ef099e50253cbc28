"""A named product: the page's title and header say "Home Editor", the favicon is the app's own, a new
library shows what to do, and the header counts items apart from jobs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import ROOT, AppServer
from tests.browser.helpers import DROP, all_completed, open_app, wait_for

pytestmark = pytest.mark.browser


def test_the_page_is_named_has_its_favicon_and_a_new_library_shows_what_to_do(app: AppServer, page: Page) -> None:
    open_app(page, app)
    expect(page).to_have_title("Home Editor")
    expect(page.locator("h1")).to_have_text("Home Editor")
    icon = page.locator("link[rel~=icon]").first.get_attribute("href")
    assert httpx.get(f"{app.url}{icon}").content == (ROOT / "assets" / "favicon.ico").read_bytes()
    empty = page.get_by_test_id("empty-library")
    expect(empty).to_contain_text("Drop photos")
    expect(empty).to_contain_text("download")


def test_one_photo_with_a_cutout_and_a_model_reads_as_one_photo(
    app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    expect(page.get_by_test_id("empty-library")).to_have_count(0)
    wait_for(page, all_completed(1), what="the cutout")
    page.get_by_test_id("generate-3d-button").click()
    expect(page.get_by_test_id("model-status")).to_have_text("completed", timeout=90_000)
    expect(page.get_by_test_id("count-photos")).to_have_text("Photos 1")
    expect(page.get_by_test_id("count-cutouts")).to_have_text("Cutouts 1")
    expect(page.get_by_test_id("count-models")).to_have_text("3D models 1")
    expect(page.get_by_test_id("job-stats")).to_have_text("Jobsqueued 0running 0failed 0")
    expect(page.get_by_test_id("header-counts")).not_to_contain_text("2")
