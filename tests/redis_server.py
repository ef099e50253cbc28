"""A throw-away Redis for the tests: `redis-server` on a free port, with a temporary folder and no
persistence, started once per test session and stopped after. No Redis is a loud failure, never a skip:
`scripts/test.sh` installs it (Debian's `redis-server`) when it is missing.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_redis() -> Iterator[str]:
    """Start a private redis-server; yield its URL; stop it and remove its folder."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: the multi-process tests need a real Redis. Run scripts/test.sh "
            "(it installs Debian's redis-server) or `apt-get install redis-server`.",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(prefix="home-editor-redis-") as folder:
        port = _free_port()
        log = Path(folder) / "redis.log"
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", ""]
        command += ["--appendonly", "no", "--logfile", str(log), "--daemonize", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_until_up(url, process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text() if log.exists() else ''}")
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in time")
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of this session's throw-away Redis."""
    with running_redis() as url:
        yield url


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The session's Redis, emptied before the test (no budget or pause left over from another test)."""
    with redis.Redis.from_url(redis_url) as client:
        client.flushall()
    yield redis_url
