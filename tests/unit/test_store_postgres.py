"""What only Postgres can show: real overlapping transactions. Each race holds the first writer's
transaction open at a chosen statement until the second writer is seen waiting for one of its locks in
`pg_stat_activity` (or has finished without waiting), so the two really overlap, on every run.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from home_editor.core.models import JobStatus, new_library_id
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from tests.db_probes import peak_processing, record_peak_processing
from tests.factories import item, job
from tests.store_helpers import claim_next, stored_job
from tests.unit.test_store import LEASE, NOW, add

LOCK_TIMEOUT = "?options=-c%20lock_timeout%3D5000"  # a claim that would wait for a lock fails instead


@pytest.fixture
def engines(postgres_url: str) -> Iterator[Callable[..., sa.Engine]]:
    made: list[sa.Engine] = []

    def make(query: str = "") -> sa.Engine:
        made.append(create_engine(postgres_url + query))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


class Overlap:
    """Runs `first` in a thread and holds its transaction right after its first statement that starts
    with `prefix` until `second` (run once the hold began) waits for a lock or has finished."""

    def __init__(self, first_engine: sa.Engine, prefix: str, watcher: sa.Engine) -> None:
        self._prefix, self._watcher = prefix, watcher
        self._held = threading.Event()
        self._second_done = threading.Event()
        self.second_waited = False

        @sa.event.listens_for(first_engine, "after_cursor_execute")
        def _hold(_conn, _cursor, statement: str, *_args: object) -> None:
            if statement.startswith(prefix) and not self._held.is_set():
                self._held.set()
                self._wait_for_second()

    def _wait_for_second(self) -> None:
        for _ in range(3000):  # a bound on a hang, not a timing: each look is one query
            if self._second_done.is_set():
                return
            with self._watcher.connect() as conn:
                waiting = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
            if waiting:
                self.second_waited = True
                return
            self._second_done.wait(0.01)
        raise AssertionError("the second writer neither waited nor finished")

    def run(self, first: Callable[[], object], second: Callable[[], object]) -> tuple[object, object]:
        """Both results; an exception raised by either is raised here."""
        results: dict[str, object] = {}

        def run_first() -> None:
            try:
                results["first"] = first()
            except BaseException as error:
                results["first"] = error
            finally:
                self._held.set()

        thread = threading.Thread(target=run_first)
        thread.start()
        self._held.wait()
        try:
            results["second"] = second()
        except BaseException as error:
            results["second"] = error
        finally:
            self._second_done.set()
        thread.join()
        for result in results.values():
            if isinstance(result, BaseException):
                raise result
        return results["first"], results["second"]


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.reliability("F3 two workers create one library, Postgres", "overlapping creations both succeed; one row")
def test_two_workers_creating_the_same_library_at_once_both_succeed_with_one_row(engines) -> None:
    first, second, watcher = engines(), engines(), engines()
    library = new_library_id()
    overlap = Overlap(first, "INSERT INTO he_libraries", watcher)
    overlap.run(
        lambda: LibraryStore(first).ensure_library(library, NOW),
        lambda: LibraryStore(second).ensure_library(library, NOW + 1),
    )
    assert overlap.second_waited  # the second INSERT met the first one's uncommitted row
    assert count(watcher, "he_libraries") == 1


def test_two_tabs_adopting_the_same_mirror_record_at_once_both_succeed_and_the_newer_wins(engines) -> None:
    first, second, watcher = engines(), engines(), engines()
    library = new_library_id()
    LibraryStore(watcher).ensure_library(library, NOW)
    older = item(created_ms=NOW, updated_ms=NOW)
    newer = dataclasses.replace(older, name="renamed.jpg", updated_ms=NOW + 5)
    recovered_job = job("P", item_id=older.id, created_ms=NOW)
    overlap = Overlap(first, "INSERT INTO he_items", watcher)
    overlap.run(
        lambda: LibraryStore(first).upsert_from_mirror(library, [older], [recovered_job]),
        lambda: LibraryStore(second).upsert_from_mirror(library, [newer], [recovered_job]),
    )
    assert overlap.second_waited
    snapshot = LibraryStore(watcher).snapshot(library)
    assert [(i.id, i.name) for i in snapshot.items] == [(older.id, "renamed.jpg")]
    assert [j.id for j in snapshot.jobs] == [recovered_job.id]


def test_two_tabs_adopting_the_same_records_in_opposite_orders_never_deadlock(engines) -> None:
    """Each tab's mirror lists the records in its own order; the first has written (and locked) its first
    record when the second starts with the other one. Written in any order, each would wait for the
    other's lock and Postgres would abort one; in id order, the second waits and both succeed."""
    first, second, watcher = engines(), engines(), engines()
    library = new_library_id()
    LibraryStore(watcher).ensure_library(library, NOW)
    records = [item(created_ms=NOW, updated_ms=NOW) for _ in range(2)]
    overlap = Overlap(first, "INSERT INTO he_items", watcher)
    overlap.run(
        lambda: LibraryStore(first).upsert_from_mirror(library, records, []),
        lambda: LibraryStore(second).upsert_from_mirror(library, records[::-1], []),
    )
    assert overlap.second_waited
    assert sorted(i.id for i in LibraryStore(watcher).snapshot(library).items) == sorted(r.id for r in records)


