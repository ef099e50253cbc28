"""The scaled-out app in real Chromium: `reflex run --env prod` with REFLEX_REDIS_URL set and two granian
workers in the web role (they never run a job), plus one job worker (`python -m home_editor.worker`), all
on one SQLite database and a real Redis. Tabs of one library spread over both web workers; an upload made
in any tab reaches every other tab live, and the job worker runs every job once; a job worker SIGKILLed
mid-job, with the tabs reloading meanwhile, loses nothing: its lease hands each job over to the next."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from home_editor.core.models import JobStatus
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, statuses, wait_for, wait_until
from tests.browser.test_reliability import photos
from tests.job_workers import WorkerProcess, starts

pytestmark = pytest.mark.browser
TABS = 4


@dataclasses.dataclass
class ScaledApp:
    """The app (two web workers) and its one job worker, which a test may kill and replace."""

    server: AppServer
    worker_env: dict[str, str]
    worker_journal: Path
    workers: list[WorkerProcess]

    def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.worker_env, self.server.workdir / f"job-worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker.wait_ready()


@pytest.fixture(scope="module")
def scaled_app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[ScaledApp]:
    """Two web workers and one job worker on one database and one Redis."""
    workdir = tmp_path_factory.mktemp("scaled-app")
    server = AppServer(
        workdir,
        own_web_dir=True,  # a prod build of its own: it may run beside the session's app
        REFLEX_REDIS_URL=redis_url,
        GRANIAN_WORKERS="2",
        HOME_EDITOR_ROLE="web",
        HOME_EDITOR_CUTOUT_METHOD="classical",
        # A tab's poll far longer than the wait for a new card: only Redis notices can bring it in time.
        HOME_EDITOR_POLL_SECONDS="60",
        HOME_EDITOR_LEASE_SECONDS="180",
    )
    worker_env = {
        "HOME_EDITOR_DB_URL": server.db_url,
        "HOME_EDITOR_DATA_DIR": str(server.data_dir),
        "HOME_EDITOR_MEDIA_DIR": str(workdir / "media"),
        "HOME_EDITOR_EXECUTION_LOG": str(workdir / "worker-executions.log"),
        "HOME_EDITOR_TEST_HOLD_FILE": str(server.hold_file),
        "HOME_EDITOR_REDIS_URL": redis_url,
        "HOME_EDITOR_CUTOUT_METHOD": "classical",
        # the job worker's own claims: a short lease, so a killed worker's jobs are handed over soon
        "HOME_EDITOR_LEASE_SECONDS": "6",
        "HOME_EDITOR_RENEW_SECONDS": "1",
        "HOME_EDITOR_POLL_SECONDS": "2",
        "REFLEX_API_URL": server.url,
    }
    scaled = ScaledApp(server, worker_env, workdir / "worker-executions.log", [])
    server.start()
    try:
        scaled.start_worker()
        yield scaled
    finally:
        for worker in scaled.workers:
            worker.stop()
        server.stop()


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


def _running(server: AppServer, library: str) -> int:
    return sum(job.status is JobStatus.PROCESSING for job in server.store.snapshot(library).jobs)


def serving_pids(server: AppServer) -> set[int]:
    """The app's processes holding an established connection on its port (its web workers serving tabs)."""
    established = _established_inodes(server.port)
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != server.pid:
                continue  # not in the app's process group
            for fd in (proc / "fd").iterdir():
                link = str(fd.readlink())
                if link.startswith("socket:[") and int(link[8:-1]) in established:
                    pids.add(int(proc.name))
                    break
    return pids


def _established_inodes(port: int) -> set[int]:
    """Socket inodes of established TCP connections whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(int(fields[9]))
    return inodes
