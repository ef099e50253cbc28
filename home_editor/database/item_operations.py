"""A library's items, and what its user asks of them: adding a photo (with its first job), queuing more
work, cancelling, retrying, deleting, a background choice, and the records a browser's mirror brings back.
Changes to an item's jobs apply a decision of `core.scheduler` with compare-and-set (see `store_base`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import sqlalchemy as sa

from home_editor.core import scheduler
from home_editor.core.models import Item, Job, JobType, Snapshot
from home_editor.database.records import item_from_row, item_values, job_from_row, job_values
from home_editor.database.schema import insert_for, items, jobs, libraries
from home_editor.database.store_base import StoreBase


class ItemOperations(StoreBase):
    """Reads of a library, and every change a user (or a browser's mirror) makes to its items and their jobs."""

    # ---- reads -------------------------------------------------------------------------------

    def snapshot(self, library_id: str) -> Snapshot:
        """The library's live items and its jobs."""
        with self._engine.connect() as conn:
            where = {"library_id": library_id}
            found_items = [item_from_row(row) for row in conn.execute(_LIVE_ITEMS, where).mappings()]
            found_jobs = [job_from_row(row) for row in conn.execute(_JOBS, where).mappings()]
            return Snapshot(items=found_items, jobs=found_jobs)

    def deleted_item_ids(self, library_id: str) -> set[str]:
        """Ids of the library's deleted items (tombstones that keep a stale mirror from reviving them)."""
        with self._engine.connect() as conn:
            return {row[0] for row in conn.execute(_DELETED_ITEM_IDS, {"library_id": library_id})}

    def library_exists(self, library_id: str) -> bool:
        """Whether the library has been opened (a page loaded with its key) on this server."""
        with self._engine.connect() as conn:
            return conn.execute(_LIBRARY, {"library_id": library_id}).first() is not None

    def item(self, library_id: str, item_id: str) -> Item | None:
        """One live item of the library (None for another library's item or a deleted one)."""
        with self._engine.connect() as conn:
            return self._item(conn, library_id, item_id)

    def finished_twin(self, library_id: str, item_id: str) -> Item | None:
        """Another live item of the library with the same original bytes and a finished cutout."""
        with self._engine.connect() as conn:
            digest = conn.execute(_CONTENT_HASH, {"item_id": item_id}).scalar()
            if not digest:
                return None
            where = {"library_id": library_id, "content_hash": digest, "item_id": item_id}
            row = conn.execute(_FINISHED_TWIN, where).mappings().first()
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
            conn.execute(_INSERT_ITEM, {"library_id": library_id, "content_hash": content_hash, **item_values(item)})
            if job is not None:
                conn.execute(_INSERT_JOB, {"library_id": library_id, **job_values(job)})

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
                conn.execute(_INSERT_JOB, {"library_id": library_id, **job_values(again)})
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
            conn.execute(_INSERT_JOB, {"library_id": library_id, **job_values(job)})
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

    # ---- a background choice, the mirror's records -------------------------------------------

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

    # ---- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _upsert(conn: sa.Connection, table: sa.Table, library_id: str, values: dict) -> None:
        """Insert the record, or update it if it is this library's and older: one statement, so two
        writers of the same new record never collide."""
        insert = insert_for(conn, table).values(library_id=library_id, **values)
        changes = {name: insert.excluded[name] for name in values if name != "id"}
        newer = sa.and_(table.c.library_id == library_id, table.c.updated_ms < insert.excluded.updated_ms)
        conn.execute(insert.on_conflict_do_update(index_elements=[table.c.id], set_=changes, where=newer))


# Built once (see `store_base`): the reads of a library and of a cutout's twin, and the inserts of new work.
_LIVE_ITEMS = (
    sa.select(items)
    .where(items.c.library_id == sa.bindparam("library_id"), items.c.deleted_ms == 0)
    .order_by(items.c.created_ms.desc(), items.c.id)
)
_JOBS = sa.select(jobs).where(jobs.c.library_id == sa.bindparam("library_id")).order_by(jobs.c.created_ms, jobs.c.id)
_DELETED_ITEM_IDS = sa.select(items.c.id).where(
    items.c.library_id == sa.bindparam("library_id"), items.c.deleted_ms != 0
)
_LIBRARY = sa.select(libraries.c.id).where(libraries.c.id == sa.bindparam("library_id"))
_CONTENT_HASH = sa.select(items.c.content_hash).where(items.c.id == sa.bindparam("item_id"))
_FINISHED_TWIN = (
    sa.select(items)
    .where(
        items.c.library_id == sa.bindparam("library_id"),
        items.c.content_hash == sa.bindparam("content_hash"),
        items.c.id != sa.bindparam("item_id"),
        items.c.cutout != "",
        items.c.deleted_ms == 0,
    )
    .order_by(items.c.created_ms)
)
_INSERT_ITEM = sa.insert(items)  # the parameters are the columns
_INSERT_JOB = sa.insert(jobs)