@pytest.mark.reliability(
    "F3 claimers with skewed clocks, Postgres",
    "two claimers picking different jobs never exceed the library's limit (also with no library row)",
)
@pytest.mark.parametrize("library_row", ["present", "missing"])
def test_claimers_with_different_clocks_never_exceed_the_librarys_limit(
    engines, postgres_url: str, library_row: str
) -> None:
    """One job runs; the first claimer (clock NOW) has read the queue and picked X when the second (a
    clock 5 s later, so a clicked job Y held back until then is due and goes first) claims. Each picked
    a different job, so only the library's lock keeps them from running 3 at once with a limit of 2:
    the second must wait for the first and then find the limit met. Also when the library has jobs but
    no row (a store copied from elsewhere): the claim creates the row to lock it."""
    first, second, watcher = engines(), engines(), engines()
    library = new_library_id()
    store = LibraryStore(watcher)
    running, x = add(store, library, 2)
    y = job("P", item_id=item().id, created_ms=NOW, priority=20, not_before_ms=NOW + 5_000)
    store.add_item(library, item(id=y.item_id), y)
    assert claim_next(store, library, token="r", now_ms=NOW, lease_ms=LEASE, concurrency=2).id == running.id
    if library_row == "missing":
        with watcher.begin() as conn:
            conn.execute(sa.text("DELETE FROM he_libraries"))
    record_peak_processing(postgres_url)

    def claim(engine: sa.Engine, now: int):
        return claim_next(LibraryStore(engine), library, token=str(now), now_ms=now, lease_ms=LEASE, concurrency=2)

    overlap = Overlap(first, "SELECT he_jobs", watcher)
    claimed_first, claimed_second = overlap.run(lambda: claim(first, NOW), lambda: claim(second, NOW + 5_000))
    assert peak_processing(postgres_url) == 2
    assert (claimed_first.id, claimed_second) == (x.id, None)
    assert overlap.second_waited
    assert count(watcher, "he_libraries") == 1


@pytest.mark.reliability("F3 claims in many libraries, Postgres", "a claim never waits for another library's claim")
def test_a_claim_never_waits_for_another_librarys_claim(engines) -> None:
    """While a claim holds library A (its transaction open), a claim in B goes through; one in A waits
    (here: fails at once with a lock timeout of 5 s instead of waiting)."""
    setup = engines()
    store = LibraryStore(setup)
    busy, other = new_library_id(), new_library_id()
    add(store, busy, 1)
    [queued] = add(store, other, 1)
    impatient = LibraryStore(engines(LOCK_TIMEOUT))
    with setup.begin() as holder:
        holder.execute(sa.text("SELECT id FROM he_libraries WHERE id = :id FOR UPDATE"), {"id": busy})
        claimed = claim_next(impatient, other, token="b", now_ms=NOW, lease_ms=LEASE, concurrency=2)
        assert claimed is not None and claimed.id == queued.id
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            claim_next(impatient, busy, token="a", now_ms=NOW, lease_ms=LEASE, concurrency=2)
    assert stored_job(store, queued.id).status is JobStatus.PROCESSING


def test_processes_starting_at_once_create_the_tables_once(postgres_url: str) -> None:
    """Eight engines (as eight processes starting together) create and upgrade the tables at once."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    made: list[sa.Engine] = []

    def start() -> None:
        barrier.wait()
        try:
            made.append(create_engine(postgres_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in made:
        engine.dispose()
    assert errors == []
    assert len(made) == 8
