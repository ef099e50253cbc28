"""Thread pools whose threads all start up front, off the event loop.

A `ThreadPoolExecutor` starts a thread on a `submit` that finds none idle, and that `submit` then waits
until the new thread runs. Called from the event loop (`run_in_executor`, `asyncio.to_thread`), the wait
holds the loop: 34 ms once on a busy 2-core machine, the first time a burst of store calls needed a fourth
thread, in the middle of a drop. A pool from `started_pool` has every thread before anyone submits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

START_SECONDS = 30.0  # a thread that is not running by then is not coming (the pool is unusable anyway)
THREAD_SWITCH_SECONDS = 0.001  # Python's default is 0.005


def started_pool(threads: int, name: str) -> ThreadPoolExecutor:
    """A thread pool with all `threads` threads running (waits for them: call it off the event loop)."""
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
    everyone = threading.Barrier(threads, timeout=START_SECONDS)  # passed only with each task on its own thread
    for started in [pool.submit(everyone.wait) for _ in range(threads)]:
        started.result()
    return pool


def default_thread_count() -> int:
    """asyncio's own default pool size (`asyncio.to_thread`): the CPU count + 4, at most 32."""
    return min(32, (os.cpu_count() or 1) + 4)


def quick_hand_offs(loop: asyncio.AbstractEventLoop) -> None:
    """Set up a server process (a web or job worker) for quick hand-offs between its threads and `loop`:
    every `asyncio.to_thread` thread started now (a pool of asyncio's default size), and a busy thread
    made to give up Python's GIL after 1 ms, not 5, when another thread waits for it.

    The process's threads mostly hand results back: an upload's decoder returns from Pillow (which works
    without the GIL) for its next bytes, a store thread or `to_thread` returns to the event loop. Each of
    those waits for the GIL, and with Python's default a thread busy in Python code (the loop parsing an
    upload, Reflex building an update) keeps it for up to 5 ms per hand-off. The work done in Python here
    is short, so the extra switches cost next to nothing. Takes ~1 ms (the threads' start)."""
    sys.setswitchinterval(THREAD_SWITCH_SECONDS)
    loop.set_default_executor(started_pool(default_thread_count(), "home-editor-io"))
