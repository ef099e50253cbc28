"""The page on a phone (390 × 844, touch, light and dark): it fits the screen with no sideways scroll
(also at 320 px), its controls are big enough for a finger, photos come from the phone's picker or its
camera, and the 3D viewer fills the screen and takes touch gestures. Screenshots of each mode are saved
into the test's output folder (test-results/)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.app_server import AppServer
from tests.browser.helpers import all_completed, open_app, wait_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SMALLEST = {"width": 320, "height": 640}
TABLET = {"width": 820, "height": 1180}
TOUCH_TARGET_PX = 44

# Everything a finger can press: links, buttons, form fields and anything else made focusable (but not
# the visually hidden file inputs: a finger presses the picker zone that opens them).
CONTROLS_JS = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, [role=button], [role=checkbox], [role=switch], [role=tab],'
    + ' [tabindex]:not([tabindex="-1"])')]
  .filter(e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
                 return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
                        && s.clipPath !== 'inset(50%)'; })
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.dataset.testid || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30)
                            || e.tagName, width: r.width, height: r.height}; })"""

# Elements whose box reaches past the right edge of the viewport (what makes a page scroll sideways).
TOO_WIDE_JS = """() => [...document.querySelectorAll('body *')]
  .filter(e => { const r = e.getBoundingClientRect();
                 return r.width > 0 && r.right > window.innerWidth + 0.5 && getComputedStyle(e).position !== 'fixed'; })
  .map(e => `${e.tagName.toLowerCase()}${e.dataset.testid ? '[' + e.dataset.testid + ']' : ''}`
            + ` "${e.textContent.trim().slice(0, 30)}" right=${Math.round(e.getBoundingClientRect().right)}`)
  .slice(0, 10)"""


@pytest.fixture(params=["light", "dark"])
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a phone-sized, touch-screen browser in light or dark mode."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme=request.param,
    )
    yield context.new_page()
    context.close()


def scheme(page: Page) -> str:
    return "dark" if page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") else "light"


def assert_fits_the_screen(page: Page) -> None:
    """Nothing reaches past the screen's width. (A phone browser zooms out to show a page wider than the
    screen, which makes `innerWidth` that wider width: so the screen's own width is the measure.)"""
    width = page.viewport_size["width"]
    assert page.evaluate("window.innerWidth") == width  # not zoomed out
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(TOO_WIDE_JS.replace("window.innerWidth", str(width))) == [], f"wider than {width} px"


def assert_controls_are_touch_sized(page: Page) -> None:
    controls = page.evaluate(CONTROLS_JS)
    assert controls, "no controls found"
    small = [c for c in controls if c["width"] < TOUCH_TARGET_PX or c["height"] < TOUCH_TARGET_PX]
    assert small == [], f"controls smaller than {TOUCH_TARGET_PX} × {TOUCH_TARGET_PX} px"


def screenshot(page: Page, path: Path) -> None:
    """The whole page as the phone shows it. (A full-page screenshot switches the touch emulation off while
    it captures, so the window is made as tall as the page instead.)"""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.documentElement.scrollHeight")})
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def card_lefts(page: Page) -> list[float]:
    return page.eval_on_selector_all("[data-testid=item-card]", "cards => cards.map(c => c.getBoundingClientRect().x)")


def pick_photos(page: Page, opener: str, files: list[Path]) -> None:
    """Tap a control and choose files in the file chooser it opens (the phone's photo picker)."""
    with page.expect_file_chooser() as chooser_info:
        page.get_by_test_id(opener).tap()
    chooser = chooser_info.value
    chooser.set_files(files)


def test_the_page_fits_a_phone_and_every_control_takes_a_finger(
    app: AppServer, phone: Page, images: dict[str, Path], output_path: str
) -> None:
    page = open_app(phone, app)
    assert_fits_the_screen(page)
    assert_controls_are_touch_sized(page)

    pick_photos(page, "dropzone", [images["chair.jpg"], images["lamp.png"]])  # a tap opens the photo picker
    wait_for(page, all_completed(2), what="two cutouts")
    assert_fits_the_screen(page)
    assert_controls_are_touch_sized(page)

    # The header stacks: title, counts, backend line, actions; every count is whole and on screen.
    tops = [page.locator(selector).bounding_box() for selector in ("h1", "[data-testid=header-counts]",
            "[data-testid=backends]", "[data-testid=header-actions]")]  # fmt: skip
    assert all(above["y"] + above["height"] <= below["y"] for above, below in pairwise(tops))
    counts = page.locator("[data-testid=header-counts] [data-testid^=count-]")
    expect(counts).to_have_count(6)
    for count in counts.all():
        box = count.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert count.evaluate("e => e.scrollWidth <= e.clientWidth")  # the text is not cut off
    expect(page.get_by_test_id("count-cutouts")).to_have_text("Cutouts 2")

    assert len(set(card_lefts(page))) == 1  # one card per row
    screenshot(page, Path(output_path) / f"phone-{scheme(page)}.png")

    page.set_viewport_size(SMALLEST)
    assert_fits_the_screen(page)
    assert_controls_are_touch_sized(page)
    page.get_by_test_id("density-toggle").tap()  # smaller cards still fit the smallest phone
    expect(page.get_by_test_id("density-toggle")).to_have_text("Larger cards")
    assert_fits_the_screen(page)
    screenshot(page, Path(output_path) / f"phone-320-compact-{scheme(page)}.png")
    page.get_by_test_id("density-toggle").tap()

    page.set_viewport_size(TABLET)
    assert_fits_the_screen(page)
    assert len(set(card_lefts(page))) == 2  # more cards per row as the screen grows


