"""Bounded thread pools for CPU work (Pillow, numpy and scipy release the GIL), never the event loop.

Uploads get their own pool so a drop's thumbnails never wait behind running cutouts.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


@functools.cache
def _pool(name: str, size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"home-editor-{name}")


async def run_job_work(function: Callable[..., T], *args: object) -> T:
    """Run processing work (cutouts) on the job pool: two threads, one per concurrent job."""
    return await asyncio.get_running_loop().run_in_executor(_pool("jobs", 2), functools.partial(function, *args))


async def run_upload_work(function: Callable[..., T], *args: object) -> T:
    """Run intake work (validation, thumbnails) on the upload pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool("uploads", 2), functools.partial(function, *args))
