"""The core promises in real Chromium against the real app: instant thumbnails, cutouts, and a queue
that survives reloads, closed tabs, a second tab and a server restart, running each job once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from home_editor.core.models import JobStatus
from tests.browser.app_server import AppServer
from tests.browser.helpers import (
    DROP,
    all_completed,
    local_storage,
    open_app,
    processing,
    statuses,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.browser


def jobs_of(app: AppServer, page: Page) -> list:
    return app.store.snapshot(local_storage(page)["library"]).jobs


def assert_each_job_ran_once(app: AppServer, page: Page) -> None:
    runs = app.executions()
    jobs = jobs_of(app, page)
    assert jobs and {job.id: runs[job.id] for job in jobs} == {job.id: 1 for job in jobs}


def test_a_dropped_photos_show_at_once_then_become_cutouts(app: AppServer, page: Page, images: dict[str, Path]) -> None:
    open_app(page, app)
    with app.hold_local_jobs():  # no cutout can finish until released
        page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"], images["table.webp"]])
        thumbnails = page.locator("[data-testid=item-thumbnail]")
        expect(thumbnails).to_have_count(3, timeout=10_000)
        for index in range(3):
            expect(thumbnails.nth(index)).to_have_js_property("complete", True, timeout=10_000)
        # "at once" means before processing: the thumbnails are there while no cutout has finished
        # (how fast, in milliseconds, is the benchmark's drop→thumbnail figure, not a test's assertion)
        assert set(statuses(page).values()) <= {"pending", "processing"}
        wait_for(page, processing(2, of=3), what="two jobs processing")
        progress = page.locator("[data-testid=item-card][data-status=processing] [data-testid=item-progress]").first
        expect(progress).to_have_text(re.compile(r"^\d+%$"))
    wait_for(page, all_completed(3), what="three cutouts")

    for card in page.locator("[data-testid=item-card]").all():
        src = card.locator("[data-testid=item-thumbnail]").get_attribute("src")
        assert "/cutout-" in src and src.endswith(".webp")  # the cutout's card preview; the link opens the PNG
        assert card.locator("[data-testid=open-cutout]").get_attribute("href") == src.replace(".webp", ".png")
    expect(page.get_by_text("Background removed").first).to_be_visible()
    expect(page.get_by_test_id("count-cutouts")).to_have_text("Cutouts 3")

    stored = local_storage(page)
    assert len(stored["items"]) == 3 and len(stored["jobs"]) == 3
    assert {row[3] for row in stored["jobs"]} == {"completed"}
    assert "base64" not in str(stored) and stored["bytes"] < 3 * 400 + 200
    assert_each_job_ran_once(app, page)


def test_a_new_photo_joins_on_top_and_every_other_card_keeps_its_own_element_and_picture(
    app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, app)
    with app.hold_local_jobs():  # no cutout changes a picture meanwhile
        page.set_input_files(DROP, [images["chair.jpg"]])
        first = page.locator("[data-testid=item-card]").first
        expect(first.locator("[data-testid=item-thumbnail]")).to_have_js_property("complete", True, timeout=10_000)
        chair = first.get_attribute("data-item-id")
        page.evaluate(
            """id => { const card = document.querySelector(`[data-item-id="${id}"]`);
                       window.__chair = {card, img: card.querySelector('[data-testid=item-thumbnail]')};
                       window.__reloaded = 0;
                       window.__chair.img.addEventListener('load', () => window.__reloaded++); }""",
            chair,
        )
        page.set_input_files(DROP, [images["sofa.jpg"]])
        cards = page.locator("[data-testid=item-card]")
        expect(cards).to_have_count(2, timeout=10_000)
        expect(cards.first.locator("[data-testid=item-thumbnail]")).to_have_js_property("complete", True)
        assert cards.first.get_attribute("data-item-id") != chair  # the newest photo is on top
        kept = page.evaluate(
            """id => { const card = document.querySelector(`[data-item-id="${id}"]`);
                       return {card: card === window.__chair.card, id: window.__chair.card.dataset.itemId,
                               img: card.querySelector('[data-testid=item-thumbnail]') === window.__chair.img,
                               reloaded: window.__reloaded}; }""",
            chair,
        )
    # with cards keyed by position, the chair's element would now show the sofa and load its picture
    assert kept == {"card": True, "id": chair, "img": True, "reloaded": 0}


@pytest.mark.reliability(
    "F1 reloads during processing",
    "3 reloads while two jobs provably run: same items and statuses; all complete, each job run once",
)
def test_b_reload_during_processing_keeps_everything_and_runs_each_job_once(
    app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, app)
    with app.hold_local_jobs():
        page.set_input_files(DROP, [images["chair.jpg"], images["sofa.jpg"], images["lamp.png"]])
        wait_for(page, processing(2, of=3), what="two jobs processing")
        before = statuses(page)
        for _ in range(3):  # every reload happens while two jobs provably run
            page.reload()
            page.wait_for_selector("[data-ready=true]")
            assert statuses(page) == before
    wait_for(page, all_completed(3), what="all cutouts after reloads")
    assert_each_job_ran_once(app, page)


@pytest.mark.reliability(
    "F2 tab closed mid-job",
    "closed while two jobs provably run: finished with no tab open, shown when reopened; no re-run",
)
def test_c_closing_the_page_mid_job_does_not_stop_or_repeat_it(
    app: AppServer, context: BrowserContext, images: dict[str, Path]
) -> None:
    first = open_app(context.new_page(), app)
    with app.hold_local_jobs():
        first.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"], images["sofa.jpg"]])
        wait_for(first, processing(2, of=3), what="two jobs processing")
        library = local_storage(first)["library"]
        first.close()  # while two jobs provably run
    # no tab is open: the runner finishes the queue on its own
    wait_until(lambda: not any(job.is_active for job in app.store.snapshot(library).jobs), what="the queue to settle")
    assert {job.status for job in app.store.snapshot(library).jobs} == {JobStatus.COMPLETED}
    later = open_app(context.new_page(), app)
    wait_for(later, all_completed(3), timeout=5, what="results present on return")
    assert_each_job_ran_once(app, later)


@pytest.mark.reliability("F3 two tabs, live", "both tabs see every upload without reloading; each job once")
def test_d_two_tabs_both_see_every_upload_and_no_job_runs_twice(
    app: AppServer, context: BrowserContext, images: dict[str, Path]
) -> None:
    left = open_app(context.new_page(), app)
    right = open_app(context.new_page(), app)
    assert local_storage(left)["library"] == local_storage(right)["library"]
    left.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"]])
    right.set_input_files(DROP, [images["table.webp"]])
    expect(right.locator("[data-testid=item-card]")).to_have_count(3, timeout=5_000)  # live, no reload
    left.set_input_files(DROP, [images["sofa.jpg"]])
    for tab in (left, right):
        wait_for(tab, all_completed(4), what="four cutouts in both tabs")
    assert set(statuses(left)) == set(statuses(right))
    assert_each_job_ran_once(app, left)


def test_e_a_text_file_named_png_is_refused_by_name_and_the_other_file_proceeds(
    app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, app)
    page.set_input_files(DROP, [images["notes.png"], images["chair.jpg"]])
    expect(page.get_by_text("“notes.png” was not added: it is not a supported image")).to_be_visible(timeout=5_000)
    wait_for(page, all_completed(1), what="the good file's cutout")
    assert len(local_storage(page)["items"]) == 1


@pytest.mark.reliability(
    "F4 server killed (SIGKILL) mid-job, local",
    "killed while two jobs provably run: nothing lost; those two re-run once, the rest run once; page reconnects",
)
def test_f_a_server_restart_mid_job_loses_nothing_and_the_job_completes(
    app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    open_app(page, app)
    with app.hold_local_jobs():
        page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"], images["sofa.jpg"]])
        wait_for(page, processing(2, of=3), what="two jobs processing")
        items_before = set(statuses(page))
        library = local_storage(page)["library"]
        interrupted = [job.id for job in app.store.snapshot(library).jobs if job.status is JobStatus.PROCESSING]
        assert len(interrupted) == 2
        app.kill()  # SIGKILL while both provably run: no clean shutdown, the claims are left behind
    app.start()
    # No reload: the page reconnects by itself, its library re-opens and the runner resumes the queue
    # (the interrupted jobs once their leases expire).
    wait_for(page, all_completed(3), timeout=60, what="completion after the restart")
    assert set(statuses(page)) == items_before  # nothing lost
    runs = app.executions()
    jobs = app.store.snapshot(library).jobs
    assert {job.id: runs[job.id] for job in jobs} == {job.id: 2 if job.id in interrupted else 1 for job in jobs}


@pytest.mark.reliability("F2 tab closed right after a drop", "every file the server received is kept")
def test_closing_the_tab_right_after_a_drop_keeps_every_received_file(
    app: AppServer, context: BrowserContext, tmp_path: Path
) -> None:
    from tests.images import photo_bytes

    files = []
    for index in range(6):
        path = tmp_path / f"photo-{index}.jpg"
        path.write_bytes(photo_bytes(size=1200))
        files.append(path)
    page = open_app(context.new_page(), app)
    library = local_storage(page)["library"]
    page.set_input_files(DROP, files)
    page.wait_for_selector("[data-testid=item-card]")  # the server has the request; close before all are shown
    page.close()
    wait_until(lambda: len(app.store.snapshot(library).items) >= 6, what="six stored items")
    assert sorted(item.name for item in app.store.snapshot(library).items) == [f"photo-{i}.jpg" for i in range(6)]


@pytest.mark.reliability(
    "F4 server killed, no tab open", "killed while two jobs provably run: the start-up sweep finishes the queue alone"
)
def test_a_restart_with_no_tab_open_still_finishes_the_queue(
    app: AppServer, context: BrowserContext, images: dict[str, Path]
) -> None:
    page = open_app(context.new_page(), app)
    with app.hold_local_jobs():
        page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"], images["sofa.jpg"]])
        wait_for(page, processing(2, of=3), what="two jobs processing")
        library = local_storage(page)["library"]
        page.close()
        app.kill()  # while two jobs provably run
    app.start()  # nobody opens the page: the start-up sweep resumes the library's queue
    wait_until(lambda: not any(job.is_active for job in app.store.snapshot(library).jobs), timeout=60, what="the queue")
    assert {job.status for job in app.store.snapshot(library).jobs} == {JobStatus.COMPLETED}
