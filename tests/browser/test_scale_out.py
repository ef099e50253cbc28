"""The scaled-out app in real Chromium: `reflex run --env prod` with REFLEX_REDIS_URL set and two granian
workers in the web role (they never run a job), plus one job worker (`python -m home_editor.worker`), all
on one SQLite database and a real Redis. Tabs of one library spread over both web workers; an upload made
in any tab reaches every other tab live, and the job worker runs every job once; a job worker SIGKILLed
mid-job, with the tabs reloading meanwhile, loses nothing: its lease hands each job over to the next; a web
worker SIGKILLed mid-job and mid-upload is replaced by granian, its tabs reconnect to the other one without
a reload and lose nothing, and the drop it was taking in is announced as cut off and is added when dropped
again."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from home_editor.core.models import JobStatus
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, statuses, wait_for, wait_until
from tests.browser.test_reliability import photos
from tests.images import photo_bytes
from tests.job_workers import starts
from tests.scaled_app import ScaledApp, running_scaled_app, serving_pids

pytestmark = pytest.mark.browser
TABS = 4
CUT_OFF = "The upload was cut off before it finished"  # the toast a tab shows for a drop whose worker died
# Counts the sockets a page opens (socket.io takes `WebSocket` when its module loads, after this runs).
COUNT_SOCKETS = """window.__sockets = 0;
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) { super(...args); window.__sockets += 1; }
};"""


@pytest.fixture(scope="module")
def scaled_app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[ScaledApp]:
    """Two web workers and one job worker on one database and one Redis."""
    web = {
        # A tab's poll far longer than the wait for a new card: only Redis notices can bring it in time.
        "HOME_EDITOR_POLL_SECONDS": "60",
        "HOME_EDITOR_LEASE_SECONDS": "180",
    }
    worker = {
        # the job worker's own claims: a short lease, so a killed worker's jobs are handed over soon
        "HOME_EDITOR_LEASE_SECONDS": "6",
        "HOME_EDITOR_RENEW_SECONDS": "1",
        "HOME_EDITOR_POLL_SECONDS": "2",
    }
    with running_scaled_app(tmp_path_factory.mktemp("scaled-app"), redis_url, web=web, worker=worker) as scaled:
        yield scaled


@pytest.mark.reliability(
    "F3 tabs on two web workers (Redis)", "every tab sees every upload live; each job runs once, only in the job worker"
)
def test_tabs_on_different_web_workers_see_each_others_uploads_live(
    scaled_app: ScaledApp, context: BrowserContext, tmp_path: Path
) -> None:
    server = scaled_app.server
    tabs = [open_app(context.new_page(), server) for _ in range(TABS)]
    assert len(serving_pids(server)) == 2, "the tabs did not spread over both web workers"
    for index, photo in enumerate(photos(tmp_path, 2 * TABS, "spread", offset=70)):
        tabs[index % TABS].set_input_files(DROP, [photo])
        for tab in tabs:  # every other tab shows the new card without a reload
            wait_for(tab, lambda page, count=index + 1: len(statuses(page)) >= count, timeout=20, what="the new card")
    for tab in tabs:
        wait_for(tab, all_completed(2 * TABS), timeout=180, what="every cutout in every tab")
    library = local_storage(tabs[0])["library"]
    jobs = server.store.snapshot(library).jobs
    assert len(jobs) == 2 * TABS and starts(scaled_app.worker_journal) == {job.id: 1 for job in jobs}
    assert not server.journal.exists()  # the web workers never ran a job


@pytest.mark.reliability(
    "F4 job worker killed, tabs reloading on other web workers",
    "nothing lost; each job runs exactly once more after the kill (the lease hands it over)",
)
def test_a_job_worker_killed_mid_job_and_reloads_on_other_workers_lose_nothing(
    scaled_app: ScaledApp, context: BrowserContext, tmp_path: Path
) -> None:
    server = scaled_app.server
    tabs = [open_app(context.new_page(), server) for _ in range(2)]
    library = local_storage(tabs[0])["library"]
    with server.hold_local_jobs():  # the jobs provably run in the job worker when it is killed
        tabs[0].set_input_files(DROP, photos(tmp_path, 2, "killed", offset=90))
        wait_until(lambda: _running(server, library) == 2, what="both jobs running in the job worker")
        # claimed (running in the database) comes just before started (in the journal): wait for the start
        wait_until(lambda: _started(scaled_app, library) == 2, what="both jobs started in the job worker")
        scaled_app.workers[-1].kill()
        for tab in tabs:
            tab.reload()  # a reload may land on the other web worker
            tab.wait_for_selector("[data-ready=true]", timeout=30_000)
            assert len(statuses(tab)) == 2
        server.release_local_jobs()
        scaled_app.start_worker()  # the heir takes the jobs over once their leases run out
    for tab in tabs:
        wait_for(tab, all_completed(2), timeout=180, what="both cutouts after the hand-over")
    jobs = server.store.snapshot(library).jobs
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    runs = starts(scaled_app.worker_journal)
    assert {job.id: runs[job.id] for job in jobs} == {job.id: 2 for job in jobs}  # the killed run, then one more


@pytest.mark.reliability(
    "F4 web worker killed (SIGKILL) mid-job and mid-upload",
    "granian replaces it; its tabs reconnect without a reload and see every item and job; each job runs once;"
    " the drop it was taking in is announced as cut off, and added once when dropped again",
)
def test_a_web_worker_killed_mid_job_and_mid_upload_loses_nothing(
    scaled_app: ScaledApp, browser: Browser, tmp_path: Path
) -> None:
    server = scaled_app.server
    context = browser.new_context()
    context.add_init_script(COUNT_SOCKETS)
    try:
        tabs = [open_app(context.new_page(), server) for _ in range(3)]
        uploader = tabs[-1]
        library = local_storage(tabs[0])["library"]
        big = tmp_path / "big.jpg"
        big.write_bytes(photo_bytes("textured", "ring", 2000))  # ~0.7 MB: at 32 KB/s it takes ~20 s to send
        with server.hold_local_jobs():  # the jobs provably run in the job worker during the kills
            tabs[0].set_input_files(DROP, photos(tmp_path, 2, "web-kill", offset=110))
            wait_until(lambda: _running(server, library) == 2, what="both jobs running in the job worker")
            for tab in tabs:
                wait_for(tab, lambda page: len(statuses(page)) == 2, timeout=30, what="both cards")
                tab.evaluate("window.__same_page = true")  # gone if the tab reloaded
            sockets = [tab.evaluate("window.__sockets") for tab in tabs]
            first_workers = _web_workers(server)
            assert len(first_workers) == 2
            throttle = context.new_cdp_session(uploader)
            throttle.send("Network.enable")
            throttle.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 32 * 1024},
            )
            uploader.set_input_files(DROP, [big])
            killed = _kill_each_worker_taking_it_in(server, uploader)  # mid-upload, mid-job
            throttle.send("Network.emulateNetworkConditions", _UNTHROTTLED)
            assert len(server.store.snapshot(library).items) == 2  # nothing half-received was added
            for original in first_workers - killed:  # every tab has now lost the worker its socket was on
                killed |= _kill_web_worker(server, original)
            for tab, opened in zip(tabs, sockets, strict=True):
                reconnected = lambda page, n=opened: page.evaluate("window.__sockets") > n  # noqa: E731
                wait_for(tab, reconnected, timeout=60, what="a reconnect")
                wait_for(tab, lambda page: len(statuses(page)) == 2, timeout=60, what="both cards after the kills")
                assert tab.evaluate("window.__same_page") is True  # reconnected, never reloaded
            uploader.wait_for_selector(f"{DROP}:not([disabled])", state="attached", timeout=30_000)
            again = tmp_path / "big-again.jpg"  # the same photo (Chromium ignores the very same file list twice)
            again.write_bytes(big.read_bytes())
            uploader.set_input_files(DROP, [again])  # dropped again: added once
            for tab in tabs:
                wait_for(tab, lambda page: len(statuses(page)) == 3, timeout=60, what="the card dropped again")
        for tab in tabs:
            wait_for(tab, all_completed(3), timeout=240, what="every cutout in every tab")
    finally:
        context.close()
    jobs = server.store.snapshot(library).jobs
    assert len(jobs) == 3 and {job.status for job in jobs} == {JobStatus.COMPLETED}
    runs = starts(scaled_app.worker_journal)
    assert {job.id: runs[job.id] for job in jobs} == {job.id: 1 for job in jobs}  # no job ran twice
    assert not server.journal.exists()  # the web workers never ran a job


_UNTHROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def _kill_each_worker_taking_it_in(server: AppServer, tab: Page) -> set[int]:
    """SIGKILL the web worker taking the tab's drop in, and again each time the browser re-sends the drop to
    another one (Chromium re-sends a request when a reused connection breaks), until the tab says the
    upload was cut off. Returns the killed workers."""
    killed: set[int] = set()
    deadline = time.monotonic() + 120
    while not _toast(CUT_OFF)(tab):
        assert time.monotonic() < deadline, f"the cut-off drop was never announced (killed {killed})"
        taker = _taking_in_a_drop(server, _web_workers(server))
        if taker is not None:
            killed |= _kill_web_worker(server, taker)
        tab.wait_for_timeout(100)
    assert killed, "no web worker was taking the drop in"
    return killed


def _kill_web_worker(server: AppServer, pid: int) -> set[int]:
    """SIGKILL one web worker once it has lived past granian's crash-loop guard (a worker dying within
    5.5 s of its respawn stops the whole server), and wait until granian has replaced it."""
    wait_until(lambda: _age_seconds(pid) > 6, what="the worker outliving granian's crash-loop guard")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _replaced(server, {pid}), what="granian replacing the killed web worker")
    return {pid}


def _age_seconds(pid: int) -> float:
    started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])  # clock ticks after boot
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started / os.sysconf("SC_CLK_TCK")


def _toast(text: str):
    return lambda page: page.get_by_text(text).count() > 0


def _web_workers(server: AppServer) -> set[int]:
    """granian's worker processes: the app's children forked from it (same command line)."""
    command = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    workers = set()
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == server.pid and (proc / "cmdline").read_bytes() == command:
                workers.add(int(proc.name))
    return workers


def _replaced(server: AppServer, killed: set[int]) -> bool:
    """Two web workers again, none of them one that was killed."""
    workers = _web_workers(server)
    return len(workers) == 2 and not workers & killed


def _taking_in_a_drop(server: AppServer, workers: set[int]) -> int | None:
    """The web worker with a file open in the app's upload spool (a drop arriving), if any."""
    spool = str(server.data_dir / "spool")
    for pid in workers:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if str(fd.readlink()).startswith(spool):
                        return pid
    return None


def _running(server: AppServer, library: str) -> int:
    return sum(job.status is JobStatus.PROCESSING for job in server.store.snapshot(library).jobs)


def _started(scaled_app: ScaledApp, library: str) -> int:
    """Starts of the library's jobs written in the job workers' journal."""
    ids = {job.id for job in scaled_app.server.store.snapshot(library).jobs}
    return sum(count for job_id, count in starts(scaled_app.worker_journal).items() if job_id in ids)
