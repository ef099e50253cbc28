"""Metric 12: thread hand-offs on the hot paths, and what one costs on this host.

Every hand-off from the event loop to a thread (the database, file writes, image work) and back wakes a
thread; on a host whose cores go idle between requests, that wake-up costs milliseconds, so a path's
latency depends on how many hand-offs it makes as much as on its work. This counts them (every
`run_in_executor`, which `asyncio.to_thread` uses too, while one operation runs) and measures the host's
idle wake-up cost, so figures from different hosts can be compared.

python -m bench.hops_bench     # these figures alone
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import types
from collections.abc import Iterator
from pathlib import Path

from bench.images import product_photo
from bench.queue_bench import _new_work, _queue_and_start, _setup, sqlite_url
from bench.stats import summary
from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.runner import JOB_TASK_PREFIX
from home_editor.library_service import LibraryService
from home_editor.processing.upload_checks import UploadChecks
from home_editor.settings import Settings
from home_editor.state.refresh import show_view
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.upload_spool import UploadGate


class HandOffs:
    """Counts the running loop's hand-offs to threads while `counting()` is open, but those of tasks whose
    name starts with one of `outside` (work of another path that runs meanwhile)."""

    def __init__(self, outside: tuple[str, ...] = ()) -> None:
        self.count = 0
        self._on = False
        self._outside = outside

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        real = loop.run_in_executor

        def counted(executor, function, *args):
            task = asyncio.current_task()
            if self._on and not (self._outside and task is not None and task.get_name().startswith(self._outside)):
                self.count += 1
            return real(executor, function, *args)

        loop.run_in_executor = counted  # type: ignore[method-assign]

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self._on = 0, True
        try:
            yield
        finally:
            self._on = False


async def idle_wakeup_ms(samples: int = 40, idle_seconds: float = 0.3) -> dict[str, dict[str, float]]:
    """One `asyncio.to_thread(noop)` round trip right after another (hot) and after `idle_seconds` idle."""
    hot, idle = [], []
    for _ in range(samples):
        await asyncio.sleep(idle_seconds)
        started = time.perf_counter()
        await asyncio.to_thread(int)
        idle.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await asyncio.to_thread(int)
        hot.append((time.perf_counter() - started) * 1000)
    return {"hot": summary(hot), "after_idle": summary(idle)}


async def enqueue_to_start_hops(rounds: int = 5) -> int:
    """Hand-offs begun from queuing a job (a free slot waiting) until its executor starts (median of
    rounds); the drain's own bookkeeping begun meanwhile counts too."""
    counter = HandOffs()
    counter.install()
    counts = []
    with tempfile.TemporaryDirectory() as folder:
        _store, runner, executor, library = await _setup(sqlite_url(folder))
        for _ in range(rounds):
            with counter.counting():
                job = await _queue_and_start(runner, library)
                await executor.events.setdefault(job.id, asyncio.Event()).wait()
            counts.append(counter.count)
            await runner.until_idle(library)
        await runner.shutdown()
    return int(statistics.median(counts))


async def end_to_next_start_hops(rounds: int = 5) -> int:
    """Hand-offs from a job's work ending (its result not yet recorded) until the next queued job of the
    library starts, one slot (concurrency 1): recording the result and handing the slot on."""
    counter = HandOffs()
    counter.install()
    counts = []
    with tempfile.TemporaryDirectory() as folder:
        _store, runner, executor, library = await _setup(sqlite_url(folder), concurrency=1)
        for _ in range(rounds):
            gate = asyncio.Event()
            executor.before_end = gate.wait
            first = await _queue_and_start(runner, library)
            second = await _queue_and_start(runner, library)
            await executor.events.setdefault(first.id, asyncio.Event()).wait()
            await asyncio.sleep(0.2)  # the drain woken by the second's queuing has looked and waits again
            with counter.counting():
                executor.before_end = None
                gate.set()  # the first job's work ends now
                await executor.events.setdefault(second.id, asyncio.Event()).wait()
            counts.append(counter.count)
            await runner.until_idle(library)
        await runner.shutdown()
    return int(statistics.median(counts))


async def drop_to_thumbnail_hops(rounds: int = 3) -> int:
    """Hand-offs on the server from a received photo (in the spool) until its card's snapshot is read:
    intake (read, checks, thumbnail, hash), storing both files, adding the item (and claiming its cutout,
    in the same trip), the snapshot. The cutout's own work, which starts meanwhile, is another path."""
    counter = HandOffs(outside=(JOB_TASK_PREFIX,))
    counter.install()
    counts = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        settings = Settings(media_dir=work / "media", data_dir=work / "data", cutout_method="classical")
        services = build_services(settings, db_url=f"sqlite:///{work / 'app.db'}", public_base_url="http://bench")
        library = new_library_id()
        await services.library.ensure_library(library)
        photo = product_photo(4000, 3000)
        try:
            for index in range(rounds):
                spooled = work / f"drop-{index}"
                spooled.write_bytes(photo)
                with counter.counting():
                    results = services.library.intake(library, [("chair.jpg", spooled)])
                    result = await results.get()
                    await services.library.snapshot(library)
                assert result is not None and result.item is not None, result
                counts.append(counter.count)
        finally:
            await services.runner.shutdown()
    return int(statistics.median(counts))


def _tab_state() -> types.SimpleNamespace:
    """What `show_view` reads and writes of a tab's LibraryState (Reflex's own state handling around it,
    the state lock and the delta sent, makes no thread hand-off: the disk state manager writes later,
    debounced, in a task of its own)."""
    return types.SimpleNamespace(
        cards=[], stats=None, items_mirror="", jobs_mirror="", _shown_digest="", _statuses={},
        _batch_cutouts=[], _batch_models=[],
    )  # fmt: skip


async def wake_to_page_update_hops(rounds: int = 5, items: int = 50) -> int:
    """Hand-offs from a change in a library (a job's progress) until a tab watching it has the new view
    in its state: the tab's wait ends, it reads the library and works out its page (cards, counts, the
    mirror's texts), as `LibraryState.watch_library` does (less its pause in a burst, a sleep)."""
    counter = HandOffs()
    counter.install()
    counts = []
    with tempfile.TemporaryDirectory() as folder:
        store, runner, _executor, library = await _setup(sqlite_url(folder))
        for _ in range(items):
            item, job = _new_work()
            store.sync.add_item(library, item, job)
        hub, state, settings = ChangeHub(), _tab_state(), Settings(data_dir=Path(folder))
        service = LibraryService(
            store,
            LocalFileStorage(Path(folder) / "media", base_url="http://bench/media"),
            runner,
            hub,
            settings=settings,
            check_photo=UploadChecks(max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels),
            upload_gate=UploadGate(settings.max_uploads_in_flight),
        )
        for _ in range(rounds):
            seen = hub.version(library)

            async def tab(seen: int = seen) -> None:
                await service.wait_for_change(library, seen, timeout=30)
                show_view(state, await service.view(library))

            watching = asyncio.create_task(tab())
            await asyncio.sleep(0)  # the tab waits
            with counter.counting():
                hub.notify(library)
                await watching
            counts.append(counter.count)
        await runner.shutdown()
    return int(statistics.median(counts))


async def hop_figures() -> dict[str, object]:
    return {
        "idle_wakeup_ms": await idle_wakeup_ms(),
        "enqueue_to_start": await enqueue_to_start_hops(),
        "drop_to_thumbnail": await drop_to_thumbnail_hops(),
        "wake_to_page_update": await wake_to_page_update_hops(),
        "end_to_next_start": await end_to_next_start_hops(),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(hop_figures()), indent=2))
