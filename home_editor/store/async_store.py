"""Runs the synchronous store on a small thread pool so database calls never block the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from home_editor.store.library_store import LibraryStore


class AsyncLibraryStore:
    """Every public method of `LibraryStore`, awaitable (same names and arguments)."""

    def __init__(self, store: LibraryStore, *, threads: int = 4) -> None:
        self.sync = store
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="home-editor-db")

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(method, *args, **kwargs))

        return call
