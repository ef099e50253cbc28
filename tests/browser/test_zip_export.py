"""Download all and download selected: one ZIP, streamed, holding each item's cutout (and its model)
named after the original file, byte for byte what the server stored, and only the page's own library."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from home_editor.core.storage_keys import file_key
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, wait_for
from tests.images import photo_bytes

pytestmark = pytest.mark.browser


def stored(app: AppServer, library: str) -> dict[str, dict[str, bytes]]:
    """Per item name: its stored cutout and model bytes, read from the app's own files."""
    items = app.store.snapshot(library).items
    read = lambda item, name: (app.workdir / "media" / file_key(library, item.id, name)).read_bytes()  # noqa: E731
    return {
        item.name: {"png": read(item, item.cutout), **({"glb": read(item, item.model)} if item.model else {})}
        for item in items
    }


def download(page: Page, button: str, into: Path) -> zipfile.ZipFile:
    with page.expect_download() as info:
        page.get_by_test_id(button).click()
    assert info.value.suggested_filename == "home-editor-cutouts.zip"
    path = into / "download.zip"
    info.value.save_as(path)
    return zipfile.ZipFile(path)


def test_download_all_and_selected_hold_each_cutout_and_model_byte_for_byte(
    app: AppServer, page: Page, tmp_path: Path
) -> None:
    photos = {"chair.jpg": photo_bytes("plain", "ellipse", 500), "chair.png": photo_bytes("plain", "box", 400,
              image_format="PNG"), "lamp.webp": photo_bytes("gradient", "ring", 450, image_format="WEBP")}  # fmt: skip
    for name, data in photos.items():
        (tmp_path / name).write_bytes(data)
    open_app(page, app)
    page.set_input_files(DROP, [tmp_path / name for name in photos])
    wait_for(page, all_completed(3), what="three cutouts")
    lamp = page.locator("[data-testid=item-card]").filter(has_text="lamp.webp")
    lamp.get_by_test_id("generate-3d-button").click()
    expect(lamp.get_by_test_id("model-status")).to_have_text("completed", timeout=90_000)
    library = local_storage(page)["library"]
    files = stored(app, library)

    archive = download(page, "download-all-button", tmp_path)
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["chair (2).png", "chair.png", "lamp.glb", "lamp.png"]
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    assert {archive.read("chair.png"), archive.read("chair (2).png")} == {
        files["chair.jpg"]["png"],
        files["chair.png"]["png"],
    }
    assert archive.read("lamp.png") == files["lamp.webp"]["png"]
    assert archive.read("lamp.glb") == files["lamp.webp"]["glb"]

    lamp.get_by_test_id("select-item").click()
    expect(page.get_by_test_id("download-selected-button")).to_have_text("Download selected (1)")
    archive = download(page, "download-selected-button", tmp_path)
    assert archive.namelist() == ["lamp.png", "lamp.glb"]
    assert archive.read("lamp.png") == files["lamp.webp"]["png"]

    page.locator("[data-testid=item-card]").filter(has_text="chair.png").get_by_test_id("select-item").click()
    expect(page.get_by_test_id("download-selected-button")).to_have_text("Download selected (2)")
    lamp.get_by_test_id("delete-button").click()  # a selected card deleted leaves the count
    expect(page.get_by_test_id("download-selected-button")).to_have_text("Download selected (1)")

    assert library not in app.log.read_text()  # the key went in the form body, never into a logged URL


def test_a_zip_holds_only_the_requesting_librarys_items(app: AppServer, page: Page, browser, tmp_path: Path) -> None:
    (tmp_path / "stool.jpg").write_bytes(photo_bytes("plain", "ellipse", 400))
    open_app(page, app)
    page.set_input_files(DROP, [tmp_path / "stool.jpg"])
    wait_for(page, lambda p: "completed" in p.locator("[data-testid=item-card]").first.get_attribute("data-status"),
             what="a cutout")  # fmt: skip
    mine = local_storage(page)["library"]
    my_ids = [item.id for item in app.store.snapshot(mine).items]

    other = browser.new_context().new_page()  # another browser: a library of its own, with no photos
    open_app(other, app)
    theirs = local_storage(other)["library"]
    assert theirs != mine
    asked = httpx.post(
        f"{app.url}/export/zip", data={"library": theirs, "scope": "selected", "items": ",".join(my_ids)}
    )
    assert asked.status_code == 404 and asked.headers["content-type"].startswith("text/plain")
    assert httpx.post(f"{app.url}/export/zip", data={"library": theirs, "scope": "all"}).status_code == 404
    guessed = httpx.post(f"{app.url}/export/zip", data={"library": "a" * 24, "scope": "all"})
    assert guessed.status_code == 404
    expect(other.get_by_test_id("download-all-button")).to_be_visible()
    other.get_by_test_id("download-all-button").click()
    expect(other.get_by_text("Nothing to download yet")).to_be_visible()
    other.context.close()
