"""Where CPU work runs, never on the event loop.

- Processing (cutouts, 3D reliefs) runs in a pool of two *processes* (spawned): numpy and scipy hold the
  GIL through much of the work, which made the page stutter when it ran in threads of the server. The
  workers run at the lowest CPU priority (Linux's SCHED_IDLE, else nice 19), so on a small machine the
  web server and the browser get the CPU at once when they need it: processing takes whatever is left.
- Upload intake (validation, thumbnails) runs in a small thread pool of its own, so a drop's thumbnails
  never wait behind running cutouts (Pillow releases the GIL while decoding).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from home_editor.core.errors import TransientError
from home_editor.thread_pools import started_pool

T = TypeVar("T")
PROCESSING_WORKERS = 2


WORKER_NICENESS = 19


def _lower_priority() -> None:
    """Processing takes only CPU nobody else wants: SCHED_IDLE where Linux offers it, else nice 19."""
    with contextlib.suppress(OSError, AttributeError):  # not every platform has these
        os.nice(WORKER_NICENESS)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


_processing: list[ProcessPoolExecutor] = []  # the current pool, replaced when a worker dies
_processing_lock = threading.Lock()


def _processing_pool() -> ProcessPoolExecutor:
    """The current pool. A new one has started all its workers before anyone can use it: starting a
    worker blocks, and a pool that started one lazily, on a job's submit, would do so on the event loop."""
    with _processing_lock:
        if not _processing:
            pool = ProcessPoolExecutor(
                max_workers=PROCESSING_WORKERS,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
            _start_every_worker(pool)
            _processing.append(pool)
        return _processing[0]


def _start_every_worker(pool: ProcessPoolExecutor) -> None:
    launch = getattr(pool, "_launch_processes", None)  # CPython ≥ 3.9: start them all, none on demand
    if launch is not None:
        launch()
        # A first task also starts the pool's manager thread, which stops the workers when the process
        # exits: without it a process that never ran a job waited for its idle workers forever at exit.
        pool.submit(abs, 0)
        return
    for _ in range(PROCESSING_WORKERS):  # elsewhere: busy work makes the pool start each worker now
        pool.submit(abs, 0)


def _replace_broken(pool: ProcessPoolExecutor) -> None:
    """Drop a pool whose worker died (the next call starts a fresh one); a no-op if already replaced."""
    if _processing and _processing[0] is pool:
        _processing.clear()
        pool.shutdown(wait=False, cancel_futures=True)


@functools.cache
def upload_pool() -> ThreadPoolExecutor:
    """The upload threads (started on first use: the upload warm-up does it off the event loop)."""
    return started_pool(2, "home-editor-uploads")


async def run_job_work(function: Callable[..., T], *args: object) -> T:
    """Run processing work in the process pool (`function` must be a module-level function).

    A worker that dies (killed for memory, a crash in a decoder) breaks its whole pool: the pool is then
    replaced, off the event loop, and the work fails with a retryable error instead of every later job
    failing until a restart. A pool is only ever started off the loop (starting workers blocks)."""
    pool = _processing[0] if _processing else None
    if pool is None:  # replaced meanwhile (another job saw the worker die), or never warmed up
        pool = await asyncio.to_thread(_processing_pool)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
    except BrokenProcessPool as error:
        _replace_broken(pool)
        await asyncio.to_thread(warm_up)
        raise TransientError("The processing worker stopped unexpectedly (out of memory?); trying again") from error


async def run_upload_work(function: Callable[..., T], *args: object) -> T:
    """Run intake work on the upload thread pool."""
    return await asyncio.get_running_loop().run_in_executor(upload_pool(), functools.partial(function, *args))


def warm_up() -> None:
    """Start the processing workers now (spawning takes a second), so the first job does not wait."""
    _processing_pool()
