"""3D models in Chromium: the local 2.5D relief shown in <model-viewer>, downloads, and batch work that
keeps the concurrency limit and lets a user's click go first."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from home_editor.core.models import JobType
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, wait_for
from tests.images import photo_bytes

pytestmark = pytest.mark.browser


def model_statuses(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-testid=item-card]",
        "cards => Object.fromEntries(cards.map(c => [c.dataset.itemId,"  # one entry per card, whatever it shows
        " c.querySelector('[data-testid=model-status]')?.textContent]))",
    )


def card(page: Page, name: str):
    return page.locator("[data-testid=item-card]").filter(has_text=name)


def test_a_local_model_is_generated_viewed_and_downloaded(app: AppServer, page: Page, images: dict[str, Path]) -> None:
    open_app(page, app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="the cutout")
    item = page.get_by_test_id("item-card")
    expect(item.get_by_test_id("model-status")).to_have_text("none")
    with app.hold_local_jobs():  # the model provably runs while the card is looked at
        item.get_by_test_id("generate-3d-button").click()
        expect(item.get_by_test_id("model-status")).to_have_text("processing")
        expect(item.get_by_test_id("model-progress-text")).to_contain_text("0:0")  # elapsed time is shown
    expect(item.get_by_test_id("model-status")).to_have_text("completed", timeout=30_000)
    expect(item.get_by_text("2.5D preview")).to_be_visible()  # labelled honestly
    glb_url = item.get_attribute("data-glb-url")
    assert glb_url and glb_url.endswith(".glb")

    # the viewer's library (~1 MB of script) is loaded when a model is first shown, not with the page
    assert page.evaluate("customElements.get('model-viewer') === undefined")
    item.get_by_test_id("view-3d-button").click()
    viewer = page.get_by_test_id("model-viewer")
    expect(viewer).to_have_js_property("src", glb_url)  # React 19 sets custom-element props as properties
    expect(viewer).to_have_js_property("loaded", True, timeout=20_000)  # model-viewer parsed and showed it
    assert viewer.get_attribute("camera-controls") is not None and viewer.get_attribute("auto-rotate") is not None
    page.keyboard.press("Escape")

    for hook, content_type in (("download-glb", "model/gltf-binary"), ("download-cutout", "image/png")):
        response = httpx.get(item.get_by_test_id(hook).get_attribute("href"), timeout=10)
        assert response.status_code == 200 and response.headers["content-type"] == content_type
        assert response.headers["content-disposition"].startswith("attachment")


@pytest.mark.reliability(
    "F8 batch of 3D models", "never more than 2 at once; a click goes before the batch jobs still waiting"
)
def test_generate_all_keeps_two_at_once_and_a_click_goes_before_the_waiting_batch(
    app: AppServer, page: Page, tmp_path: Path
) -> None:
    names = [f"piece-{index}.jpg" for index in range(5)]
    for index, name in enumerate(names):
        (tmp_path / name).write_bytes(photo_bytes(["plain", "gradient", "textured"][index % 3], "ellipse", 500))
    open_app(page, app)
    page.set_input_files(DROP, [tmp_path / name for name in names])
    wait_for(page, all_completed(5), timeout=60, what="five cutouts")
    last = card(page, names[4])
    with app.hold_local_jobs():  # the first two models run (held) while the rest of the batch provably waits
        page.get_by_test_id("generate-3d-all-button").click()
        wait_for(page, lambda p: list(model_statuses(p).values()).count("processing") == 2, what="two models running")
        expect(last.get_by_test_id("model-status")).to_have_text("pending")
        last.get_by_test_id("cancel-3d-button").click()  # the user changes their mind about the batch…
        expect(last.get_by_test_id("model-status")).to_have_text("cancelled")
        last.get_by_test_id("retry-3d-button").click()  # …and asks for this one now
        expect(last.get_by_test_id("model-status")).to_have_text("pending")
    wait_for(page, lambda p: set(model_statuses(p).values()) == {"completed"}, timeout=60, what="five models")

    library = local_storage(page)["library"]
    by_item = {item.id: item.name for item in app.store.snapshot(library).items}
    models = {job.id: by_item[job.item_id] for job in app.store.snapshot(library).jobs if job.type is JobType.GLB}
    events = [line.split() for line in app.journal.read_text().splitlines()]
    events = [(int(ms), kind, job_id) for ms, kind, job_id, _ in events if job_id in models]
    starts = [models[job_id] for _, kind, job_id in events if kind == "start"]
    assert starts[:2] == names[:2]  # the batch, oldest first
    # Releasing the hold frees both slots at once: the click and the oldest waiting batch job take them (their
    # two attempts record "start" in either order), and the newest batch job waits for the next free slot.
    assert set(starts[2:4]) == {names[4], names[2]} and starts[4] == names[3]  # the click jumped the queue
    claimed_ms = {models[job.id]: job.started_ms for job in app.store.snapshot(library).jobs if job.id in models}
    assert claimed_ms[names[4]] < claimed_ms[names[2]]  # claimed first, in the store's order
    running, peak = 0, 0
    for _, kind, _ in sorted(events, key=lambda event: (event[0], event[1] == "start")):
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 2
    assert sorted(starts) == names  # each model made exactly once (the cancelled one had not started)
