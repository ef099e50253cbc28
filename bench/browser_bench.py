"""Metrics 3, 4, 5 and 7, measured on the real app (`reflex run --env prod`) in Chromium: drop → thumbnail,
UI round-trip lag under load, localStorage bytes per item, and the backend's peak memory."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import Browser, Page, sync_playwright

from bench.images import product_photo
from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY
from home_editor.core.models import Item, Job, JobStatus, JobType, new_id, new_library_id
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, open_app, wait_for

DROP_ROUNDS = 3  # ten drops give a p95 that is just the slowest one; 30 give a p95 worth the name
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
WATCH_THUMBNAILS = """() => {
  window.__thumbs = [];
  const seen = new Set();
  const input = document.querySelector('[data-testid=dropzone] input[type=file]');
  input.addEventListener('change', () => { window.__drop = performance.now(); }, true);
  const check = () => document.querySelectorAll('[data-testid=item-thumbnail]').forEach(img => {
    if (!img.src.endsWith('thumb.webp') || seen.has(img.src)) return;
    seen.add(img.src);
    const done = () => window.__thumbs.push(performance.now() - window.__drop);
    if (img.complete && img.naturalWidth) done(); else img.addEventListener('load', done, {once: true});
  });
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true, attributes: true,
                                                      attributeFilter: ['src']});
}"""
CLICK_ROUND_TRIP = """async () => {
  const button = document.querySelector('[data-testid=density-toggle]');
  const before = button.textContent;
  const started = performance.now();
  return await new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (button.textContent !== before) { observer.disconnect(); resolve(performance.now() - started); }
    });
    observer.observe(button, {childList: true, subtree: true, characterData: true});
    button.click();
  });
}"""


def _photos(folder: Path, count: int, *, quality: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = folder / f"photo-{index:02d}.jpg"
        path.write_bytes(product_photo(4000, 3000, quality=quality, seed=index))
        paths.append(path)
    return paths


def drop_to_thumbnail(page: Page, app: AppServer, photos: list[Path]) -> list[float]:
    """Milliseconds from the drop (input change) to each new thumbnail's `load`, photos one by one."""
    open_app(page, app)
    page.evaluate(WATCH_THUMBNAILS)
    for index, photo in enumerate(photos, start=1):
        page.set_input_files(DROP, [photo])
        page.wait_for_function(f"window.__thumbs.length >= {index}", timeout=30_000)
        wait_for(page, lambda p: p.get_by_text("Uploading…").count() == 0, what="the upload to end")
        page.wait_for_timeout(300)
    return page.evaluate("window.__thumbs")


def round_trips(page: Page, count: int) -> list[float]:
    """Milliseconds from a click to the page showing the new state, `count` times."""
    results = []
    for _ in range(count):
        results.append(page.evaluate(CLICK_ROUND_TRIP))
        page.wait_for_timeout(60)
    return results


def lag_under_load(page: Page, app: AppServer, photos: list[Path]) -> dict[str, list[float]]:
    """Round trips idle, then while local cutouts of 12 MP photos run (2 at a time)."""
    open_app(page, app)
    idle = round_trips(page, 20)
    page.set_input_files(DROP, photos)
    wait_for(page, lambda p: p.locator("[data-testid=item-card]").count() == len(photos), timeout=120, what="cards")
    busy, processing_seen = [], 0
    while len(busy) < 40:
        processing = page.locator("[data-testid=item-card][data-status=processing]").count()
        if processing == 0 and busy:
            break
        processing_seen = max(processing_seen, processing)
        busy.extend(round_trips(page, 1))
    wait_for(page, all_completed(len(photos)), timeout=900, what="all cutouts")
    return {"idle": idle, "busy": busy, "processing_seen": [processing_seen]}


def storage_per_item(browser: Browser, app: AppServer, count: int = 1000) -> dict[str, float]:
    """Open a library of `count` items (with one finished cutout job each) and weigh its localStorage."""
    library = new_library_id()
    store = app.store
    store.ensure_library(library, 0)
    base = 1_795_000_000_000
    for index in range(count):
        item = Item(id=new_id(), name=f"IMG_2024_{index:04d}_living-room.jpg", created_ms=base + index,
                    updated_ms=base + index, original="original.jpg", thumb="thumb.webp",
                    cutout=f"cutout-{new_id()}.png", cutout_status=JobStatus.COMPLETED)  # fmt: skip
        job = Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=base + index, updated_ms=base + index,
                  status=JobStatus.COMPLETED, progress=100, attempts=1)  # fmt: skip
        store.add_item(library, item, job)
    context = browser.new_context()
    context.add_init_script(
        f"if (!localStorage.getItem('{LIBRARY_KEY}')) localStorage.setItem('{LIBRARY_KEY}', '{library}')"
    )
    page = open_app(context.new_page(), app)
    page.wait_for_function(f"document.querySelectorAll('[data-testid=item-card]').length === {count}", timeout=120_000)
    page.wait_for_function(f"(localStorage.getItem('{ITEMS_KEY}') || '').length > 1000", timeout=30_000)
    sizes = page.evaluate(f"[localStorage.getItem('{ITEMS_KEY}').length, localStorage.getItem('{JOBS_KEY}').length]")
    context.close()
    total = sum(sizes)
    return {"items_chars": sizes[0], "jobs_chars": sizes[1], "total_chars": total, "per_item": total / count}


def peak_memory(page: Page, app: AppServer, photos: list[Path]) -> dict[str, float]:
    """The backend's resident memory (whole process tree) while `photos` arrive at once and are cut out."""
    root = psutil.Process(app.pid)
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                samples.append(sum(process.memory_info().rss for process in tree if process.is_running()) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    open_app(page, app)
    baseline = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    page.set_input_files(DROP, photos)
    wait_for(page, all_completed(len(photos)), timeout=900, what="all cutouts")
    stop.set()
    thread.join()
    return {
        "baseline_mib": baseline,
        "peak_mib": max(samples),
        "upload_mib": sum(p.stat().st_size for p in photos) / 2**20,
    }


def run_browser_metrics(*, quick: bool) -> dict[str, object]:
    """Start the app once and measure everything that needs a browser."""
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in ("big", "more", "app"):
            (work / name).mkdir()
        big = _photos(work / "big", 10, quality=94)  # ~4 MB each: the drop → thumbnail case
        more = _photos(work / "more", 0 if quick else 10, quality=90)
        app = AppServer(work / "app")
        app.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
                results["drop_to_thumbnail_ms"] = []
                for _ in range(1 if quick else DROP_ROUNDS):  # each round: the ten photos, in a fresh tab
                    context = browser.new_context()
                    results["drop_to_thumbnail_ms"] += drop_to_thumbnail(context.new_page(), app, big)
                    context.close()  # an open tab of a past round would keep working alongside the next
                results["file_mib"] = sum(path.stat().st_size for path in big) / len(big) / 2**20
                results["lag_ms"] = lag_under_load(browser.new_context().new_page(), app, big[: 6 if quick else 10])
                results["storage"] = storage_per_item(browser, app, 300 if quick else 1000)
                results["memory"] = peak_memory(browser.new_context().new_page(), app, (big + more)[:20])
                browser.close()
        finally:
            app.stop()
    return results


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")
