"""Job worker processes for the multi-process tests and the benchmark: each is a real
`python -m home_editor.worker` on a shared SQLite database (WAL) and media folder, with its own log;
a test waits for its ready line, and can stop it or SIGKILL it."""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from home_editor.worker import READY

ROOT = Path(__file__).parents[1]
START_TIMEOUT = 120  # spawning its processing workers takes a while on a busy machine


def shared_env(workdir: Path, redis_url: str = "", **settings: str) -> dict[str, str]:
    """The environment every process of one test shares: one database, one media folder, one journal."""
    env = {
        "HOME_EDITOR_DATA_DIR": str(workdir / "data"),
        "HOME_EDITOR_DB_URL": f"sqlite:///{workdir / 'app.db'}",
        "HOME_EDITOR_MEDIA_DIR": str(workdir / "media"),
        "HOME_EDITOR_EXECUTION_LOG": str(workdir / "executions.log"),
        "HOME_EDITOR_CUTOUT_METHOD": "classical",  # nothing fetched; the model's own tests cover it
        "HOME_EDITOR_POLL_SECONDS": "0.5",
        "REFLEX_API_URL": "http://app.test",
        **settings,
    }
    if redis_url:
        env["HOME_EDITOR_REDIS_URL"] = redis_url
    return env


class WorkerProcess:
    """One `python -m home_editor.worker`, started in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path, command: tuple[str, ...] = ("-m", "home_editor.worker")) -> None:
        self.log = log
        clean = {key: value for key, value in os.environ.items() if not key.startswith("HOME_EDITOR_")}
        clean.pop("REFLEX_REDIS_URL", None)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                env={**clean, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.kill)

    def wait_ready(self) -> WorkerProcess:
        """Return once the worker claims work (and hears Redis); raise with its log if it exits first."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log.read_text()[-3000:]}")
            if READY in self.log.read_text():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its processing workers (a crash: nothing gets to clean up)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(20)
        self.kill()


def journal_lines(journal: Path) -> list[tuple[int, str, str]]:
    """(epoch ms, start|end, job id) per line of an execution journal (none when it does not exist)."""
    if not journal.exists():
        return []
    rows = (line.split() for line in journal.read_text().splitlines())
    return [(int(parts[0]), parts[1], parts[2]) for parts in rows if len(parts) == 4]


def starts(journal: Path) -> collections.Counter[str]:
    """How many times each job started executing."""
    return collections.Counter(job for _, event, job in journal_lines(journal) if event == "start")


def peak_running(journal: Path) -> int:
    """The most jobs running at once (a job's end is written before its slot is freed; ties count ends first)."""
    running = peak = 0
    for _, event, _ in sorted(journal_lines(journal), key=lambda row: (row[0], row[1] == "start")):
        running += 1 if event == "start" else -1
        peak = max(peak, running)
    return peak
