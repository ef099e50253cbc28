"""A runner in a process of its own for the cross-process tests, driven over a pipe: "tick" steps its
queue once and answers with the ids of the jobs it claimed (they start and wait); "release" lets them
finish and answers once they have. Jobs do nothing but succeed; every start and end goes to the shared
execution journal, read by the test from outside.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path

from home_editor.core.models import Job, new_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.executor import Outcome
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings


class HeldExecutor:
    """Every job waits for `release`, then succeeds (the journal records its start and end)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def run(self, library_id: str, job: Job, claim: object) -> Outcome:
        await self.release.wait()
        return Outcome(name=f"cutout-{new_id()}.png", url="u", note="", keys=[])

    async def discard(self, keys: list[str]) -> None:
        return None

    async def cancel_remote(self, job: Job) -> None:
        return None


def serve(db_url: str, library_id: str, journal: str, pipe: Connection) -> None:
    """The child process's entry point: step on each "tick" until "stop"."""
    asyncio.run(_serve(db_url, library_id, Path(journal), pipe))


async def _serve(db_url: str, library_id: str, journal: Path, pipe: Connection) -> None:
    store = AsyncLibraryStore(LibraryStore(create_engine(db_url)))
    settings = Settings(poll_seconds=1, lease_seconds=15, wake_on_enqueue=False, execution_log=journal)
    executor = HeldExecutor()
    runner = Runner(store, executor, ChangeHub(), settings=settings)  # stepped: no drain of its own
    loop = asyncio.get_running_loop()
    pipe.send("ready")
    while (command := await loop.run_in_executor(None, pipe.recv)) != "stop":
        if command == "tick":
            pipe.send([job.id for job in await runner.tick(library_id)])
        else:
            executor.release.set()
            await runner.until_jobs_done(library_id)
            executor.release.clear()
            pipe.send("released")


class RunnerProcesses:
    """The test's side: two runner processes (spawned) on one database, stepped together."""

    def __init__(self, db_url: str, library_id: str, journal: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.claimed: list[list[str]] = [[], []]
        self._pipes: list[Connection] = []
        self._processes = []
        for _ in range(2):
            ours, theirs = context.Pipe()
            process = context.Process(target=serve, args=(db_url, library_id, str(journal), theirs))
            process.start()
            self._pipes.append(ours)
            self._processes.append(process)
        assert [pipe.recv() for pipe in self._pipes] == ["ready", "ready"]

    def step(self, first: int, second: int, *, together: bool) -> int:
        """Both claim, one after the other or at the same moment, while holding what they claimed; then
        both let their jobs finish.

        Returns:
            How many jobs the two claimed in this step.
        """
        before = len(self.claimed[0]) + len(self.claimed[1])
        self._pipes[first].send("tick")
        if not together:
            self.claimed[first] += self._pipes[first].recv()
        self._pipes[second].send("tick")
        if together:
            self.claimed[first] += self._pipes[first].recv()
        self.claimed[second] += self._pipes[second].recv()
        for pipe in self._pipes:
            pipe.send("release")
        assert [pipe.recv() for pipe in self._pipes] == ["released", "released"]
        return len(self.claimed[0]) + len(self.claimed[1]) - before

    def close(self) -> None:
        """Stop both processes."""
        for pipe in self._pipes:
            pipe.send("stop")
        for process in self._processes:
            process.join()
