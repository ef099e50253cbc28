"""A tab's page update: reading the library and working out its page (cards, counts, the mirror's
texts) is one hand-off to the store's thread, none of that work runs on the event loop, and tabs woken
by one change share one read (`LibraryService.view`). A tab's wait for the next change wakes the runner
only when its library was quiet (`LibraryService.wait_for_change`)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from home_editor.app_wiring import build_services
from home_editor.core import page_view as page_view_module
from home_editor.core.models import new_library_id
from home_editor.core.page_view import page_view
from home_editor.settings import Settings
from tests.factories import item, job


@pytest.fixture
async def services(tmp_path: Path):
    # the page's reads alone, no processing: a web-only process, which never claims
    settings = Settings(data_dir=tmp_path, media_dir=tmp_path / "media", cutout_method="classical", role="web")
    made = build_services(settings, db_url=f"sqlite:///{tmp_path / 'page.db'}", public_base_url="http://app")
    yield made
    await made.runner.shutdown()


async def test_a_tab_reads_and_works_out_its_page_in_one_hand_off_off_the_loop(services, monkeypatch) -> None:
    store, library = services.library.store, new_library_id()
    await store.ensure_library(library, 0)
    for index in range(3):
        new_item = item(created_ms=index)
        await store.add_item(library, new_item, job("P", item_id=new_item.id, created_ms=index))
    loop = asyncio.get_running_loop()
    real_hand_off, hand_offs = loop.run_in_executor, []
    monkeypatch.setattr(loop, "run_in_executor", lambda *args: hand_offs.append(args) or real_hand_off(*args))
    real_encode, encoded_on = page_view_module.encode_items, []

    def encode_items(items):
        encoded_on.append(threading.get_ident())
        return real_encode(items)

    monkeypatch.setattr(page_view_module, "encode_items", encode_items)

    view = await services.library.view(library)

    assert len(hand_offs) == 1  # the snapshot and the page's encoding share one trip to the thread
    assert encoded_on and threading.get_ident() not in encoded_on  # encoded off the event loop's thread
    expected = page_view(await store.snapshot(library))
    assert (view.digest, view.items_text, view.jobs_text) == (expected.digest, expected.items_text, expected.jobs_text)
    assert len(view.cards) == 3
    assert view.version == services.hub.version(library)


class _CountingStore:
    """A store whose reads are counted and held until released."""

    def __init__(self, store) -> None:
        self.store, self.reads, self.release = store, 0, asyncio.Event()

    async def run(self, work):
        self.reads += 1
        await self.release.wait()
        return await self.store.run(work)


async def test_tabs_woken_by_one_change_share_one_read_and_a_newer_change_reads_again(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    store = services.library.store = _CountingStore(services.library.store)
    tabs = [asyncio.create_task(services.library.view(library)) for _ in range(3)]
    await asyncio.sleep(0)
    services.hub.notify(library)  # a newer change: a tab asking now reads again
    newer = asyncio.create_task(services.library.view(library))
    await asyncio.sleep(0)
    tabs[0].cancel()  # a tab that closes meanwhile does not cancel the others' read
    store.release.set()
    views = await asyncio.gather(*tabs[1:], newer)
    assert store.reads == 2 and views[0] is views[1]
    assert views[2].version > views[0].version
    await services.library.view(library)  # a load that has ended is not kept: asking again reads again
    assert store.reads == 3


async def test_a_tab_waiting_on_a_quiet_library_wakes_the_runner_and_a_change_does_not(services) -> None:
    library, woken = new_library_id(), []
    services.runner.wake = woken.append
    seen = services.hub.version(library)

    assert await services.library.wait_for_change(library, seen, timeout=0.01) is False  # the poll ran out
    assert woken == [library]  # a quiet library gets looked at

    waiting = asyncio.create_task(services.library.wait_for_change(library, seen, timeout=30))
    await asyncio.sleep(0)
    services.library.library_changed(library)
    assert await waiting is True
    assert woken == [library]  # a change is news enough: no extra look at the queue
