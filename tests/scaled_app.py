"""The scaled-out app, for the multi-process browser tests and the live-update benchmark: `reflex run --env
prod` with REFLEX_REDIS_URL set and two granian workers in the web role (they never run a job), plus job
workers (`python -m home_editor.worker`), all on one SQLite database, one media folder and one Redis."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from tests.browser.app_server import AppServer
from tests.job_workers import WorkerProcess


@dataclasses.dataclass
class ScaledApp:
    """The app (two web workers) and its job workers, which a test may kill and replace."""

    server: AppServer
    worker_env: dict[str, str]
    worker_journal: Path
    workers: list[WorkerProcess]

    def start_worker(self, *, redis: bool = True) -> WorkerProcess:
        """Start one more job worker and wait until it claims work; `redis=False` starts one that neither
        publishes its changes nor hears of new work (the tabs then learn of its jobs by their poll)."""
        env = dict(self.worker_env)
        if not redis:
            env.pop("HOME_EDITOR_REDIS_URL")
        worker = WorkerProcess(env, self.server.workdir / f"job-worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker.wait_ready()


@contextlib.contextmanager
def running_scaled_app(
    workdir: Path, redis_url: str, *, web: dict[str, str], worker: dict[str, str]
) -> Iterator[ScaledApp]:
    """Start the web tier (two web workers) and one job worker; stop them all at the end.

    Args:
        workdir: Where the app keeps its database, files, journals, logs and its own frontend build.
        redis_url: The Redis both tiers share.
        web: Extra settings for the web workers.
        worker: Extra settings for the job workers.
    """
    server = AppServer(
        workdir,
        own_web_dir=True,  # a prod build of its own: it may run beside another app
        REFLEX_REDIS_URL=redis_url,
        GRANIAN_WORKERS="2",
        HOME_EDITOR_ROLE="web",
        HOME_EDITOR_CUTOUT_METHOD="classical",
        **web,
    )
    worker_env = {
        "HOME_EDITOR_DB_URL": server.db_url,
        "HOME_EDITOR_DATA_DIR": str(server.data_dir),
        "HOME_EDITOR_MEDIA_DIR": str(workdir / "media"),
        "HOME_EDITOR_EXECUTION_LOG": str(workdir / "worker-executions.log"),
        "HOME_EDITOR_TEST_HOLD_FILE": str(server.hold_file),
        "HOME_EDITOR_REDIS_URL": redis_url,
        "HOME_EDITOR_CUTOUT_METHOD": "classical",
        "REFLEX_API_URL": server.url,
        **worker,
    }
    scaled = ScaledApp(server, worker_env, workdir / "worker-executions.log", [])
    server.start()
    try:
        scaled.start_worker()
        yield scaled
    finally:
        for process in scaled.workers:
            process.stop()
        server.stop()


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
