"""A long-lived server keeps nothing per library once the library goes idle: the runner's drains,
wake events and expiry marks, the change hub's versions and waiters, and the service's list of known
libraries do not grow with every library ever served."""

from __future__ import annotations

import asyncio
from pathlib import Path

from home_editor import library_service
from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings
from tests.unit.test_runner import FakeClock, ScriptedExecutor, queue


async def test_the_runner_and_the_hub_forget_libraries_that_went_idle(tmp_path: Path) -> None:
    store = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'runner.db'}")))
    hub, clock = ChangeHub(), FakeClock()
    runner = Runner(store, ScriptedExecutor(), hub, settings=Settings(poll_seconds=1), clock=clock)
    libraries = [new_library_id() for _ in range(20)]
    for library in libraries:
        await queue(store, library, 1)
        runner.wake(library)
    for library in libraries:
        await asyncio.wait_for(runner.until_idle(library), 10)
    assert [j.status.value for lib in libraries for j in (await store.snapshot(lib)).jobs] == ["completed"] * 20
    clock.now += 1_000  # a poll later, no expiry mark holds anything back
    await runner.sweep()
    assert runner.tracked_libraries() == 0
    assert hub.tracked() == 0


async def test_a_forgotten_library_still_tells_a_tab_about_the_change_it_missed() -> None:
    hub = ChangeHub()
    library, other = new_library_id(), new_library_id()
    seen = hub.version(library)  # a tab reads the version, then its snapshot
    hub.notify(library)  # a job finishes meanwhile
    hub.forget(library)  # and the library goes idle before the tab waits
    hub.notify(other)
    hub.forget(other)
    await asyncio.wait_for(hub.wait(library, seen, timeout=30), 5)  # returns at once: a change was missed
    up_to_date = hub.version(library)
    waiting = asyncio.create_task(hub.wait(library, up_to_date, timeout=30))
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing new: the tab waits
    hub.notify(library)
    await asyncio.wait_for(waiting, 5)
    assert hub.tracked() == 1  # the library changed again (its version is kept until it goes idle)


async def test_waiters_that_timed_out_leave_nothing_behind() -> None:
    hub = ChangeHub()
    libraries = [new_library_id() for _ in range(5)]
    await asyncio.gather(*(hub.wait(library, hub.version(library), timeout=0) for library in libraries))
    assert hub.tracked() == 0


async def test_the_service_remembers_a_bounded_number_of_libraries(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(library_service, "KNOWN_LIBRARIES_LIMIT", 3)
    settings = Settings(media_dir=tmp_path / "media")
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://t")
    try:
        for _ in range(10):
            await services.library.ensure_library(new_library_id())
        assert len(services.library._known_libraries) <= 3
    finally:
        await services.runner.shutdown()
