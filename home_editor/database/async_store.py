"""Runs the synchronous store on a small thread pool so database calls never block the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from home_editor.database.library_store import LibraryStore
from home_editor.thread_pools import started_pool

R = TypeVar("R")


class AsyncLibraryStore:
    """Every public method of `LibraryStore`, awaitable (same names and arguments)."""

    def __init__(self, store: LibraryStore, *, threads: int = 4) -> None:
        """Starts the threads now (build the store off the event loop)."""
        self.sync = store
        self._executor = started_pool(threads, "home-editor-db")

    async def run(self, function: Callable[[LibraryStore], R]) -> R:
        """`function(store)` on the store's threads: several store calls, and the work that follows from
        what they read, in one hand-off from the event loop (each hand-off wakes a thread)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, self.sync)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(method, *args, **kwargs))

        return call
