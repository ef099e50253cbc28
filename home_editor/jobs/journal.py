"""An optional append-only log of job executions (HOME_EDITOR_EXECUTION_LOG), so tests and benchmarks
can count from outside how often each job really ran and how many ran at once.

A line's time is taken when the runner records it, and lines are appended by one writer thread in the
order they were recorded, so the file's order is the order in which the runner started the jobs (the
claim order), and the event loop never waits for the disk.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


@functools.cache
def _writer() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="home-editor-journal")


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(line)


def wait_for_writes() -> None:
    """Block until every line recorded so far is in its file (for readers in the same process)."""
    _writer().submit(lambda: None).result()


class ExecutionJournal:
    """Appends `<epoch ms> <start|end> <job id> <type>` lines; does nothing without a path."""

    def __init__(self, path: Path | None) -> None:
        self._path = path

    def record(self, event: str, job_id: str, job_type: str) -> None:
        """Queue one line for the writer thread (returns at once)."""
        if self._path is None:
            return
        _writer().submit(_append, self._path, f"{int(time.time() * 1000)} {event} {job_id} {job_type}\n")
