"""A tab's page update: reading the library and working out its page (cards, counts, the mirror's
texts) is one hand-off to the store's thread, and none of that work runs on the event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from home_editor.core.models import new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.state import refresh
from home_editor.state.refresh import load_view, page_view
from tests.factories import item, job


async def test_a_tab_reads_and_works_out_its_page_in_one_hand_off_off_the_loop(tmp_path: Path, monkeypatch) -> None:
    store = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'page.db'}")))
    library = new_library_id()
    await store.ensure_library(library, 0)
    for index in range(3):
        new_item = item(created_ms=index)
        await store.add_item(library, new_item, job("P", item_id=new_item.id, created_ms=index))
    loop = asyncio.get_running_loop()
    real_hand_off, hand_offs = loop.run_in_executor, []
    monkeypatch.setattr(loop, "run_in_executor", lambda *args: hand_offs.append(args) or real_hand_off(*args))
    real_encode, encoded_on = refresh.encode_items, []

    def encode_items(items):
        encoded_on.append(threading.get_ident())
        return real_encode(items)

    monkeypatch.setattr(refresh, "encode_items", encode_items)

    view = await load_view(store, library, 0)

    assert len(hand_offs) == 1  # the snapshot and the page's encoding share one trip to the thread
    assert encoded_on and threading.get_ident() not in encoded_on  # encoded off the event loop's thread
    expected = page_view(await store.snapshot(library))
    assert (view.digest, view.items_text, view.jobs_text) == (expected.digest, expected.items_text, expected.jobs_text)
    assert len(view.cards) == 3


class _CountingStore:
    """A store whose reads are counted and held until released."""

    def __init__(self, store: AsyncLibraryStore) -> None:
        self.store, self.reads, self.release = store, 0, asyncio.Event()

    async def run(self, work):
        self.reads += 1
        await self.release.wait()
        return await self.store.run(work)


async def test_tabs_woken_by_one_change_share_one_read_and_a_newer_change_reads_again(tmp_path: Path) -> None:
    real = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'page.db'}")))
    library = new_library_id()
    await real.ensure_library(library, 0)
    store = _CountingStore(real)
    tabs = [asyncio.create_task(load_view(store, library, 7)) for _ in range(3)]
    newer = asyncio.create_task(load_view(store, library, 8))
    await asyncio.sleep(0)
    tabs[0].cancel()  # a tab that closes meanwhile does not cancel the others' read
    store.release.set()
    views = await asyncio.gather(*tabs[1:], newer)
    assert store.reads == 2 and views[0] is views[1]
    await load_view(store, library, 7)  # a load that has ended is not kept: asking again reads again
    assert store.reads == 3
