"""What the store's queue transitions and item operations share: the engine, the write transaction (which
`claiming` holds open so several calls commit together), the library lock, compare-and-set on a job, and
mirroring a job's status into its item.

Each change is one transaction whose WHERE clause re-checks the state it was decided on (compare-and-set),
so two tabs, two workers or a restarted server can never both claim a job or both settle it.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections.abc import Iterator, Mapping

import sqlalchemy as sa

from home_editor.core.models import ACTIVE_STATUSES, ITEM_FIELDS, TERMINAL_STATUSES, Item, Job, JobStatus, JobType
from home_editor.database.records import item_from_row, job_from_row, job_values
from home_editor.database.schema import for_writes, insert_for, items, jobs, libraries

ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)  # as SQL values
TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)


class StoreBase:
    """The engine and the transaction helpers both halves of `LibraryStore` are built on."""

    def __init__(self, engine: sa.Engine, *, rng: random.Random | None = None) -> None:
        self._engine = engine  # reads: deferred transactions, never waiting for a writer (WAL)
        self._writer = for_writes(engine)  # writes: take the write lock when they begin
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's busy
        # handler (1, 2, 5, 10 ms…) however soon it is freed: this process's writers queue here instead and
        # go the moment it is. (Postgres writers lock rows, not the database: nothing to queue for.)
        self._one_writer = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self._rng = rng or random.Random()
        self._open = threading.local()  # the write transaction `claiming` holds open on this thread, if any

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction; inside `claiming`, the one it holds open on this thread (so its store calls
        commit, or roll back, together)."""
        joined = getattr(self._open, "conn", None)
        if joined is not None:
            yield joined
            return
        with self._one_writer, self._writer.begin() as conn:
            self._open.conn = conn
            try:
                yield conn
            finally:
                self._open.conn = None

    @staticmethod
    def _lock_library(conn: sa.Connection, library_id: str, now_ms: int) -> None:
        """Hold the library's row until the transaction ends (a no-op lock on SQLite)."""
        if conn.execute(_LOCK_LIBRARY, {"library_id": library_id}).first() is None:
            insert = insert_for(conn, libraries).values(id=library_id, created_ms=now_ms)
            conn.execute(insert.on_conflict_do_nothing(index_elements=[libraries.c.id]))
            conn.execute(_LOCK_LIBRARY, {"library_id": library_id})

    @staticmethod
    def _item(conn: sa.Connection, library_id: str, item_id: str) -> Item | None:
        row = conn.execute(_LIVE_ITEM, {"library_id": library_id, "item_id": item_id}).mappings().first()
        return item_from_row(row) if row else None

    @staticmethod
    def _active_jobs(conn: sa.Connection, library_id: str, item_id: str, job_type: JobType | None = None) -> list[Job]:
        where = {"library_id": library_id, "item_id": item_id}
        if job_type is None:
            rows = conn.execute(_ACTIVE_JOBS_OF_ITEM, where).mappings()
        else:
            rows = conn.execute(_ACTIVE_JOBS_OF_ITEM_TYPE, {**where, "job_type": job_type.value}).mappings()
        return [job_from_row(row) for row in rows]

    @staticmethod
    def _compare_and_set(conn: sa.Connection, before: Job, after: Job) -> bool:
        """Write `after` only if the row still holds `before`'s status, claim and attempt count."""
        where = {"was_id": before.id, "was_status": before.status.value, "was_token": before.lease_token}
        result = conn.execute(_COMPARE_AND_SET, {**where, "was_attempts": before.attempts, **job_values(after)})
        return result.rowcount == 1

    @staticmethod
    def _sync_item(
        conn: sa.Connection,
        job: Job,
        *,
        result: str = "",
        url: str = "",
        note: str = "",
        more_urls: Mapping[str, str] | None = None,
    ) -> None:
        """Mirror a job's status (and result) into its item, which outlives the job."""
        fields = ITEM_FIELDS[job.type]
        values: dict = {
            fields.status: job.status.value,
            fields.error: job.error if job.status is JobStatus.FAILED else "",
            "updated_ms": job.updated_ms,
        }
        if result:
            row = conn.execute(_FILE_URLS, {"item_id": job.item_id}).first()
            urls = json.loads(row[0]) if row else {}
            urls |= {result: url, **(more_urls or {})}
            values |= {fields.result: result, fields.note: note, "file_urls": json.dumps(urls)}
        conn.execute(_UPDATE_ITEM, {"item_to_update": job.item_id, **values})


# The store's statements are built once, here, with their values as parameters at execution (an UPDATE's
# other parameters name the columns to set). Building a statement per call cost ~0.15 ms of Python each,
# 3–4 times what SQLite takes to run it: most of a queue transition's time, on the store's thread.
_LOCK_LIBRARY = sa.select(libraries.c.id).where(libraries.c.id == sa.bindparam("library_id")).with_for_update()
_LIVE_ITEM = sa.select(items).where(
    items.c.id == sa.bindparam("item_id"), items.c.library_id == sa.bindparam("library_id"), items.c.deleted_ms == 0
)
_ACTIVE_JOBS_OF_ITEM = sa.select(jobs).where(
    jobs.c.library_id == sa.bindparam("library_id"),
    jobs.c.item_id == sa.bindparam("item_id"),
    jobs.c.status.in_(ACTIVE),
)
_ACTIVE_JOBS_OF_ITEM_TYPE = _ACTIVE_JOBS_OF_ITEM.where(jobs.c.type == sa.bindparam("job_type"))
_FILE_URLS = sa.select(items.c.file_urls).where(items.c.id == sa.bindparam("item_id"))
_COMPARE_AND_SET = sa.update(jobs).where(
    jobs.c.id == sa.bindparam("was_id"),
    jobs.c.status == sa.bindparam("was_status"),
    jobs.c.lease_token == sa.bindparam("was_token"),
    jobs.c.attempts == sa.bindparam("was_attempts"),
)
_UPDATE_ITEM = sa.update(items).where(items.c.id == sa.bindparam("item_to_update"))
