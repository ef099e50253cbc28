"""An optional append-only log of job executions (HOME_EDITOR_EXECUTION_LOG), so tests and benchmarks
can count from outside how often each job really ran and how many ran at once.

Lines are written synchronously (a short append), so their order is the order in which the runner
started the jobs: the claim order.
"""

from __future__ import annotations

import time
from pathlib import Path


class ExecutionJournal:
    """Appends `<epoch ms> <start|end> <job id> <type>` lines; does nothing without a path."""

    def __init__(self, path: Path | None) -> None:
        self._path = path

    def record(self, event: str, job_id: str, job_type: str) -> None:
        """Append one line."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as file:
            file.write(f"{int(time.time() * 1000)} {event} {job_id} {job_type}\n")
