"""An optional append-only log of job executions (HOME_EDITOR_EXECUTION_LOG), so tests and benchmarks
can count from outside how often each job really ran and how many ran at once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


class ExecutionJournal:
    """Appends `<epoch ms> <start|end> <job id> <type>` lines; does nothing without a path."""

    def __init__(self, path: Path | None) -> None:
        self._path = path

    async def record(self, event: str, job_id: str, job_type: str) -> None:
        """Append one line."""
        if self._path is None:
            return
        line = f"{int(time.time() * 1000)} {event} {job_id} {job_type}\n"
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as file:
            file.write(line)
