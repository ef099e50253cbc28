"""The scaled-out app in real Chromium: `reflex run --env prod` with REFLEX_REDIS_URL set and two granian
workers in the web role (they never run a job), plus one job worker (`python -m home_editor.worker`), all
on one SQLite database and a real Redis. Tabs of one library spread over both web workers; an upload made
in any tab reaches every other tab live, and the job worker runs every job once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, statuses, wait_for
from tests.browser.test_reliability import photos
from tests.job_workers import WorkerProcess, starts
from tests.redis_server import redis_url  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
TABS = 4


@pytest.fixture(scope="module")
def scaled_app(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[AppServer, Path]]:  # noqa: F811
    """Two web workers and one job worker; yields the app and the job worker's execution journal."""
    workdir = tmp_path_factory.mktemp("scaled-app")
    # A poll far longer than the wait for a new card: only Redis notices can bring it in time (between the
    # web workers, and from the web workers to the job worker, which otherwise finds work by its poll).
    common = {
        "HOME_EDITOR_CUTOUT_METHOD": "classical",
        "HOME_EDITOR_POLL_SECONDS": "60",
        "HOME_EDITOR_LEASE_SECONDS": "180",
    }
    server = AppServer(
        workdir,
        own_web_dir=True,  # a prod build of its own: it may run beside the session's app
        REFLEX_REDIS_URL=redis_url,
        GRANIAN_WORKERS="2",
        HOME_EDITOR_ROLE="web",
        **common,
    )
    worker_journal = workdir / "worker-executions.log"
    worker_env = {
        "HOME_EDITOR_DB_URL": server.db_url,
        "HOME_EDITOR_DATA_DIR": str(server.data_dir),
        "HOME_EDITOR_MEDIA_DIR": str(workdir / "media"),
        "HOME_EDITOR_EXECUTION_LOG": str(worker_journal),
        "HOME_EDITOR_REDIS_URL": redis_url,
        "REFLEX_API_URL": server.url,
        **common,
    }
    server.start()
    worker = WorkerProcess(worker_env, workdir / "job-worker.log")
    try:
        worker.wait_ready()
        yield server, worker_journal
    finally:
        worker.stop()
        server.stop()


def test_tabs_on_different_web_workers_see_each_others_uploads_live(
    scaled_app: tuple[AppServer, Path], context: BrowserContext, tmp_path: Path
) -> None:
    server, worker_journal = scaled_app
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
    assert len(jobs) == 2 * TABS and starts(worker_journal) == {job.id: 1 for job in jobs}
    assert not server.journal.exists()  # the web workers never ran a job


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
