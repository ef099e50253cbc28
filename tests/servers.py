"""Throw-away database servers for tests and benchmarks: a real Postgres 15 (Debian's `postgresql` package)
in a temporary folder on a free loopback port, removed again when stopped.

Postgres refuses to run as root, so as root `initdb` and `pg_ctl` run as the `postgres` user the Debian
package creates (`runuser -u postgres -- …`), with the folder owned by it; as any other user they run as
that user. A missing Postgres is an error, never a skip: `scripts/test.sh` installs it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)
OWNER = "postgres"  # the Debian package's user, for running as root
ADMIN = "he_test"  # the superuser of the throw-away cluster


class PostgresMissingError(RuntimeError):
    """Postgres is not installed (the test command installs it)."""


def postgres_bin_dir() -> Path:
    """Where `initdb`, `pg_ctl` and `postgres` are: $POSTGRES_BIN, Debian's folder, or PATH."""
    candidates = [Path(os.environ["POSTGRES_BIN"])] if os.environ.get("POSTGRES_BIN") else []
    candidates += list(BIN_DIRS)
    found = shutil.which("initdb")
    candidates += [Path(found).parent] if found else []
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresMissingError(
        "Postgres 15 is not installed (no initdb/pg_ctl in /usr/lib/postgresql/15/bin or on PATH): "
        "run scripts/test.sh as root, which installs it, or `apt-get install postgresql`"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One Postgres cluster: `start()`, `new_database()` per test, `stop()` removes everything.

    `durable=False` (tests) turns fsync off for speed; benchmarks keep Postgres' defaults.
    """

    def __init__(self, *, durable: bool = False) -> None:
        self._bin = postgres_bin_dir()
        self._as_root = os.geteuid() == 0
        self._durable = durable
        self._root = Path(tempfile.mkdtemp(prefix="he-postgres-"))
        self._password = secrets.token_hex(16)
        self._names = itertools.count(1)
        self.port = 0
        self._watchdog: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        return self._root / "data"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of a database of this server."""
        return f"postgresql+psycopg://{ADMIN}:{self._password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        """initdb, then start on a free port (a few tries: another process may take the port first)."""
        if self._as_root:
            os.chown(self._root, pwd.getpwnam(OWNER).pw_uid, pwd.getpwnam(OWNER).pw_gid)
        password_file = self._root / "password"
        password_file.write_text(self._password)
        if self._as_root:
            os.chown(password_file, pwd.getpwnam(OWNER).pw_uid, -1)
        password_file.chmod(0o600)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            ADMIN,
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",  # the socket's folder is the owner's only (0700)
            "--encoding=UTF8",
            "--no-sync",
        )
        password_file.unlink()
        options = f"-c listen_addresses=127.0.0.1 -k {self._root} -c max_connections=200"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._watchdog = subprocess.Popen(  # stops the server even if this process is killed
            [sys.executable, "-m", "tests.servers", str(self._bin), str(self.data_dir), str(int(self._as_root))],
            stdin=subprocess.PIPE,
            start_new_session=True,
            cwd=Path(__file__).parents[1],
        )
        for attempt in range(5):
            self.port = free_port()
            started = self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self._root / "server.log"),
                "-o",
                f"{options} -p {self.port}",
                "-w",
                "start",
                check=attempt == 4,
            )
            if started.returncode == 0:
                return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server (immediately: it is thrown away) and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            if self.port:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
        if self._watchdog is not None:
            self._watchdog.stdin.close()
            self._watchdog.wait(timeout=60)

    def new_database(self) -> str:
        """A new empty database; its URL."""
        name = f"he_{next(self._names)}_{secrets.token_hex(3)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `new_database` (connections still open to it are closed)."""
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=ADMIN, password=self._password, dbname="postgres", autocommit=True
        )

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self._bin / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", OWNER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self._root)
        if check and done.returncode != 0:
            log = self._root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")
        return done


def _watch(bin_dir: str, data_dir: str, as_root: str) -> None:
    """The watchdog: waits until its parent closes stdin (or dies), then stops the server and removes its
    folder (nothing left to do after a normal stop)."""
    sys.stdin.read()
    command = [str(Path(bin_dir) / "pg_ctl"), "-D", data_dir, "-m", "immediate", "-w", "stop"]
    if as_root == "1" and Path(data_dir).exists():
        command = ["runuser", "-u", OWNER, "--", *command]
    if Path(data_dir).exists():
        subprocess.run(command, capture_output=True, timeout=120, check=False)
    shutil.rmtree(Path(data_dir).parent, ignore_errors=True)


if __name__ == "__main__":
    _watch(*sys.argv[1:4])
