"""A tab's wait for changes ends when the tab goes away, even if a change arrives in the same instant
(the page's background task is cancelled on reload or close and must not go on polling)."""

from __future__ import annotations

import asyncio

import pytest

from home_editor.jobs.changes import ChangeHub


async def test_a_wait_cancelled_as_a_change_arrives_is_cancelled() -> None:
    hub = ChangeHub()
    waiting = asyncio.create_task(hub.wait("library", hub.version("library"), timeout=60))
    while not hub.tracked():  # until the waiter is registered (a turn of the loop at a time)
        await asyncio.sleep(0)
    hub.notify("library")  # the change and the cancel land in one turn of the loop
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
