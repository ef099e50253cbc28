"""Before/after on a card, by keyboard; background choices per item and for all: the card shows the
choice, the single download and the ZIP entry are that picture, composed from the stored cutout, and the
choice is kept by the server (it survives a reload; the browser's storage does not hold it)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from home_editor.core.storage_keys import cutout_preview_name, file_key
from home_editor.export.compose import compose
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, wait_for

pytestmark = pytest.mark.browser
WHITE, BLUE = (255, 255, 255), (0x33, 0x66, 0xCC)


def close(pixel, expected, tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def shown_pixel(image: Locator, x: float, y: float) -> tuple[int, ...]:
    """A pixel of the picture the browser shows (relative position), read through a canvas."""
    expect(image).to_have_js_property("complete", True, timeout=30_000)
    return tuple(image.evaluate(
        "(img, [x, y]) => { const c = document.createElement('canvas'); c.width = img.naturalWidth;"
        " c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
        " return Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data); }",
        [x, y],
    ))  # fmt: skip


def stored_cutout(app: AppServer, page: Page, name: str = "") -> tuple[str, bytes, bytes]:
    """The first (or named) item's id, stored cutout PNG and stored card preview."""
    library = local_storage(page)["library"]
    item = next(item for item in app.store.snapshot(library).items if name in item.name)
    read = lambda file: (app.workdir / "media" / file_key(library, item.id, file)).read_bytes()  # noqa: E731
    return item.id, read(item.cutout), read(cutout_preview_name(item.cutout))


def choose(card: Locator, page: Page, choice: str) -> None:
    card.get_by_test_id("background-select").click()
    page.get_by_role("option", name=choice, exact=True).click()
    expect(card).to_have_attribute("data-background", choice)


def downloaded(page: Page, link: Locator, tmp_path: Path) -> bytes:
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_before_after_switches_by_keyboard_and_says_its_state(app: AppServer, page: Page, images) -> None:
    open_app(page, app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="the cutout")
    card = page.get_by_test_id("item-card")
    image, switch = card.get_by_test_id("item-thumbnail"), card.get_by_test_id("before-after")
    expect(switch).to_have_attribute("role", "switch")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(switch).to_have_attribute("aria-label", "Show the original photo of chair.jpg")
    after = image.get_attribute("src")
    switch.focus()
    assert switch.evaluate("element => element === document.activeElement")
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(image).to_have_attribute("data-view", "before")
    assert "thumb.webp" in image.get_attribute("src") and image.get_attribute("src") != after
    page.keyboard.press("Enter")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(image).to_have_attribute("src", after)


def test_a_background_is_shown_exported_and_kept_as_chosen(app: AppServer, page: Page, images, tmp_path: Path) -> None:
    open_app(page, app)
    page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"]])
    wait_for(page, all_completed(2), what="two cutouts")
    card = page.locator("[data-testid=item-card]").filter(has_text="chair.jpg")
    item_id, cutout, preview = stored_cutout(app, page, "chair")
    image = card.get_by_test_id("item-thumbnail")
    expect(card.get_by_test_id("background-select")).to_have_attribute("aria-label", "Background of chair.jpg")

    choose(card, page, "white")
    wait_for(page, lambda p: "background=white" in (image.get_attribute("src") or ""), what="white on the card")
    assert close(shown_pixel(image, 0.01, 0.01), WHITE)
    shown = httpx.get(image.get_attribute("src")).content
    assert shown == compose(preview, "white")  # the card's picture: the stored preview on white
    data = downloaded(page, card.get_by_test_id("download-cutout"), tmp_path)
    assert data == compose(cutout, "white")  # the download: the stored cutout on white, composed once more
    assert_on_background(data, cutout, WHITE)

    choose(card, page, "colour")
    card.get_by_test_id("background-colour").fill("#3366cc")
    wait_for(page, lambda p: "%233366cc" in (image.get_attribute("src") or ""), what="the colour on the card")
    assert close(shown_pixel(image, 0.01, 0.01), BLUE)
    assert_on_background(downloaded(page, card.get_by_test_id("download-cutout"), tmp_path), cutout, BLUE)
    assert app.store.item(local_storage(page)["library"], item_id).background == "#3366cc"

    page.get_by_test_id("background-all-select").click()
    page.get_by_role("option", name="shadow", exact=True).click()
    cards = page.locator("[data-testid=item-card][data-background=shadow]")
    expect(cards).to_have_count(2)
    with page.expect_download() as info:
        page.get_by_test_id("download-all-button").click()
    archive = zipfile.ZipFile(info.value.path())
    assert sorted(archive.namelist()) == ["chair.jpg", "lamp.jpg"]
    assert archive.read("chair.jpg") == compose(cutout, "shadow")
    assert_shadow_under_object(archive.read("chair.jpg"), cutout)

    page.reload()
    expect(page.locator("[data-testid=item-card][data-background=shadow]")).to_have_count(2)
    stored = local_storage(page)
    assert "shadow" not in str(stored) and "3366cc" not in str(stored)  # kept by the server, not the browser


def assert_on_background(data: bytes, cutout: bytes, fill: tuple[int, int, int]) -> None:
    """Every pixel the cutout left transparent shows the background; opaque ones show the object."""
    exported = Image.open(io.BytesIO(data)).convert("RGB")
    source = Image.open(io.BytesIO(cutout)).convert("RGBA")
    assert exported.size == source.size and Image.open(io.BytesIO(data)).format == "JPEG"
    width, height = source.size
    for x, y in [(x * width // 12, y * height // 12) for x in range(12) for y in range(12)]:
        r, g, b, a = source.getpixel((x, y))
        if a == 0:
            assert close(exported.getpixel((x, y)), fill), (x, y)
        elif a == 255:
            assert close(exported.getpixel((x, y)), (r, g, b), tolerance=24), (x, y)


def assert_shadow_under_object(data: bytes, cutout: bytes) -> None:
    exported = Image.open(io.BytesIO(data)).convert("RGB")
    alpha = Image.open(io.BytesIO(cutout)).getchannel("A")
    left, _top, right, bottom = alpha.point(lambda value: 255 if value >= 128 else 0).getbbox()
    below = exported.getpixel(((left + right) // 2, min(bottom + 2, exported.height - 1)))
    assert max(below) < 235  # the floor just under the object is shaded
    assert close(exported.getpixel((2, 2)), WHITE) and close(exported.getpixel((exported.width - 3, 2)), WHITE)
