"""Fault scenarios in real Chromium against the real app: refresh storms with rembg and 3D jobs in
flight (local and remote), two tabs uploading in turn, a browser whose storage is full or tampered."""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY, decode_items, decode_jobs
from home_editor.core.models import JobStatus
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, statuses, wait_for, wait_until
from tests.images import photo_bytes
from tests.stubs.trellis_stub import TrellisStub

pytestmark = pytest.mark.browser
KINDS = ("plain", "gradient", "textured", "shadow")


def photos(folder: Path, count: int, prefix: str, offset: int = 0) -> list[Path]:
    """Distinct photos (the same bytes twice would share one cutout, by design)."""
    paths = []
    for index in range(count):
        path = folder / f"{prefix}-{index}.jpg"
        path.write_bytes(photo_bytes(KINDS[index % 4], "ellipse", 420 + offset + index))
        paths.append(path)
    return paths


def three_cutouts(page: Page, folder: Path) -> None:
    page.set_input_files(DROP, photos(folder, 3, "first"))
    wait_for(page, all_completed(3), timeout=90, what="the first three cutouts")


def queue_six_jobs(page: Page, folder: Path) -> None:
    """Models for the three cutouts, plus three new photos: 3 GLB + 3 rembg jobs."""
    buttons = page.get_by_test_id("generate-3d-button")
    for remaining in (2, 1, 0):
        buttons.first.click()  # a clicked card's button goes away, so always the first one left
        wait_for(page, lambda p, left=remaining: p.get_by_test_id("generate-3d-button").count() == left, what="queued")
    page.set_input_files(DROP, photos(folder, 3, "second", offset=10))


def six_jobs_in_flight(page: Page, folder: Path) -> None:
    """Three cutouts done and their 3D models queued, plus three new photos: 3 rembg + 3 GLB jobs."""
    three_cutouts(page, folder)
    queue_six_jobs(page, folder)