def test_photos_come_from_the_phones_library_or_its_camera(
    app: AppServer, phone: Page, images: dict[str, Path], tmp_path: Path
) -> None:
    page = open_app(phone, app)
    picker = page.locator("[data-testid=dropzone] input[type=file]")
    accept = set((picker.get_attribute("accept") or "").split(","))
    assert {"image/heic", "image/heif", ".heic", ".heif"} <= accept  # iPhone photos can be picked
    assert picker.get_attribute("multiple") is not None

    camera = page.locator("[data-testid=camera-button] input[type=file]")
    expect(page.get_by_test_id("camera-button")).to_be_visible()  # offered on a touch screen
    assert camera.get_attribute("capture") == "environment"
    assert "image/*" in camera.get_attribute("accept").split(",")

    pick_photos(page, "camera-button", [images["sofa.jpg"]])
    expect(page.get_by_test_id("item-card")).to_have_count(1, timeout=10_000)
    document = tmp_path / "receipt.pdf"
    document.write_bytes(b"%PDF-1.4 a receipt, not a photo")
    pick_photos(page, "dropzone", [document, images["table.webp"]])  # the picker refuses what is no image
    expect(page.get_by_text("“receipt.pdf” was not added: it is not a photo")).to_be_visible(timeout=5_000)
    expect(page.get_by_test_id("item-card")).to_have_count(2, timeout=10_000)
    wait_for(page, all_completed(2), what="two cutouts")


def gesture(page: Page, starts: list[tuple[float, float]], ends: list[tuple[float, float]], steps: int = 8) -> None:
    """Fingers touch down at `starts`, move in straight lines to `ends` and lift (raw touch events)."""
    session = page.context.new_cdp_session(page)

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        session.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]},
        )

    touch("touchStart", starts)
    for step in range(1, steps + 1):
        touch("touchMove", [(x + (ex - x) * step / steps, y + (ey - y) * step / steps)
                            for (x, y), (ex, ey) in zip(starts, ends, strict=True)])  # fmt: skip
    touch("touchEnd", [])
    session.detach()


ORBIT_JS = "v => { const o = v.getCameraOrbit(); return [o.phi, o.radius, v.getFieldOfView()]; }"


def test_the_3d_viewer_fills_a_phone_and_turns_and_zooms_by_touch(
    app: AppServer, phone: Page, images: dict[str, Path], output_path: str
) -> None:
    page = open_app(phone, app)
    page.set_input_files("[data-testid=dropzone] input[type=file]", [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="the cutout")
    page.get_by_test_id("generate-3d-button").tap()
    expect(page.get_by_test_id("model-status")).to_have_text("completed", timeout=30_000)

    page.get_by_test_id("view-3d-button").tap()
    dialog, viewer = page.get_by_test_id("model-dialog"), page.get_by_test_id("model-viewer")
    expect(viewer).to_have_js_property("loaded", True, timeout=60_000)  # software WebGL on a busy machine
    box = dialog.bounding_box()  # full screen
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    view = viewer.bounding_box()
    assert view["x"] >= 0 and view["x"] + view["width"] <= PHONE["width"] and view["width"] >= PHONE["width"] - 40
    assert view["y"] >= 0 and view["y"] + view["height"] <= PHONE["height"] and view["height"] >= PHONE["height"] / 2
    assert viewer.get_attribute("camera-controls") is not None and viewer.get_attribute("touch-action") == "none"
    assert viewer.evaluate("v => getComputedStyle(v).touchAction") == "none"  # gestures go to the model
    assert_controls_are_touch_sized(page)
    page.screenshot(path=str(Path(output_path) / f"viewer-{scheme(page)}.png"))

    middle_x, middle_y = view["x"] + view["width"] / 2, view["y"] + view["height"] / 2
    phi, radius, fov = viewer.evaluate(ORBIT_JS)
    scrolled = page.evaluate("window.scrollY")
    gesture(page, [(middle_x, middle_y - 80)], [(middle_x, middle_y + 80)])  # one finger down: tilt
    page.wait_for_function(f"v => v.getCameraOrbit().phi !== {phi}", arg=viewer.element_handle())
    assert page.evaluate("window.scrollY") == scrolled  # the page itself did not move
    phi, radius, fov = viewer.evaluate(ORBIT_JS)
    gesture(page, [(middle_x - 20, middle_y), (middle_x + 20, middle_y)],
            [(middle_x - 140, middle_y), (middle_x + 140, middle_y)])  # pinch out: closer  # fmt: skip
    page.wait_for_function(
        f"v => v.getCameraOrbit().radius < {radius} || v.getFieldOfView() < {fov}", arg=viewer.element_handle()
    )

    page.get_by_test_id("close-viewer").tap()
    expect(dialog).to_be_hidden()
    expect(viewer).to_have_count(0)
