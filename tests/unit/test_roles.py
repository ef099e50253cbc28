"""Roles and caps of one process, stepped by hand: a web-only process never claims (whatever wakes it),
a job worker runs at most HOME_EDITOR_WORKER_SLOTS jobs over all libraries, and the settings read the
role, the cap and the Redis URL (REFLEX_REDIS_URL will do)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from home_editor.core.errors import ConfigError
from home_editor.core.models import JobStatus, new_library_id
from home_editor.jobs.changes import ChangeHub, change_key
from home_editor.jobs.runner import Runner
from home_editor.settings import Settings
from tests.unit.test_runner import STEPPED, FakeClock, env, queue  # noqa: F401 (env is a fixture)


async def test_a_web_process_never_claims_however_often_it_is_woken(env) -> None:  # noqa: F811
    store, executor, hub, _, _ = env
    announced = []
    web = Runner(
        store,
        executor,
        hub,
        settings=dataclasses.replace(STEPPED, role="web", wake_on_enqueue=True),
        announce_work=lambda: announced.append(1),
    )
    library = new_library_id()
    await queue(store, library, 3)
    web.notice_new_work(library)  # an upload queued work
    for _ in range(5):
        web.wake(library)  # a tab's poll
    web.start_janitor()
    web.look_for_work()
    assert web.tracked_libraries() == 0 and web.running_count() == 0
    assert announced == [1]  # the job workers were told instead
    assert {job.status for job in (await store.snapshot(library)).jobs} == {JobStatus.PENDING}
    await web.shutdown()


async def test_a_worker_runs_at_most_its_slots_over_all_libraries(env) -> None:  # noqa: F811
    store, executor, hub, _, _ = env
    executor.gate.clear()  # claimed jobs keep running until the test lets them finish
    settings = dataclasses.replace(STEPPED, role="worker", concurrency=2, worker_slots=3)
    worker = Runner(store, executor, hub, settings=settings, clock=FakeClock())
    first, second = new_library_id(), new_library_id()
    await queue(store, first, 4)
    await queue(store, second, 4)
    assert len(await worker.tick(first)) == 2  # the per-library cap
    assert len(await worker.tick(second)) == 1  # the process's cap: 3 in all
    assert len(await worker.tick(second)) == 0
    assert worker.running_count() == 3
    executor.gate.set()
    await worker.until_jobs_done(first)
    await worker.until_jobs_done(second)
    assert len(await worker.tick(second)) == 2  # slots free again
    await worker.shutdown()


async def test_libraries_claiming_at_the_same_moment_share_the_slots_of_the_worker(env) -> None:  # noqa: F811
    store, executor, hub, _, _ = env
    executor.gate.clear()
    settings = dataclasses.replace(STEPPED, role="worker", concurrency=2, worker_slots=3)
    worker = Runner(store, executor, hub, settings=settings, clock=FakeClock())
    libraries = [new_library_id() for _ in range(4)]
    for library in libraries:
        await queue(store, library, 2)
    claimed = await asyncio.gather(*(worker.tick(library) for library in libraries))  # drains race
    assert sum(map(len, claimed)) == 3 and worker.running_count() == 3
    executor.gate.set()
    await worker.shutdown()


def test_the_settings_read_the_role_the_slots_and_the_redis_url() -> None:
    settings = Settings.from_env({"HOME_EDITOR_ROLE": "web", "REFLEX_REDIS_URL": "redis://r:6379/0"})
    assert (settings.role, settings.claims_jobs, settings.redis_url) == ("web", False, "redis://r:6379/0")
    assert "redis://" not in repr(settings)
    worker = Settings.from_env({"HOME_EDITOR_ROLE": "worker", "HOME_EDITOR_WORKER_SLOTS": "4"})
    assert (worker.role, worker.claims_jobs, worker.worker_slots, worker.redis_url) == ("worker", True, 4, "")
    assert Settings.from_env({}).role == "all"
    own = {"HOME_EDITOR_REDIS_URL": "redis://mine/1", "REFLEX_REDIS_URL": "redis://reflex/0"}
    assert Settings.from_env(own).redis_url == "redis://mine/1"
    with pytest.raises(ConfigError, match="HOME_EDITOR_ROLE"):
        Settings.from_env({"HOME_EDITOR_ROLE": "boss"})


async def test_a_change_heard_from_another_process_wakes_the_tabs_that_watch_its_library() -> None:
    published: list[str] = []
    hub = ChangeHub(publish=published.append)
    library, other = new_library_id(), new_library_id()
    hub.notify(library)
    assert published == [change_key(library)] and library not in published[0]  # never the key itself
    seen = hub.version(library)  # a tab reads the version, then its snapshot…
    hub.notify_key(change_key(library))  # …while a worker elsewhere finishes a job
    hub.notify_key(change_key(other))  # nobody here watches this one: nothing is kept for it
    assert hub.version(library) != seen
    assert len(published) == 1  # what was heard is not sent back out
    await hub.wait(library, seen, timeout=30)  # returns at once
    assert hub.tracked() == 1  # the library's version only (no watch left, nothing for the other)
