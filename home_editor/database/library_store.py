"""Every read and write of libraries, items and jobs. Each change is one transaction whose WHERE clause
re-checks the state it was decided on (compare-and-set), so two tabs, two workers or a restarted server
can never both claim a job or both settle it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TypeVar

import sqlalchemy as sa

from home_editor.core import scheduler
from home_editor.core.models import (
    ACTIVE_STATUSES,
    ITEM_FIELDS,
    TERMINAL_STATUSES,
    Item,
    Job,
    JobStatus,
    JobType,
    Snapshot,
)
from home_editor.database.records import item_from_row, item_values, job_from_row, job_values
from home_editor.database.schema import for_writes, insert_for, items, jobs, libraries

_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)  # as SQL values
_TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
R = TypeVar("R")


@dataclasses.dataclass(frozen=True)
class ClaimRequest:
    """What a runner asks of `claim_due` (see there): one token per free slot it has for the library."""

    library_id: str
    tokens: Sequence[str]
    now_ms: int
    lease_ms: int
    concurrency: int
    still_running: Collection[str] = ()


class LibraryStore:
    """Synchronous store on a SQLAlchemy engine; `AsyncLibraryStore` runs it off the event loop."""

    def __init__(self, engine: sa.Engine, *, rng: random.Random | None = None) -> None:
        self._engine = engine  # reads: deferred transactions, never waiting for a writer (WAL)
        self._writer = for_writes(engine)  # writes: take the write lock when they begin
        self._rng = rng or random.Random()
        self._open = threading.local()  # the write transaction `claiming` holds open on this thread, if any

    # ---- reads -------------------------------------------------------------------------------

    def snapshot(self, library_id: str) -> Snapshot:
        """The library's live items and its jobs."""
        with self._engine.connect() as conn:
            item_rows = conn.execute(
                sa.select(items)
                .where(items.c.library_id == library_id, items.c.deleted_ms == 0)
                .order_by(items.c.created_ms.desc(), items.c.id)
            ).mappings()
            found_items = [item_from_row(row) for row in item_rows]
            job_rows = conn.execute(
                sa.select(jobs).where(jobs.c.library_id == library_id).order_by(jobs.c.created_ms, jobs.c.id)
            ).mappings()
            return Snapshot(items=found_items, jobs=[job_from_row(row) for row in job_rows])

    def deleted_item_ids(self, library_id: str) -> set[str]:
        """Ids of the library's deleted items (tombstones that keep a stale mirror from reviving them)."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(items.c.id).where(items.c.library_id == library_id, items.c.deleted_ms != 0))
            return {row[0] for row in rows}

    def library_exists(self, library_id: str) -> bool:
        """Whether the library has been opened (a page loaded with its key) on this server."""
        with self._engine.connect() as conn:
            return conn.execute(sa.select(libraries.c.id).where(libraries.c.id == library_id)).first() is not None

    def item(self, library_id: str, item_id: str) -> Item | None:
        """One live item of the library (None for another library's item or a deleted one)."""
        with self._engine.connect() as conn:
            return self._item(conn, library_id, item_id)

    def libraries_with_work(self) -> list[str]:
        """Libraries that have pending or processing jobs."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(jobs.c.library_id).where(jobs.c.status.in_(_ACTIVE)).distinct())
            return [row[0] for row in rows]

    def queue_state(self, library_id: str, now_ms: int) -> tuple[int, int | None]:
        """How many of the library's jobs are active, and when the earliest held-back one is due."""
        with self._engine.connect() as conn:
            active = conn.execute(
                sa.select(sa.func.count()).where(jobs.c.library_id == library_id, jobs.c.status.in_(_ACTIVE))
            ).scalar_one()
            next_due = conn.execute(
                sa.select(sa.func.min(jobs.c.not_before_ms)).where(
                    jobs.c.library_id == library_id,
                    jobs.c.status == JobStatus.PENDING.value,
                    jobs.c.not_before_ms > now_ms,
                )
            ).scalar_one()
            return active, next_due

    def finished_twin(self, library_id: str, item_id: str) -> Item | None:
        """Another live item of the library with the same original bytes and a finished cutout."""
        with self._engine.connect() as conn:
            digest = conn.execute(sa.select(items.c.content_hash).where(items.c.id == item_id)).scalar()
            if not digest:
                return None
            row = (
                conn.execute(
                    sa.select(items)
                    .where(
                        items.c.library_id == library_id,
                        items.c.content_hash == digest,
                        items.c.id != item_id,
                        items.c.cutout != "",
                        items.c.deleted_ms == 0,
                    )
                    .order_by(items.c.created_ms)
                )
                .mappings()
                .first()
            )
            return item_from_row(row) if row else None

    # ---- creating ----------------------------------------------------------------------------

    def ensure_library(self, library_id: str, now_ms: int) -> None:
        """Create the library record if it does not exist yet (one statement: two tabs or workers doing it
        at once never collide)."""
        with self._write() as conn:
            insert = insert_for(conn, libraries).values(id=library_id, created_ms=now_ms)
            conn.execute(insert.on_conflict_do_nothing(index_elements=[libraries.c.id]))

    def add_item(self, library_id: str, item: Item, job: Job | None, *, content_hash: str = "") -> None:
        """Add a new item, and its first job, in one transaction."""
        with self._write() as conn:
            conn.execute(sa.insert(items).values(library_id=library_id, content_hash=content_hash, **item_values(item)))
            if job is not None:
                conn.execute(sa.insert(jobs).values(library_id=library_id, **job_values(job)))

    # ---- the queue ---------------------------------------------------------------------------

    def claiming(self, request: ClaimRequest | None, write: Callable[[LibraryStore], R]) -> tuple[R, list[Job]]:
        """Queue work and start it in one transaction: `write(self)` (store calls that queue jobs), then,
        with a `request`, the claim of the library's due jobs, as `claim_due` does it. One call, so from
        queuing to starting a job takes one trip to the store's thread. The library is locked first, as a
        claim does, so writers and claimers of a library always take their locks in the same order.

        Returns:
            What `write` returned, and the jobs claimed (none without a request).
        """
        if request is None:
            return write(self), []
        with self._write() as conn:
            self._lock_library(conn, request.library_id, request.now_ms)
            result = write(self)
            claimed = self.claim_due(
                request.library_id,
                tokens=request.tokens,
                now_ms=request.now_ms,
                lease_ms=request.lease_ms,
                concurrency=request.concurrency,
                still_running=request.still_running,
            )
        return result, claimed

    def claim_due(
        self,
        library_id: str,
        *,
        tokens: Sequence[str],
        now_ms: int,
        lease_ms: int,
        concurrency: int,
        still_running: Collection[str] = (),
    ) -> list[Job]:
        """Atomically claim the library's best due pending jobs (one per token) while fewer than
        `concurrency` run, in one transaction. Jobs the caller `still_running` are not claimed again.

        Claimers of one library are serialised, so the running count cannot be exceeded: on Postgres by a
        lock on the library's row (FOR UPDATE; created first if the library has jobs but no row), which
        never holds up claims in other libraries; SQLite write transactions are IMMEDIATE (one writer).
        """
        claims: list[Job] = []
        with self._write() as conn:
            self._lock_library(conn, library_id, now_ms)
            active = [
                job_from_row(row)
                for row in conn.execute(
                    sa.select(jobs).where(jobs.c.library_id == library_id, jobs.c.status.in_(_ACTIVE))
                ).mappings()
            ]
            picked = scheduler.pick_claims(active, now_ms=now_ms, concurrency=concurrency, still_running=still_running)
            for job, token in zip(picked, tokens, strict=False):
                claimed = scheduler.claimed(job, now_ms=now_ms, token=token, lease_ms=lease_ms)
                if self._compare_and_set(conn, job, claimed):
                    self._sync_item(conn, claimed)
                    claims.append(claimed)
        return claims

    def renew_lease(self, job_id: str, token: str, *, until_ms: int) -> bool:
        """Extend a running job's lease; False when the claim is gone (cancelled, or taken over)."""
        return self._update_claimed(job_id, token, lease_until_ms=until_ms)

    def set_remote_id(self, job_id: str, token: str, remote_id: str) -> bool:
        """Persist a provider job id the moment it is issued; False when the claim is gone."""
        return self._update_claimed(job_id, token, remote_id=remote_id)

    def report_progress(self, job_id: str, token: str, *, progress: int, message: str, now_ms: int) -> bool:
        """Record a running job's progress; False when the claim is gone."""
        return self._update_claimed(
            job_id, token, progress=max(0, min(progress, 99)), message=message[:200], updated_ms=now_ms
        )

    def _update_claimed(self, job_id: str, token: str, **values: object) -> bool:
        """Write to a job only while the claim `token` still holds it."""
        with self._write() as conn:
            result = conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_token == token, jobs.c.status == JobStatus.PROCESSING.value)
                .values(**values)
            )
            return result.rowcount == 1

    def complete(
        self,
        job_id: str,
        token: str,
        *,
        now_ms: int,
        result: str = "",
        url: str = "",
        note: str = "",
        more_urls: Mapping[str, str] | None = None,
    ) -> Job | None:
        """Settle a running job as completed and write its result into the item (one transaction).
        `more_urls` are the URLs of files stored with the result (a cutout's preview).

        Returns:
            The completed job, or None when the claim is gone (the result must then be discarded).
        """
        with self._write() as conn:
            job = self._claimed_job(conn, job_id, token)
            if job is None:
                return None
            done = scheduler.succeeded(job, now_ms=now_ms, note=note)
            if not self._compare_and_set(conn, job, done):
                return None
            self._sync_item(conn, done, result=result, url=url, note=note, more_urls=more_urls)
            return done

    def fail(
        self,
        job_id: str,
        token: str,
        *,
        error: str,
        retryable: bool,
        now_ms: int,
        max_attempts: int,
        backoff_base_ms: int,
    ) -> Job | None:
        """Settle a running job's failed attempt: back-off and retry, or failed for good.

        Returns:
            The settled job, or None when the claim is gone.
        """
        with self._write() as conn:
            job = self._claimed_job(conn, job_id, token)
            if job is None:
                return None
            settled = scheduler.failed(
                job,
                error=error,
                retryable=retryable,
                now_ms=now_ms,
                rng=self._rng,
                max_attempts=max_attempts,
                backoff_base_ms=backoff_base_ms,
            )
            if not self._compare_and_set(conn, job, settled):
                return None
            self._sync_item(conn, settled)
            return settled

    def expire_leases(
        self, *, now_ms: int, max_attempts: int, library_id: str | None = None, keep: Collection[str] = ()
    ) -> list[Job]:
        """Return processing jobs whose runner stopped renewing them (a restart) to the queue; the jobs in
        `keep` are the caller's own running jobs, which it renews itself, and are never expired by it.

        Returns:
            The recovered jobs (pending again, or failed when out of attempts).
        """
        recovered = []
        with self._write() as conn:
            query = sa.select(jobs).where(jobs.c.status == JobStatus.PROCESSING.value, jobs.c.lease_until_ms < now_ms)
            if library_id is not None:
                query = query.where(jobs.c.library_id == library_id)
            if keep:
                query = query.where(jobs.c.id.not_in(list(keep)))
            for row in conn.execute(query.order_by(jobs.c.id)).mappings().all():
                job = job_from_row(row)
                back = scheduler.recovered(job, now_ms=now_ms, max_attempts=max_attempts)
                if self._compare_and_set(conn, job, back):
                    self._sync_item(conn, back)
                    recovered.append(back)
        return recovered

    def cleanup(self, *, now_ms: int, ttl_ms: int) -> int:
        """Delete settled jobs older than the time to live (items are never removed).

        Returns:
            How many jobs were removed.
        """
        with self._write() as conn:
            result = conn.execute(
                sa.delete(jobs).where(jobs.c.status.in_(_TERMINAL), jobs.c.updated_ms < now_ms - ttl_ms)
            )
            return result.rowcount

    # ---- user actions ------------------------------------------------------------------------

    def cancel(self, library_id: str, item_id: str, *, now_ms: int, job_type: JobType | None = None) -> list[Job]:
        """Cancel the item's pending and processing jobs (of one type, or all).

        Returns:
            The cancelled jobs (empty for another library's item or when nothing was active).
        """
        done = []
        with self._write() as conn:
            for job in self._active_jobs(conn, library_id, item_id, job_type):
                stopped = scheduler.cancelled(job, now_ms=now_ms)
                if stopped is not None and self._compare_and_set(conn, job, stopped):
                    self._sync_item(conn, stopped)
                    done.append(stopped)
        return done

    def retry(self, library_id: str, item_id: str, job_type: JobType, *, new_job: Job) -> Job | None:
        """Queue the item's failed or cancelled job again (or `new_job` if it has none left).

        Returns:
            The queued job, or None when the item is not this library's or already has active work.
        """
        with self._write() as conn:
            if self._item(conn, library_id, item_id) is None or self._active_jobs(conn, library_id, item_id, job_type):
                return None
            latest = (
                conn.execute(
                    sa.select(jobs)
                    .where(jobs.c.library_id == library_id, jobs.c.item_id == item_id, jobs.c.type == job_type.value)
                    .order_by(jobs.c.created_ms.desc())
                )
                .mappings()
                .first()
            )
            again = scheduler.retried(job_from_row(latest), now_ms=new_job.created_ms) if latest else None
            if again is not None:
                again = dataclasses.replace(again, priority=new_job.priority)  # whoever asks again decides
            if latest is not None and again is not None:
                if not self._compare_and_set(conn, job_from_row(latest), again):
                    return None
            else:
                again = new_job
                conn.execute(sa.insert(jobs).values(library_id=library_id, **job_values(again)))
            self._sync_item(conn, again)
            return again

    def queue(self, library_id: str, job: Job) -> Job | None:
        """Queue a new job for an item of this library, unless one of its type is already active (a 3D
        model also needs the item's cutout).

        Returns:
            The queued job, or None when it was not queued.
        """
        with self._write() as conn:
            item = self._item(conn, library_id, job.item_id)
            if item is None or (job.type is JobType.GLB and not item.cutout):
                return None
            if self._active_jobs(conn, library_id, job.item_id, job.type):
                return None
            conn.execute(sa.insert(jobs).values(library_id=library_id, **job_values(job)))
            self._sync_item(conn, job)
            return job

    def delete_item(self, library_id: str, item_id: str, *, now_ms: int) -> Item | None:
        """Mark the item deleted (a tombstone) and cancel its active jobs.

        Returns:
            The deleted item (so its files can be removed), or None if it is not this library's.
        """
        with self._write() as conn:
            item = self._item(conn, library_id, item_id)
            if item is None:
                return None
            for job in self._active_jobs(conn, library_id, item_id):
                stopped = scheduler.cancelled(job, now_ms=now_ms)
                if stopped is not None:
                    self._compare_and_set(conn, job, stopped)
            conn.execute(sa.update(items).where(items.c.id == item_id).values(deleted_ms=now_ms, updated_ms=now_ms))
            return item

    # ---- reconciliation ------------------------------------------------------------------------

    def set_background(self, library_id: str, item_ids: Sequence[str] | None, background: str, *, now_ms: int) -> int:
        """Keep a background choice for the library's live items (all of them when `item_ids` is None);
        returns how many items took it. Another library's ids change nothing."""
        query = sa.update(items).where(items.c.library_id == library_id, items.c.deleted_ms == 0)
        if item_ids is not None:
            query = query.where(items.c.id.in_(list(item_ids)))
        with self._write() as conn:
            return conn.execute(query.values(background=background, updated_ms=now_ms)).rowcount

    def upsert_from_mirror(self, library_id: str, new_items: Sequence[Item], new_jobs: Sequence[Job]) -> None:
        """Write verified mirror records; a row changed meanwhile (newer `updated_ms`) is left alone."""
        with self._write() as conn:  # rows in id order: two writers lock them in the same order
            for item in sorted(new_items, key=lambda record: record.id):
                values = item_values(item)
                del values["background"]  # the mirror holds no background choice: it never overwrites one
                self._upsert(conn, items, library_id, values)
            for job in sorted(new_jobs, key=lambda record: record.id):
                self._upsert(conn, jobs, library_id, job_values(job))

    # ---- helpers -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction; inside `claiming`, the one it holds open on this thread (so its store calls
        commit, or roll back, together)."""
        joined = getattr(self._open, "conn", None)
        if joined is not None:
            yield joined
            return
        with self._writer.begin() as conn:
            self._open.conn = conn
            try:
                yield conn
            finally:
                self._open.conn = None

    @staticmethod
    def _lock_library(conn: sa.Connection, library_id: str, now_ms: int) -> None:
        """Hold the library's row until the transaction ends (a no-op lock on SQLite)."""
        lock = sa.select(libraries.c.id).where(libraries.c.id == library_id).with_for_update()
        if conn.execute(lock).first() is None:
            insert = insert_for(conn, libraries).values(id=library_id, created_ms=now_ms)
            conn.execute(insert.on_conflict_do_nothing(index_elements=[libraries.c.id]))
            conn.execute(lock)

    @staticmethod
    def _upsert(conn: sa.Connection, table: sa.Table, library_id: str, values: dict) -> None:
        """Insert the record, or update it if it is this library's and older: one statement, so two
        writers of the same new record never collide."""
        insert = insert_for(conn, table).values(library_id=library_id, **values)
        changes = {name: insert.excluded[name] for name in values if name != "id"}
        newer = sa.and_(table.c.library_id == library_id, table.c.updated_ms < insert.excluded.updated_ms)
        conn.execute(insert.on_conflict_do_update(index_elements=[table.c.id], set_=changes, where=newer))

    @staticmethod
    def _item(conn: sa.Connection, library_id: str, item_id: str) -> Item | None:
        row = (
            conn.execute(
                sa.select(items).where(items.c.id == item_id, items.c.library_id == library_id, items.c.deleted_ms == 0)
            )
            .mappings()
            .first()
        )
        return item_from_row(row) if row else None

    @staticmethod
    def _active_jobs(conn: sa.Connection, library_id: str, item_id: str, job_type: JobType | None = None) -> list[Job]:
        query = sa.select(jobs).where(
            jobs.c.library_id == library_id, jobs.c.item_id == item_id, jobs.c.status.in_(_ACTIVE)
        )
        if job_type is not None:
            query = query.where(jobs.c.type == job_type.value)
        rows = conn.execute(query).mappings()
        return [job_from_row(row) for row in rows]

    @staticmethod
    def _claimed_job(conn: sa.Connection, job_id: str, token: str) -> Job | None:
        row = (
            conn.execute(
                sa.select(jobs).where(
                    jobs.c.id == job_id, jobs.c.lease_token == token, jobs.c.status == JobStatus.PROCESSING.value
                )
            )
            .mappings()
            .first()
        )
        return job_from_row(row) if row else None

    @staticmethod
    def _compare_and_set(conn: sa.Connection, before: Job, after: Job) -> bool:
        """Write `after` only if the row still holds `before`'s status, claim and attempt count."""
        result = conn.execute(
            sa.update(jobs)
            .where(
                jobs.c.id == before.id,
                jobs.c.status == before.status.value,
                jobs.c.lease_token == before.lease_token,
                jobs.c.attempts == before.attempts,
            )
            .values(**job_values(after))
        )
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
            row = conn.execute(sa.select(items.c.file_urls).where(items.c.id == job.item_id)).first()
            urls = json.loads(row[0]) if row else {}
            urls |= {result: url, **(more_urls or {})}
            values |= {fields.result: result, fields.note: note, "file_urls": json.dumps(urls)}
        conn.execute(sa.update(items).where(items.c.id == job.item_id).values(**values))
