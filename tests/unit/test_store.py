"""The SQL store, one contract on two real databases (a SQLite file and a Postgres server): atomic claims
under contention, compare-and-set settling, lease recovery, cleanup, user actions and library isolation.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from home_editor.core.models import JobStatus, JobType, new_library_id
from home_editor.database.library_store import ClaimRequest, LibraryStore
from home_editor.database.schema import create_engine
from tests.db_probes import peak_processing, record_peak_processing
from tests.factories import item, job
from tests.store_helpers import claim_next, stored_job

LEASE = 15_000
NOW = 1_000_000


@pytest.fixture
def open_store(db_url: str) -> Iterator[Callable[[], LibraryStore]]:
    """Opens stores on the test's database, each with its own engine (as separate workers have)."""
    engines: list[sa.Engine] = []

    def make() -> LibraryStore:
        engines.append(create_engine(db_url))
        return LibraryStore(engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def store(open_store: Callable[[], LibraryStore]) -> LibraryStore:
    return open_store()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """For the tests of SQLite's own locking."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def add(store: LibraryStore, library_id: str, count: int = 1, **job_changes: object) -> list:
    store.ensure_library(library_id, NOW)
    jobs = []
    for index in range(count):
        new_item = item(created_ms=index)
        new_job = job("P", item_id=new_item.id, created_ms=index, **job_changes)
        store.add_item(library_id, new_item, new_job)
        jobs.append(new_job)
    return jobs


def claim(store: LibraryStore, library_id: str, token: str = "t", now: int = NOW):
    return claim_next(store, library_id, token=token, now_ms=now, lease_ms=LEASE, concurrency=2)


def test_claims_stop_at_the_concurrency_limit_oldest_first(store: LibraryStore) -> None:
    library = new_library_id()
    jobs = add(store, library, 3)
    first, second, third = claim(store, library), claim(store, library), claim(store, library)
    assert [first.id, second.id] == [jobs[0].id, jobs[1].id]
    assert third is None
    assert store.item(library, jobs[0].item_id).cutout_status is JobStatus.PROCESSING


@pytest.mark.reliability("F3 many claimers at once", "eight racing workers never share a job (SQLite and Postgres)")
def test_concurrent_claimers_on_separate_connections_never_exceed_the_limit_or_share_a_job(
    db_url: str, open_store: Callable[[], LibraryStore]
) -> None:
    """Eight claimers (separate engines, as separate workers would have) race for 20 jobs; each holds its
    job while it claims the next, so claims keep meeting the limit. A trigger in the database records
    the most jobs ever processing at once, whichever connection wrote."""
    library = new_library_id()
    setup = open_store()
    add(setup, library, 20)
    record_peak_processing(db_url)
    claimed: list[str] = []
    refused = 0
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        nonlocal refused
        store = stores[index]
        barrier.wait()
        held = None
        for attempt in range(40):
            got = claim_next(store, library, token=f"w{index}-{attempt}", now_ms=NOW, lease_ms=LEASE, concurrency=2)
            with lock:
                claimed.extend([got.id] if got else [])
                refused += got is None
            if held is not None:  # finish the previous job only after trying for the next one
                store.complete(held.id, held.lease_token, now_ms=NOW + 1)
            held = got
        if held is not None:
            store.complete(held.id, held.lease_token, now_ms=NOW + 1)

    stores = [open_store() for _ in range(8)]
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 20
    assert refused > 0  # the limit was met
    assert peak_processing(db_url) == 2  # and never exceeded
    assert [j.status for j in setup.snapshot(library).jobs] == [JobStatus.COMPLETED] * 20


def test_at_most_two_processing_at_any_moment_under_contention(open_store: Callable[[], LibraryStore]) -> None:
    library = new_library_id()
    setup = open_store()
    add(setup, library, 10)
    stores = [open_store() for _ in range(4)]
    barrier = threading.Barrier(4)
    results: list = []

    def grab(store: LibraryStore) -> None:
        barrier.wait()
        results.extend(filter(None, [claim(store, library, token=str(id(store)) + str(n)) for n in range(3)]))

    threads = [threading.Thread(target=grab, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2


def test_only_the_current_claim_can_settle_a_job(store: LibraryStore) -> None:
    library = new_library_id()
    add(store, library)
    running = claim(store, library, token="mine")
    assert store.complete(running.id, "someone-else", now_ms=NOW) is None
    assert store.report_progress(running.id, "someone-else", progress=50, message="x", now_ms=NOW) is False
    done = store.complete(running.id, "mine", now_ms=NOW + 5, result="cutout-abcdefghijkm.png")
    assert done is not None and done.status is JobStatus.COMPLETED
    assert store.complete(running.id, "mine", now_ms=NOW + 6) is None  # settled once only
    settled_item = store.item(library, running.item_id)
    assert (settled_item.cutout, settled_item.cutout_status) == ("cutout-abcdefghijkm.png", JobStatus.COMPLETED)


def test_a_transient_failure_waits_then_retries_and_the_third_fails(store: LibraryStore) -> None:
    library = new_library_id()
    add(store, library)
    now = NOW
    for attempt in (1, 2, 3):
        running = claim(store, library, now=now)
        assert running is not None and running.attempts == attempt
        settled = store.fail(
            running.id, "t", error="timeout", retryable=True, now_ms=now, max_attempts=3, backoff_base_ms=2000
        )
        if attempt < 3:
            assert settled.status is JobStatus.PENDING and settled.not_before_ms > now
            assert claim(store, library, now=now) is None  # not before the back-off is over
            now = settled.not_before_ms
    assert settled.status is JobStatus.FAILED
    assert store.item(library, running.item_id).cutout_error == "timeout"


def test_bad_input_fails_at_once(store: LibraryStore) -> None:
    library = new_library_id()
    add(store, library)
    running = claim(store, library)
    settled = store.fail(
        running.id, "t", error="not an image", retryable=False, now_ms=NOW, max_attempts=3, backoff_base_ms=2000
    )
    assert (settled.status, settled.attempts) == (JobStatus.FAILED, 1)


def test_an_expired_lease_is_recovered_and_the_job_runs_again(store: LibraryStore) -> None:
    library = new_library_id()
    add(store, library)
    running = claim(store, library, token="dead-worker")
    assert store.expire_leases(now_ms=NOW + LEASE - 1, max_attempts=3) == []  # still alive
    [recovered] = store.expire_leases(now_ms=NOW + LEASE + 1, max_attempts=3)
    assert recovered.status is JobStatus.PENDING
    again = claim(store, library, token="new-worker", now=NOW + LEASE + 2)
    assert again.id == running.id and again.attempts == 2
    assert store.complete(running.id, "dead-worker", now_ms=NOW + LEASE + 3) is None  # the old claim is void


def test_renewing_keeps_a_long_job_alive(store: LibraryStore) -> None:
    library = new_library_id()
    add(store, library)
    running = claim(store, library)
    assert store.renew_lease(running.id, "t", until_ms=NOW + 10 * LEASE)
    assert store.expire_leases(now_ms=NOW + 5 * LEASE, max_attempts=3) == []


def test_queue_state_counts_active_jobs_and_finds_the_earliest_held_back_one(store: LibraryStore) -> None:
    library, other = new_library_id(), new_library_id()
    store.ensure_library(library, NOW)
    for code, not_before in [("P", NOW + 500), ("P", NOW + 200), ("P", 0), ("R", 0), ("F", NOW + 100)]:
        held = job(code, created_ms=NOW, not_before_ms=not_before)
        store.add_item(library, item(id=held.item_id), held)
    add(store, other, 1, not_before_ms=NOW + 50)  # another library's wait is not this one's
    assert store.queue_state(library, NOW) == (4, NOW + 200)  # a failed job is neither active nor held back
    assert store.queue_state(library, NOW + 200) == (4, NOW + 500)
    assert store.queue_state(library, NOW + 500) == (4, None)


def test_cleanup_removes_old_settled_jobs_but_never_items(store: LibraryStore) -> None:
    library = new_library_id()
    jobs = add(store, library, 2)
    done = claim(store, library)
    store.complete(done.id, "t", now_ms=NOW)
    removed = store.cleanup(now_ms=NOW + 25 * 3_600_000, ttl_ms=24 * 3_600_000)
    snapshot = store.snapshot(library)
    assert removed == 1
    assert [j.id for j in snapshot.jobs] == [jobs[1].id]
    assert len(snapshot.items) == 2
    assert store.item(library, done.item_id).cutout_status is JobStatus.COMPLETED  # the item keeps its status


def test_cancel_retry_and_delete(store: LibraryStore) -> None:
    library = new_library_id()
    [queued] = add(store, library)
    [cancelled] = store.cancel(library, queued.item_id, now_ms=NOW)
    assert cancelled.status is JobStatus.CANCELLED
    assert store.cancel(library, queued.item_id, now_ms=NOW) == []
    again = store.retry(library, queued.item_id, JobType.REMBG, new_job=job(item_id=queued.item_id, created_ms=NOW))
    assert again.id == queued.id and again.status is JobStatus.PENDING
    assert (
        store.retry(library, queued.item_id, JobType.REMBG, new_job=job(item_id=queued.item_id)) is None
    )  # already queued
    deleted = store.delete_item(library, queued.item_id, now_ms=NOW)
    assert deleted is not None and store.item(library, queued.item_id) is None
    assert store.deleted_item_ids(library) == {queued.item_id}
    assert stored_job(store, queued.id).status is JobStatus.CANCELLED


@pytest.mark.reliability(
    "S library isolation in the store", "cross-library reads and writes are refused (SQLite and Postgres)"
)
def test_one_library_cannot_touch_another_librarys_items(store: LibraryStore) -> None:
    mine, theirs = new_library_id(), new_library_id()
    [their_job] = add(store, theirs)
    add(store, mine)
    assert store.item(mine, their_job.item_id) is None
    assert store.cancel(mine, their_job.item_id, now_ms=NOW) == []
    assert store.retry(mine, their_job.item_id, JobType.REMBG, new_job=job(item_id=their_job.item_id)) is None
    assert store.delete_item(mine, their_job.item_id, now_ms=NOW) is None
    assert store.item(theirs, their_job.item_id) is not None
    assert stored_job(store, their_job.id).status is JobStatus.PENDING


def test_mirror_upserts_never_overwrite_another_librarys_record(store: LibraryStore) -> None:
    mine, theirs = new_library_id(), new_library_id()
    [their_job] = add(store, theirs)
    victim = store.item(theirs, their_job.item_id)
    forged = victim.__class__(**{**victim.__dict__, "name": "pwned", "updated_ms": victim.updated_ms + 10})
    store.upsert_from_mirror(mine, [forged], [])
    assert store.item(theirs, victim.id).name == victim.name
    assert store.item(mine, victim.id) is None


def test_a_users_click_is_claimed_before_waiting_batch_jobs(store: LibraryStore) -> None:
    library = new_library_id()
    batch = add(store, library, 4, priority=0, type=JobType.GLB)
    assert [claim(store, library).id, claim(store, library).id] == [batch[0].id, batch[1].id]
    clicked = store.retry(library, batch[3].item_id, JobType.GLB, new_job=job(item_id=batch[3].item_id, priority=20))
    assert clicked is None  # still queued as batch work: nothing to retry
    [cancelled] = store.cancel(library, batch[3].item_id, now_ms=NOW, job_type=JobType.GLB)
    again = store.retry(library, batch[3].item_id, JobType.GLB, new_job=job(item_id=batch[3].item_id, priority=20))
    assert again.priority == 20
    for running in store.snapshot(library).jobs:
        if running.status is JobStatus.PROCESSING:
            store.complete(running.id, running.lease_token, now_ms=NOW + 1)
    assert claim(store, library, now=NOW + 2).id == cancelled.id  # the click, before the older batch job
    assert claim(store, library, now=NOW + 2).id == batch[2].id


def test_a_model_needs_the_cutout_and_one_active_model_job_at_most(store: LibraryStore) -> None:
    library = new_library_id()
    store.ensure_library(library, NOW)
    bare = item()
    store.add_item(library, bare, None)
    assert store.queue(library, job(item_id=bare.id, type=JobType.GLB)) is None  # no cutout yet
    done = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED)
    store.add_item(library, done, None)
    assert store.queue(library, job(item_id=done.id, type=JobType.GLB)) is not None
    assert store.queue(library, job(item_id=done.id, type=JobType.GLB)) is None  # already queued
    assert store.item(library, done.id).model_status is JobStatus.PENDING


def test_a_snapshot_reads_while_another_connection_holds_the_write_lock(sqlite_url: str, tmp_path: Path) -> None:
    """With WAL a reader neither waits for a writer nor sees its uncommitted rows. The store's connections
    get no busy timeout here, so a read that asked for the write lock would fail at once, not wait."""
    engine = create_engine(sqlite_url)

    @sa.event.listens_for(engine, "connect")
    def _never_wait(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    engine.dispose()  # connections made from now on never wait
    store = LibraryStore(engine)
    library = new_library_id()
    [queued] = add(store, library, 1)
    writer = sqlite3.connect(tmp_path / "test.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE he_jobs SET message = 'not committed'")
        snapshot = store.snapshot(library)
        assert [j.message for j in snapshot.jobs] == [queued.message]
        assert stored_job(store, queued.id) is not None and store.queue_state(library, NOW) == (1, None)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reads_begin_deferred_and_writes_take_the_write_lock_at_once(sqlite_url: str) -> None:
    store = LibraryStore(create_engine(sqlite_url))
    library = new_library_id()
    add(store, library, 1)
    begun: list[str] = []
    engine = store._engine  # the store's own engine, whose transactions the listener sees

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    store.snapshot(library)
    assert begun == ["BEGIN"]
    claim(store, library)
    assert begun == ["BEGIN", "BEGIN IMMEDIATE"]


class ReadTogether:
    """Holds each thread after its read of `table` until the other thread has read it too (or finished),
    so both decide on the same stale "not there yet" before either writes, as two tabs can."""

    def __init__(self, engine: sa.Engine, table: str) -> None:
        self._arrived = 0
        self._condition = threading.Condition()

        @sa.event.listens_for(engine, "after_cursor_execute")
        def _hold(_conn, _cursor, statement: str, *_args: object) -> None:
            if statement.startswith("SELECT") and f"FROM {table}" in statement:
                self.arrive()

    def arrive(self) -> None:
        with self._condition:
            self._arrived += 1
            self._condition.notify_all()
            self._condition.wait_for(lambda: self._arrived >= 2, timeout=30)

    def run_both(self, work: Callable[[], None]) -> list[BaseException]:
        """Run `work` in two threads at once; the errors they raised."""
        errors: list[BaseException] = []

        def one() -> None:
            try:
                work()
            except BaseException as error:
                errors.append(error)
            finally:
                with self._condition:  # finished: nobody waits for this thread's read any longer
                    self._arrived += 1
                    self._condition.notify_all()

        threads = [threading.Thread(target=one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors


def read_committed_engine(db_url: str) -> sa.Engine:
    """On Postgres the store's own engine (READ COMMITTED: a statement reads outside any lock). On SQLite an
    engine on the same file that behaves alike (pysqlite's own transaction handling: a SELECT runs on its
    own, BEGIN comes with the first write)."""
    engine = create_engine(db_url)  # the tables, and WAL
    if engine.dialect.name != "sqlite":
        return engine
    engine.dispose()
    return sa.create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30})


def test_two_tabs_creating_the_same_library_at_once_never_collide(db_url: str) -> None:
    engine = read_committed_engine(db_url)
    store = LibraryStore(engine)
    library = new_library_id()
    errors = ReadTogether(engine, "he_libraries").run_both(lambda: store.ensure_library(library, NOW))
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM he_libraries")).scalar_one() == 1


def test_two_tabs_adopting_the_same_mirror_record_at_once_never_collide(db_url: str) -> None:
    engine = read_committed_engine(db_url)
    store = LibraryStore(engine)
    library = new_library_id()
    store.ensure_library(library, NOW)
    recovered = item(created_ms=NOW)
    recovered_job = job("P", item_id=recovered.id, created_ms=NOW)
    errors = ReadTogether(engine, "he_items").run_both(
        lambda: store.upsert_from_mirror(library, [recovered], [recovered_job])
    )
    assert errors == []
    snapshot = store.snapshot(library)
    assert [i.id for i in snapshot.items] == [recovered.id] and [j.id for j in snapshot.jobs] == [recovered_job.id]


def test_a_mirror_record_updates_only_an_older_row_of_its_own_library(store: LibraryStore) -> None:
    library, other = new_library_id(), new_library_id()
    [queued] = add(store, library, 1)
    stored = store.item(library, queued.item_id)
    store.upsert_from_mirror(library, [dataclasses.replace(stored, name="older", updated_ms=stored.updated_ms - 1)], [])
    assert store.item(library, queued.item_id).name == stored.name
    store.upsert_from_mirror(other, [dataclasses.replace(stored, name="foreign", updated_ms=stored.updated_ms + 5)], [])
    assert store.item(library, queued.item_id).name == stored.name and store.item(other, queued.item_id) is None
    store.upsert_from_mirror(library, [dataclasses.replace(stored, name="newer", updated_ms=stored.updated_ms + 5)], [])
    assert store.item(library, queued.item_id).name == "newer"


def request(library_id: str, slots: int = 2, now: int = NOW, tag: str = "q") -> ClaimRequest:
    return ClaimRequest(
        library_id=library_id, tokens=[f"{tag}{n}" for n in range(slots)], now_ms=now, lease_ms=LEASE, concurrency=2
    )


def adding(library_id: str, new_item, new_job) -> Callable[[LibraryStore], None]:
    """A write for `claiming`: add the item and its job."""
    return lambda s: s.add_item(library_id, new_item, new_job)


def test_queuing_with_a_claim_starts_the_job_in_the_same_call_up_to_the_limit(store: LibraryStore) -> None:
    library = new_library_id()
    store.ensure_library(library, NOW)
    queued = []
    for index in range(3):
        new_item = item(created_ms=index)
        new_job = job("P", item_id=new_item.id, created_ms=index)
        queued.append(new_job)
        written, claimed = store.claiming(request(library), adding(library, new_item, new_job))
        assert written is None
        assert [j.id for j in claimed] == ([new_job.id] if index < 2 else [])  # the third finds no free slot
    jobs = {j.id: j for j in store.snapshot(library).jobs}
    assert [jobs[j.id].status for j in queued] == [JobStatus.PROCESSING, JobStatus.PROCESSING, JobStatus.PENDING]
    assert jobs[queued[0].id].lease_until_ms == NOW + LEASE
    assert store.item(library, queued[0].item_id).cutout_status is JobStatus.PROCESSING


def test_queuing_without_a_claim_request_only_writes(store: LibraryStore) -> None:
    library = new_library_id()
    [pending] = add(store, library)
    queued, claimed = store.claiming(None, lambda s: s.queue(library, job("P", item_id=pending.item_id)))
    assert queued is None and claimed == []  # the item already has an active cutout job: nothing queued
    assert stored_job(store, pending.id).status is JobStatus.PENDING


def test_a_write_that_fails_while_claiming_leaves_nothing_behind(store: LibraryStore) -> None:
    """The write and the claim are one transaction: an error in either undoes both."""
    library = new_library_id()
    [earlier] = add(store, library)
    new_item = item()

    def write_then_fail(s: LibraryStore) -> None:
        s.add_item(library, new_item, job("P", item_id=new_item.id))
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.claiming(request(library), write_then_fail)
    assert store.item(library, new_item.id) is None
    assert stored_job(store, earlier.id).status is JobStatus.PENDING  # and the claim it came with was undone
    assert [j.id for j in store.claiming(request(library), lambda s: None)[1]] == [earlier.id]


def test_queuing_and_claiming_from_many_workers_never_exceeds_the_limit(
    db_url: str, open_store: Callable[[], LibraryStore]
) -> None:
    """Six workers (own engines) each queue jobs claiming in the same call, and finish what they hold
    only after queuing the next, while a seventh claims with `claim_due`: never more than two run."""
    library = new_library_id()
    setup = open_store()
    setup.ensure_library(library, NOW)
    record_peak_processing(db_url)
    stores = [open_store() for _ in range(7)]
    barrier = threading.Barrier(7)
    claimed: list[str] = []
    lock = threading.Lock()

    def finish(store: LibraryStore, held: list) -> None:
        for done in held:
            store.complete(done.id, done.lease_token, now_ms=NOW + 1)

    def enqueuer(index: int) -> None:
        store, held = stores[index], []
        barrier.wait()
        for round_ in range(6):
            new_item = item()
            new_job = job("P", item_id=new_item.id)
            _, got = store.claiming(request(library, tag=f"w{index}-{round_}-"), adding(library, new_item, new_job))
            with lock:
                claimed.extend(j.id for j in got)
            finish(store, held)
            held = got
        finish(store, held)

    def claimer() -> None:
        store, held = stores[6], []
        barrier.wait()
        for round_ in range(20):
            got = store.claim_due(library, tokens=[f"c{round_}"], now_ms=NOW, lease_ms=LEASE, concurrency=2)
            with lock:
                claimed.extend(j.id for j in got)
            finish(store, held)
            held = got
        finish(store, held)

    threads = [threading.Thread(target=enqueuer, args=(index,)) for index in range(6)]
    threads.append(threading.Thread(target=claimer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed))  # no job was claimed twice
    assert peak_processing(db_url) == 2  # the limit was met and never exceeded
