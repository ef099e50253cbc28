"""Runs the real app (`reflex run --env prod`, one port) in its own process group, so tests can reload
pages against it, stop it, SIGKILL it and start it again on the same database and files.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine

ROOT = Path(__file__).parents[2]
START_TIMEOUT = 420  # the very first start installs the frontend packages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """One app instance with its own database, media folder and execution journal under `workdir`."""

    def __init__(
        self, workdir: Path, *, own_web_dir: bool = False, default_places: bool = False, **settings: str
    ) -> None:
        """Args:
        workdir: Where this instance keeps its database, files, journal and log.
        own_web_dir: Build the frontend in `workdir` instead of the repo's `.web` (needed when two
            instances run at once: a prod build bakes the backend URL into the shared files).
        default_places: Keep the database and files where the app puts them by default, with the user's
            data folder (`XDG_DATA_HOME`) and Reflex's upload folder (`REFLEX_UPLOADED_FILES_DIR`, served
            at /_upload/) both inside `workdir`; no execution journal.
        **settings: Extra environment variables for the app.
        """
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.journal = workdir / "executions.log"
        self.log = workdir / "server.log"
        self.upload_dir = workdir / "uploaded_files"
        self.data_dir = workdir / "xdg-data" / "home_editor" if default_places else workdir / "data"
        places = {
            "HOME_EDITOR_DATA_DIR": str(self.data_dir),
            "HOME_EDITOR_DB_URL": f"sqlite:///{workdir / 'app.db'}",
            "HOME_EDITOR_MEDIA_DIR": str(workdir / "media"),
            "HOME_EDITOR_EXECUTION_LOG": str(self.journal),
        }
        if default_places:
            places = {
                "XDG_DATA_HOME": str(self.data_dir.parent),
                "REFLEX_DIR": str(reflex_dir()),  # Reflex's own tools stay where they were installed
            }
        self.db_url = places.get("HOME_EDITOR_DB_URL", f"sqlite:///{self.data_dir / 'home_editor.db'}")
        overridden = ("HOME_EDITOR_DB_URL", "HOME_EDITOR_MEDIA_DIR", "HOME_EDITOR_DATA_DIR") if default_places else ()
        self.hold_file = workdir / "hold-local-jobs"  # see `hold_local_jobs`; outside every served folder
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in overridden},
            "REFLEX_USE_NPM": "1",
            "REFLEX_API_URL": self.url,
            "REFLEX_TELEMETRY_ENABLED": "false",
            "REFLEX_UPLOADED_FILES_DIR": str(self.upload_dir),
            **places,
            "HOME_EDITOR_TEST_HOLD_FILE": str(self.hold_file),
            **settings,
        }
        if own_web_dir:
            self.env["REFLEX_WEB_WORKDIR"] = str(workdir / "web")
            self.env["REFLEX_STATES_WORKDIR"] = str(workdir / "states")
        self._process: subprocess.Popen[bytes] | None = None
        self._store: LibraryStore | None = None

    def start(self) -> None:
        """Start and wait until the page and the backend answer."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "reflex",
                    "run",
                    "--env",
                    "prod",
                    "--frontend-port",
                    str(self.port),
                    "--backend-port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.kill)  # never leave a server behind, even if the test run is cut short
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the app exited:\n{self.log.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(f"{self.url}/ping", timeout=2).status_code == 200
                    and httpx.get(self.url, timeout=5).status_code == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the app did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash: nothing gets to clean up)."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing after a grace period."""
        self._signal(signal.SIGTERM, grace=15)

    def _signal(self, sig: signal.Signals, grace: float = 5) -> None:
        if self._process is None:
            return
        if self._process.poll() is not None:  # the main process is gone; make sure its workers are too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            return
        os.killpg(self._process.pid, sig)
        try:
            self._process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(grace)
        _wait_port_free(self.port)

    def bytes_written(self) -> int:
        """Bytes every process of the app has written so far (write calls to files, pipes and sockets
        alike: `wchar` in /proc/<pid>/io), summed over the app's process group."""
        total = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) == self.pid:  # its group
                    io = dict(line.split(": ") for line in (proc / "io").read_text().splitlines())
                    total += int(io["wchar"])
        return total

    @contextlib.contextmanager
    def hold_local_jobs(self) -> Iterator[None]:
        """While inside, each local job that starts running waits at its end (still `processing`), so a
        test can cancel, reload or kill while jobs provably run; leaving releases them."""
        self.hold_file.touch()
        try:
            yield
        finally:
            self.release_local_jobs()

    def release_local_jobs(self) -> None:
        """Let held local jobs finish (also early, inside `hold_local_jobs`)."""
        self.hold_file.unlink(missing_ok=True)

    @property
    def pid(self) -> int:
        """The app's main process (its workers are its children)."""
        assert self._process is not None
        return self._process.pid

    @property
    def store(self) -> LibraryStore:
        """The app's database, read directly (the server's truth)."""
        if self._store is None:
            self._store = LibraryStore(create_engine(self.db_url))
        return self._store

    def executions(self) -> collections.Counter[str]:
        """How many times each job id started executing, from the app's execution journal."""
        if not self.journal.exists():
            return collections.Counter()
        lines = (line.split() for line in self.journal.read_text().splitlines())
        return collections.Counter(parts[2] for parts in lines if len(parts) == 4 and parts[1] == "start")


def reflex_dir() -> Path:
    """Where Reflex keeps its own tools for this user (it follows XDG_DATA_HOME unless REFLEX_DIR is set)."""
    from reflex_base.environment import environment

    return environment.REFLEX_DIR.get()


def _wait_port_free(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
