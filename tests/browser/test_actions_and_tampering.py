"""Cancel, retry and delete from the cards, and a page that survives a tampered localStorage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY
from home_editor.core.models import JobStatus
from home_editor.core.storage_keys import folder_for
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, processing, statuses, wait_for

pytestmark = pytest.mark.browser


def test_cancel_retry_and_delete_from_the_card(app: AppServer, page: Page, images: dict[str, Path]) -> None:
    open_app(page, app)
    card = page.locator("[data-testid=item-card]")
    with app.hold_local_jobs():
        page.set_input_files(DROP, [images["chair.jpg"]])
        wait_for(page, processing(1, of=1), what="the cutout to be running")
        card.locator("[data-testid=cancel-button]").click()  # while the job provably runs
        expect(card.locator("[data-testid=item-status]")).to_have_text("cancelled")
        expect(card.locator("[data-testid=cancel-button]")).to_have_count(0)
    library = local_storage(page)["library"]
    [cancelled] = app.store.snapshot(library).jobs
    assert cancelled.status is JobStatus.CANCELLED and app.executions()[cancelled.id] == 1  # it had started
    card.locator("[data-testid=retry-button]").click()
    wait_for(page, all_completed(1), what="the retried cutout")

    folder = app.workdir / "media" / folder_for(library) / card.get_attribute("data-item-id")
    assert (folder / "original.jpg").is_file()
    card.locator("[data-testid=delete-button]").click()
    expect(page.locator("[data-testid=item-card]")).to_have_count(0)
    expect(page.get_by_text("Deleted “chair.jpg”.")).to_be_visible()
    assert not folder.exists()
    page.reload()
    page.wait_for_selector("[data-ready=true]")
    assert statuses(page) == {}  # deleted stays deleted


@pytest.mark.reliability("F7 garbage JSON and a wrong version in the mirror", "the server copy wins and rewrites it")
def test_garbage_in_the_mirror_is_repaired_from_the_server(
    app: AppServer, context: BrowserContext, images: dict[str, Path]
) -> None:
    page = open_app(context.new_page(), app)
    page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"]])
    wait_for(page, all_completed(2), what="two cutouts")
    library = local_storage(page)["library"]
    page.evaluate(
        f"""() => {{
            localStorage.setItem('{ITEMS_KEY}', '{{"v":1,"items":[["x",{{}}]]'); // truncated JSON
            localStorage.setItem('{JOBS_KEY}', JSON.stringify({{v: 99, jobs: [[1, 2, 3]]}}));
            localStorage.setItem('other.app.data', 'x'.repeat(200000));
        }}"""
    )
    page.reload()
    page.wait_for_selector("[data-ready=true]")
    wait_for(page, all_completed(2), timeout=10, what="the server's copy")
    stored = local_storage(page)
    assert stored["library"] == library and len(stored["items"]) == 2 and len(stored["jobs"]) == 2


@pytest.mark.reliability(
    "F7 forged items (foreign URLs, file://, negative progress)", "nothing adopted without its own files"
)
def test_forged_items_pointing_elsewhere_are_ignored_and_never_fetched(app: AppServer, context: BrowserContext) -> None:
    page = open_app(context.new_page(), app)
    forged = {
        "v": 1,
        "items": [
            ["abcdefghijkm", "evil", 1, 2, "file:///etc/passwd", "http://127.0.0.1:22/x.png", "", "completed", "", ""],
            [
                "bcdefghijkmn",
                "evil2",
                1,
                2,
                "original.jpg",
                "thumb.webp",
                "cutout-abcdefghijkm.png",
                "completed",
                "",
                "",
            ],
        ],
    }
    page.evaluate(f"localStorage.setItem('{ITEMS_KEY}', {json.dumps(json.dumps(forged))})")
    forged_job = ["cdefghijkmnp", "abcdefghijkm", "rembg", "processing", 10, -4, -50, "", 1, 2]
    page.evaluate(f"localStorage.setItem('{JOBS_KEY}', {json.dumps(json.dumps({'v': 1, 'jobs': [forged_job]}))})")
    page.reload()
    page.wait_for_selector("[data-ready=true]")
    assert statuses(page) == {}  # no such files in this library's folder: nothing adopted
    assert local_storage(page)["items"] == []


@pytest.mark.reliability("F7 garbled library id", "replaced; a new tab starts a fresh library")
def test_a_garbled_library_id_is_replaced(
    app: AppServer, browser: Browser, context: BrowserContext, images: dict[str, Path]
) -> None:
    page = open_app(context.new_page(), app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="a cutout")
    library = local_storage(page)["library"]
    page.evaluate(f"localStorage.setItem('{LIBRARY_KEY}', '../../etc/passwd')")
    page.reload()  # the same tab still knows its library
    page.wait_for_selector("[data-ready=true]")
    wait_for(page, lambda p: local_storage(p)["library"] == library, what="the tab's own library id written back")
    assert len(statuses(page)) == 1
    other = browser.new_context()  # a browser whose stored id is garbled before the page even loads
    other.add_init_script(f"localStorage.setItem('{LIBRARY_KEY}', '\\u0000' + '{library}'.slice(1))")
    fresh = open_app(other.new_page(), app)
    new_library = local_storage(fresh)["library"]
    assert new_library != library and len(new_library) == 24 and new_library.isalnum()
    assert statuses(fresh) == {}
    other.close()


@pytest.mark.reliability("B over the byte cap, in the browser", "refused before upload with a toast naming the file")
def test_a_file_over_the_size_cap_is_named_in_a_toast(
    app: AppServer, page: Page, images: dict[str, Path], tmp_path: Path
) -> None:
    big = tmp_path / "huge-photo.jpg"
    big.write_bytes(images["chair.jpg"].read_bytes() + b"\0" * (26 * 2**20))
    open_app(page, app)
    page.set_input_files(DROP, [big, images["lamp.png"]])
    expect(page.get_by_text("“huge-photo.jpg” was not added: it is larger than 25 MB.")).to_be_visible(timeout=5_000)
    wait_for(page, all_completed(1), what="the other file's cutout")
