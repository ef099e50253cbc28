"""Recovering a library from a browser's mirror (no Reflex): the mirror's items and jobs are merged into
the store only where the storage confirms their files, within lookup budgets, so a forged mirror costs a
bounded number of storage lookups and adopts nothing, while a lost database is refilled from a real one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from home_editor.core import reconcile
from home_editor.core.clock import now_ms
from home_editor.core.lookup_budget import LookupBudget
from home_editor.core.models import ACTIVE_STATUSES, Item, Job, JobType, new_id
from home_editor.core.storage_keys import file_key, file_names
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.storage.base import Storage

logger = logging.getLogger(__name__)
# A reconcile checks each file a mirror names with the storage (a Blob HEAD each). Names that are not there
# (what a forged mirror claims) are capped tightly; files that exist (a real library being recovered: a
# full mirror is at most ~1600 items of ≤ 5 files) loosely. Per reconcile, and per library per hour (per
# process). A new item whose original is missing costs one lookup.
MISSES_PER_RECONCILE = 1000
MISSES_PER_LIBRARY_HOUR = 3000
LOOKUPS_PER_RECONCILE = 10_000
LOOKUPS_PER_LIBRARY_HOUR = 20_000
HOUR_MS = 3_600_000


class MirrorRecovery:
    """Merges a browser's mirror into the store (checked against the storage, within budgets)."""

    def __init__(self, store: AsyncLibraryStore, storage: Storage, *, job_ttl_ms: int) -> None:
        self._store, self._storage, self._job_ttl_ms = store, storage, job_ttl_ms
        self.lookup_budget = LookupBudget(per_window=LOOKUPS_PER_LIBRARY_HOUR, window_ms=HOUR_MS, clock=now_ms)
        self.miss_budget = LookupBudget(per_window=MISSES_PER_LIBRARY_HOUR, window_ms=HOUR_MS, clock=now_ms)

    async def recover(self, library_id: str, mirror_items: Sequence[Item], mirror_jobs: Sequence[Job]) -> bool:
        """Merge what the mirror holds that the store lacks, and give every item that waits for work an
        active job. Returns False when the mirror had nothing to add (nothing was written)."""
        snapshot = await self._store.snapshot(library_id)
        plan = reconcile.plan_reconcile(
            snapshot.items,
            snapshot.jobs,
            mirror_items,
            mirror_jobs,
            deleted_item_ids=await self._store.deleted_item_ids(library_id),
            now_ms=now_ms(),
            ttl_ms=self._job_ttl_ms,
        )
        if not plan.items and not plan.jobs:
            return False
        items_by_id = {item.id: item for item in snapshot.items}
        adopted_items = []
        lookups = _Lookups(
            library_id, self.lookup_budget, self.miss_budget, LOOKUPS_PER_RECONCILE, MISSES_PER_RECONCILE
        )
        for checked, candidate in enumerate(plan.items):
            existing = await self._existing_files(library_id, candidate, lookups, known=candidate.id in items_by_id)
            if existing is None:
                logger.warning(
                    "A browser mirror claimed more files than a reconcile may check; %d of its %d items were "
                    "not checked (they are not recovered)",
                    len(plan.items) - checked,
                    len(plan.items),
                )
                break
            adopted = reconcile.adopt_item(items_by_id.get(candidate.id), candidate, existing)
            if adopted is not None:
                adopted_items.append(adopted)
                items_by_id[adopted.id] = adopted
        jobs_by_id = {job.id: job for job in snapshot.jobs}
        adopted_jobs = [
            adopted
            for job in plan.jobs
            if job.item_id in items_by_id
            and (
                adopted := reconcile.adopt_job(
                    jobs_by_id.get(job.id), job, item=items_by_id[job.item_id], now_ms=now_ms()
                )
            )
        ]
        await self._store.upsert_from_mirror(library_id, adopted_items, adopted_jobs)
        logger.info("Recovered %d items and %d jobs from a browser mirror", len(adopted_items), len(adopted_jobs))
        await self._queue_missing_work(library_id)
        return True

    async def _existing_files(self, library_id: str, item: Item, lookups: _Lookups, *, known: bool) -> dict | None:
        """Which of the files the mirror names exist in the library's own folder (looked up by the
        server from keys it builds itself; no URL from the mirror is ever fetched). An item new to the
        store whose original is missing is not looked at further. None when the lookups ran out."""
        found = {}
        for name in file_names(item):
            if not lookups.take():
                return None
            if url := await self._storage.locate(file_key(library_id, item.id, name)):
                found[name] = url
                continue
            lookups.missed()
            if name == item.original and not known:
                break  # it could not be adopted anyway
        return found

    async def _queue_missing_work(self, library_id: str) -> None:
        """Give every item that waits for a cutout or a model an active job (a recovered mirror may lack one)."""
        snapshot = await self._store.snapshot(library_id)
        active = {(job.item_id, job.type) for job in snapshot.jobs if job.is_active}
        for item in snapshot.items:
            for job_type in JobType:
                if item.status_of(job_type) in ACTIVE_STATUSES and (item.id, job_type) not in active:
                    now = now_ms()
                    job = Job(id=new_id(), item_id=item.id, type=job_type, created_ms=now, updated_ms=now)
                    await self._store.queue(library_id, job)


@dataclasses.dataclass
class _Lookups:
    """One reconcile's storage lookups against its own caps and the library's budgets: a lookup may start
    only while a miss could still be afforded; a miss (a claimed file that is not there) spends both."""

    library_id: str
    budget: LookupBudget
    miss_budget: LookupBudget
    left: int
    misses_left: int

    def take(self) -> bool:
        if self.left <= 0 or self.misses_left <= 0 or not self.miss_budget.left(self.library_id):
            return False
        if not self.budget.take(self.library_id):
            return False
        self.left -= 1
        return True

    def missed(self) -> None:
        self.misses_left -= 1
        self.miss_budget.take(self.library_id)
