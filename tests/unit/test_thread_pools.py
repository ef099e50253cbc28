"""Thread pools start every thread up front: a `submit` that starts a thread waits for it to run, and from
the event loop that wait holds the loop (34 ms once, mid-drop, on a busy 2-core machine)."""

from __future__ import annotations

import threading
from pathlib import Path

from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.thread_pools import started_pool


def named_threads(prefix: str) -> int:
    """How many running threads' names start with `prefix`."""
    return sum(thread.name.startswith(prefix) for thread in threading.enumerate())


def test_a_started_pool_has_every_thread_before_the_first_submit() -> None:
    pool = started_pool(3, "test-started")
    try:
        assert named_threads("test-started") == 3
        everyone = threading.Barrier(4, timeout=10)  # three tasks at once, each on its own thread
        running = [pool.submit(everyone.wait) for _ in range(3)]
        everyone.wait()
        assert [task.result() is not None for task in running] == [True] * 3
        assert named_threads("test-started") == 3  # the burst started none
    finally:
        pool.shutdown()


def test_the_store_starts_its_threads_when_it_is_built(tmp_path: Path, thread_starts: list[str]) -> None:
    AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'app.db'}")), threads=4)
    assert sum(name.startswith("home-editor-db") for name in thread_starts) == 4
