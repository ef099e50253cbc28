"""The upload's busy state on the page: a drop handled quickly puts its new card on the page without a busy
state first (that state write delayed receiving the drop and re-rendered the page beside it); a drop still
being handled after the delay shows "Uploading…" until it ends. Stepped by events, never by sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from home_editor.state import library_state
from home_editor.upload_intake import ReceivedDrop


class RecordingState:
    """A stand-in for a tab's state proxy: each `async with` block's resulting flags are recorded."""

    def __init__(self) -> None:
        self.uploading = False
        self._upload_handling = False
        self.upload_percent = 0
        self._upload_ended_ms = 0
        self.writes: list[bool] = []
        self.wrote = asyncio.Event()

    async def __aenter__(self) -> RecordingState:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.writes.append(self.uploading)
        self.wrote.set()


class SlowLibrary:
    """A library whose drop arrives only when the test lets it (no files in it)."""

    def __init__(self) -> None:
        self.arrive = asyncio.Event()

    async def receive_drop(self, library_id: str, chunks: Any) -> ReceivedDrop:
        await self.arrive.wait()
        results: asyncio.Queue = asyncio.Queue()
        results.put_nowait(None)
        return ReceivedDrop([], results)


async def take(state: RecordingState, library: SlowLibrary) -> None:
    async for _ in library_state._take_drop(state, library, "library", chunks=None):
        pass


async def test_a_quick_drop_never_puts_a_busy_state_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library_state, "SHOW_BUSY_AFTER_SECONDS", 3600)
    state, library = RecordingState(), SlowLibrary()
    library.arrive.set()
    await take(state, library)
    assert state.writes == [False]  # only the end of the upload: never "Uploading…"


async def test_a_drop_still_handled_after_the_delay_shows_uploading_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(library_state, "SHOW_BUSY_AFTER_SECONDS", 0)
    state, library = RecordingState(), SlowLibrary()
    taking = asyncio.create_task(take(state, library))
    async with asyncio.timeout(30):  # a guard against hanging, not a measure: the write comes at once
        await state.wrote.wait()  # the busy state, while the drop has not arrived yet
    assert state.writes == [True] and state.uploading
    library.arrive.set()
    await taking
    assert state.writes == [True, False] and not state.uploading and not state._upload_handling