def storm(page: Page, reloads: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(reloads):
        page.wait_for_timeout(rng.uniform(80, 600))
        page.reload(wait_until="commit")
    page.wait_for_selector("[data-ready=true]", timeout=30_000)


def settled(app: AppServer, library: str) -> list:
    snapshot = app.store.snapshot(library)
    return [job for job in snapshot.jobs if job.is_active]


def running(app: AppServer, library: str) -> int:
    return sum(job.status is JobStatus.PROCESSING for job in app.store.snapshot(library).jobs)


def finish(page: Page, app: AppServer) -> tuple[str, list]:
    library = local_storage(page)["library"]
    wait_for(page, lambda p: not settled(app, library), timeout=180, what="every job to settle")
    jobs = app.store.snapshot(library).jobs
    return library, jobs


@pytest.mark.reliability(
    "F1 refresh storm, local",
    "20 reloads, 10 while 6 jobs provably wait or run (held), 10 while they finish: all items, all jobs done,"
    " each run once",
)
def test_refresh_storm_with_local_jobs(app: AppServer, page: Page, tmp_path: Path) -> None:
    open_app(page, app)
    three_cutouts(page, tmp_path)
    library = local_storage(page)["library"]
    with app.hold_local_jobs():  # the first ten reloads hit six jobs that provably are in flight…
        queue_six_jobs(page, tmp_path)
        wait_until(lambda: running(app, library) == 2 and len(settled(app, library)) == 6, what="two of six running")
        storm(page, 10, seed=1)
        assert len(settled(app, library)) == 6
    storm(page, 10, seed=11)  # …the other ten while they start and finish
    library, jobs = finish(page, app)
    assert len(app.store.snapshot(library).items) == 6 and len(jobs) == 9
    assert {job.status.value for job in jobs} == {"completed"}
    runs = app.executions()
    assert {job.id: runs[job.id] for job in jobs} == {job.id: 1 for job in jobs}
    wait_for(page, all_completed(6), timeout=10, what="the page to show it")


@pytest.mark.reliability("F1 refresh storm, remote", "20 reloads during 6 jobs: each submitted upstream exactly once")
def test_refresh_storm_with_remote_jobs(remote_app: AppServer, stubs, page: Page, tmp_path: Path) -> None:
    trellis: TrellisStub = stubs[0]
    before = {kind: len(trellis.submissions(kind)) for kind in ("rembg", "trellis")}
    open_app(page, remote_app)
    six_jobs_in_flight(page, tmp_path)
    storm(page, 20, seed=2)
    _, jobs = finish(page, remote_app)
    assert {job.status.value for job in jobs} == {"completed"} and len(jobs) == 9
    kinds = collections.Counter(job.type.value for job in jobs)
    assert len(trellis.submissions("rembg")) - before["rembg"] == kinds["rembg"] == 6
    assert len(trellis.submissions("trellis")) - before["trellis"] == kinds["glb"] == 3


@pytest.mark.reliability("F3 two tabs, 10 uploads interleaved", "both tabs list all 10 items; none lost; each job once")
def test_two_tabs_taking_turns(app: AppServer, context: BrowserContext, tmp_path: Path) -> None:
    left = open_app(context.new_page(), app)
    right = open_app(context.new_page(), app)
    for index, photo in enumerate(photos(tmp_path, 10, "turn", offset=20)):
        tab = left if index % 2 == 0 else right
        tab.set_input_files(DROP, [photo])
        wait_for(tab, lambda p, count=index + 1: len(statuses(p)) >= count, timeout=20, what="the new card")
    for tab in (left, right):
        wait_for(tab, all_completed(10), timeout=120, what="ten cutouts in both tabs")
    assert set(statuses(left)) == set(statuses(right))
    library = local_storage(left)["library"]
    runs = app.executions()
    assert {job.id: runs[job.id] for job in app.store.snapshot(library).jobs} == {
        job.id: 1 for job in app.store.snapshot(library).jobs
    }


@pytest.mark.reliability(
    "F7 localStorage full of other data", "the page connects and works; the server keeps the truth"
)
def test_a_full_local_storage_does_not_break_the_page(app: AppServer, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context()
    page = open_app(context.new_page(), app)
    filled = page.evaluate(
        """() => { let n = 0; for (const size of [500000, 20000, 500]) {
            const chunk = 'x'.repeat(size);
            try { for (;;) localStorage.setItem('other.app.' + (n++), chunk); } catch (e) {} } return n; }"""
    )
    assert filled > 10
    page.set_input_files(DROP, photos(tmp_path, 2, "full", offset=40))
    wait_for(page, all_completed(2), timeout=60, what="cutouts with storage full")
    page.reload()
    page.wait_for_selector("[data-ready=true]", timeout=30_000)
    wait_for(page, all_completed(2), timeout=10, what="the library after a reload")
    context.close()


@pytest.mark.reliability("F7 a 2 MB blob in the mirror", "the page still connects and the mirror is rewritten small")
def test_a_two_megabyte_mirror_is_survived(app: AppServer, page: Page, tmp_path: Path) -> None:
    open_app(page, app)
    page.set_input_files(DROP, photos(tmp_path, 1, "blob", offset=50))
    wait_for(page, all_completed(1), timeout=30, what="a cutout")
    page.evaluate(f"localStorage.setItem('{ITEMS_KEY}', JSON.stringify({{v: 1, items: ['x'.repeat(2000000)]}}))")
    page.reload()
    page.wait_for_selector("[data-ready=true]", timeout=30_000)
    wait_for(page, all_completed(1), timeout=10, what="the server's copy")
    assert len(page.evaluate(f"localStorage.getItem('{ITEMS_KEY}')")) < 1000


@pytest.mark.reliability(
    "F7 mirror pointing at internal URLs",
    "well-formed forged rows (valid ids and file names, URLs in their texts) are checked against the library's own"
    " files only: the server fetches none of the URLs",
)
def test_forged_urls_in_the_mirror_are_never_fetched(app: AppServer, browser: Browser, tmp_path: Path) -> None:
    trap = TrellisStub().start()  # any listening loopback server: it records every request it gets
    try:
        context = browser.new_context()
        page = open_app(context.new_page(), app)
        page.set_input_files(DROP, photos(tmp_path, 1, "real", offset=60))
        wait_for(page, all_completed(1), timeout=30, what="a cutout")
        library = local_storage(page)["library"]
        [real] = local_storage(page)["items"]
        lure, inside = f"{trap.url}/fetch-me", f"http://127.0.0.1:{app.port}/ping"
        newer = list(real)  # the real item, newer in the mirror, its texts pointing at the trap
        newer[1], newer[3], newer[8], newer[9] = lure, real[3] + 1000, lure, lure
        items = [
            newer,
            ["abcdefghijkm", lure, 1, 2, "original.jpg", "thumb.webp", "cutout-abcdefghijkm.png", "completed",
             "", "", "model-abcdefghijkm.glb", "completed", ""],
            ["bcdefghijkmn", inside, 1, 2, "original.png", "thumb.webp", "", "failed", lure, "", "", "", ""],
        ]  # fmt: skip
        jobs = [["cdefghijkmnp", "abcdefghijkm", "rembg", "processing", 10, 0, 50, lure, 1, 2]]
        raw_items, raw_jobs = json.dumps({"v": 1, "items": items}), json.dumps({"v": 1, "jobs": jobs})
        assert len(decode_items(raw_items)) == 3 and len(decode_jobs(raw_jobs)) == 1  # all pass decoding
        for key, raw in ((ITEMS_KEY, raw_items), (JOBS_KEY, raw_jobs), (LIBRARY_KEY, library)):
            page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, raw])
        page.reload()
        page.wait_for_selector("[data-ready=true]", timeout=30_000)  # set once the mirror is reconciled
        # the server did weigh the forged rows: the real item took the mirror's newer name (as text only)
        assert app.store.item(library, real[0]).name == lure
        assert set(statuses(page)) == {real[0]}  # the others have no files of their own: not adopted
        assert trap.requests == []
        context.close()
    finally:
        trap.stop()
