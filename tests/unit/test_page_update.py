"""A tab's page update: reading the library and working out its page (cards, counts, the mirror's
texts) is one hand-off to the store's thread, and none of that work runs on the event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from home_editor.core.models import new_library_id
from home_editor.state import refresh
from home_editor.state.refresh import load_view, page_view
from home_editor.store.async_store import AsyncLibraryStore
from home_editor.store.library_store import LibraryStore
from home_editor.store.schema import create_engine
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

    view = await load_view(store, library)

    assert len(hand_offs) == 1  # the snapshot and the page's encoding share one trip to the thread
    assert encoded_on and threading.get_ident() not in encoded_on  # encoded off the event loop's thread
    expected = page_view(await store.snapshot(library))
    assert (view.digest, view.items_text, view.jobs_text) == (expected.digest, expected.items_text, expected.jobs_text)
    assert len(view.cards) == 3
