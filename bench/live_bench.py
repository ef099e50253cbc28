"""Row 11g: a job finished in a job worker process, until every open tab shows it, measured in the browser.

The scaled-out app as the tests run it (`tests/scaled_app.py`: `reflex run --env prod` with two granian web
workers in the web role, one `python -m home_editor.worker`, one SQLite database, a private Redis), with
three Chromium tabs of one library spread over the web workers and the tabs' default 2 s poll. One photo
is dropped at a time, at a random moment; the job worker runs its cutout. Each tab records, with a
MutationObserver, the wall-clock moment (`performance.timeOrigin + performance.now()`) its card first
reads "completed"; the job's end is the wall-clock time the job worker wrote in its execution journal when
the work ended (before it records the result, as in row 11f). Both clocks are this machine's.
Then the same with a job worker that has no Redis (it publishes nothing): the tabs see its jobs only on
their 2 s poll.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

from bench.browser_bench import CHROMIUM_ARGS, _chromium
from bench.stats import summary
from tests.browser.helpers import DROP, local_storage, open_app, statuses, wait_for
from tests.images import photo_bytes
from tests.job_workers import journal_lines
from tests.redis_server import running_redis
from tests.scaled_app import ScaledApp, running_scaled_app, serving_pids

TABS = 3
WATCH_COMPLETIONS = """() => {
  window.__completed = {};
  const look = () => {
    const now = performance.timeOrigin + performance.now();
    document.querySelectorAll('[data-testid=item-card]').forEach(card => {
      const status = card.querySelector('[data-testid=item-status]');
      const id = card.dataset.itemId;
      if (status && status.textContent === 'completed' && !(id in window.__completed)) window.__completed[id] = now;
    });
  };
  new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def _drop_one_at_a_time(scaled: ScaledApp, tabs: list[Page], folder: Path, count: int, seed: int) -> list[float]:
    """Drop `count` photos one by one at random moments; ms from each job's end to each tab showing it."""
    rng = random.Random(seed)
    library = local_storage(tabs[0])["library"]
    for index in range(count):
        tabs[0].wait_for_timeout(rng.uniform(0, 2000))  # at a random moment: no poll's phase plays favourite
        photo = folder / f"live-{seed}-{index}.jpg"
        photo.write_bytes(photo_bytes(("plain", "gradient", "shadow", "textured")[index % 4], "ellipse", 300 + index))
        before = len(statuses(tabs[0]))
        tabs[index % len(tabs)].set_input_files(DROP, [photo])
        for tab in tabs:
            wait_for(tab, lambda page, n=before + 1: _completed_count(page) >= n, timeout=120, what="the cutout")
    ended = {job_id: at for at, event, job_id in journal_lines(scaled.worker_journal) if event == "end"}
    jobs = {job.item_id: job.id for job in scaled.server.store.snapshot(library).jobs}
    latencies = []
    for tab in tabs:
        for item_id, seen_at in tab.evaluate("window.__completed").items():
            if jobs.get(item_id) in ended:
                latencies.append(seen_at - ended[jobs[item_id]])
    assert len(latencies) == count * len(tabs), f"{len(latencies)} of {count * len(tabs)} tab updates seen"
    return latencies


def _completed_count(page: Page) -> int:
    return sum(status == "completed" for status in statuses(page).values())


def _open_tabs(scaled: ScaledApp, context: BrowserContext) -> list[Page]:
    tabs = [open_app(context.new_page(), scaled.server) for _ in range(TABS)]
    for tab in tabs:
        tab.evaluate(WATCH_COMPLETIONS)
    return tabs


def live_update_figures(*, quick: bool = False) -> dict[str, object]:
    """Job end in the job worker → each tab's DOM: with Redis, and with the 2 s poll alone."""
    count, poll_count = (6, 3) if quick else (24, 8)
    with running_redis() as redis_url, tempfile.TemporaryDirectory(prefix="home-editor-live-bench-") as folder:
        work = Path(folder)
        (work / "app").mkdir()
        with running_scaled_app(work / "app", redis_url, web={}, worker={}) as scaled, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            try:
                tabs = _open_tabs(scaled, browser.new_context())
                workers_serving = len(serving_pids(scaled.server))
                redis = _drop_one_at_a_time(scaled, tabs, work, count, seed=11)
                scaled.workers[-1].stop()
                scaled.start_worker(redis=False)  # publishes nothing: only the tabs' poll brings its jobs
                tabs = _open_tabs(scaled, browser.new_context())  # a new library, new tabs
                poll = _drop_one_at_a_time(scaled, tabs, work, poll_count, seed=12)
            finally:
                browser.close()
    return {
        "tabs": TABS,
        "web_workers_serving": workers_serving,
        "redis_ms": summary(redis),
        "poll_ms": summary(poll),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(live_update_figures(quick="--quick" in sys.argv), indent=2))
