"""What the page can ask of a library (no Reflex here): add an upload, reconcile the browser's mirror,
cancel, retry, delete. Every call names the library; item ids from the page are only looked up inside it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from home_editor.core import reconcile
from home_editor.core.backgrounds import parse_background
from home_editor.core.clock import now_ms
from home_editor.core.errors import BadInputError, StorageError
from home_editor.core.lookup_budget import LookupBudget
from home_editor.core.mirror import clean_text
from home_editor.core.models import ACTIVE_STATUSES, Item, Job, JobType, Priority, Snapshot, new_id
from home_editor.core.storage_keys import THUMB_NAME, file_key, file_names, original_name
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.runner import Runner
from home_editor.processing.images import AcceptedImage, accept_upload, check_jpeg_upload, is_jpeg, thumbnail_of
from home_editor.processing.pools import run_upload_work
from home_editor.settings import Settings
from home_editor.storage.base import Storage, content_type_for

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
KNOWN_LIBRARIES_LIMIT = 10_000
Upload = tuple[str, bytes | Path]  # a file's name and its bytes, or a spool file holding them (removed once handled)


@dataclasses.dataclass(frozen=True)
class IntakeResult:
    """What became of one uploaded file: the new item, or a user-facing reason it was not kept."""

    name: str
    item: Item | None = None
    problem: str = ""


class LibraryService:
    """The library operations behind the page's events."""

    def __init__(
        self, store: AsyncLibraryStore, storage: Storage, runner: Runner, hub: ChangeHub, *, settings: Settings
    ) -> None:
        self.store = store
        self.storage = storage
        self.runner = runner
        self.hub = hub
        self.settings = settings
        self._intakes: set[asyncio.Task[None]] = set()
        self._known_libraries: set[str] = set()
        self.lookup_budget = LookupBudget(per_window=LOOKUPS_PER_LIBRARY_HOUR, window_ms=HOUR_MS, clock=now_ms)
        self.miss_budget = LookupBudget(per_window=MISSES_PER_LIBRARY_HOUR, window_ms=HOUR_MS, clock=now_ms)

    async def snapshot(self, library_id: str) -> Snapshot:
        """The library as the store has it."""
        return await self.store.snapshot(library_id)

    async def ensure_library(self, library_id: str) -> None:
        """Create the library record once (remembered for this process, so page loads skip the write; the
        memory is bounded, and forgetting costs only a repeated, harmless write)."""
        if library_id not in self._known_libraries:
            await self.store.ensure_library(library_id, now_ms())
            if len(self._known_libraries) >= KNOWN_LIBRARIES_LIMIT:
                self._known_libraries.clear()
            self._known_libraries.add(library_id)

    async def library_exists(self, library_id: str) -> bool:
        """Whether a page has opened this library (uploads alone never create one)."""
        return library_id in self._known_libraries or await self.store.library_exists(library_id)

    def intake(self, library_id: str, files: list[Upload]) -> asyncio.Queue[IntakeResult | None]:
        """Store uploaded files one by one in a task of the process, not of the request: the upload
        request is cancelled when its tab closes, and a file the server has received must not be lost.
        Files given as spool paths (see `storage.upload_spool`) are read one at a time, so a drop of hundreds
        of photos never sits in memory at once.

        Returns:
            A queue with one result per file, in order, then None.
        """
        results: asyncio.Queue[IntakeResult | None] = asyncio.Queue()
        task = asyncio.create_task(self._intake(library_id, list(files), results), name="home-editor-intake")
        self._intakes.add(task)
        task.add_done_callback(self._intakes.discard)
        return results

    async def _intake(self, library_id: str, files: list[Upload], results: asyncio.Queue[IntakeResult | None]) -> None:
        try:
            while files:
                name, payload = files.pop(0)  # drop each file's bytes as soon as it is handled
                try:
                    data = payload if isinstance(payload, bytes) else await asyncio.to_thread(payload.read_bytes)
                    item = await self.add_upload(library_id, name, data)
                except BadInputError as error:
                    await results.put(IntakeResult(name, problem=f"was not added: {error}."))
                except StorageError as error:
                    await results.put(
                        IntakeResult(
                            name, problem=f"could not be stored ({error}); nothing was kept, please try again."
                        )
                    )
                except Exception:
                    logger.exception("Upload intake failed")
                    await results.put(
                        IntakeResult(
                            name, problem="could not be stored (unexpected error); nothing was kept, please try again."
                        )
                    )
                else:
                    await results.put(IntakeResult(name, item=item))
                finally:
                    _remove_spooled([payload])
        finally:
            _remove_spooled([payload for _, payload in files])  # only if the task itself was cancelled
            await results.put(None)

    async def add_upload(self, library_id: str, file_name: str, data: bytes) -> Item:
        """Validate an uploaded file, store the original (first) and its thumbnail, then add the item
        and queue its cutout. Nothing is left behind when any step fails.

        Raises:
            BadInputError: The file is not an acceptable image (the reason is user-facing).
            StorageError: A file could not be stored.
        """
        accepted, content_hash = await _accept(data, self.settings)
        now = now_ms()
        item = Item(
            id=new_id(),
            name=clean_text(file_name, 80) or "image",
            created_ms=now,
            updated_ms=now,
            original=original_name(accepted.extension),
            thumb=THUMB_NAME,
        )
        job = Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=now, updated_ms=now, message="Queued")
        keys = [file_key(library_id, item.id, item.original), file_key(library_id, item.id, item.thumb)]
        try:
            original_url, thumb_url = await _all_or_raise(
                self.storage.put(keys[0], accepted.original, content_type=content_type_for(keys[0])),
                self.storage.put(keys[1], accepted.thumbnail, content_type="image/webp"),
            )
            item = dataclasses.replace(item, urls={item.original: original_url, item.thumb: thumb_url})
            await self.store.add_item(library_id, item, job, content_hash=content_hash)
        except BaseException:
            await self._remove_files(keys)
            raise
        self.hub.notify(library_id)
        self.runner.notice_new_work(library_id)
        return item

    async def open_library(self, library_id: str, mirror_items: Sequence[Item], mirror_jobs: Sequence[Job]) -> None:
        """Make sure the library exists and merge the browser's mirror into the store (checked)."""
        await self.ensure_library(library_id)
        snapshot = await self.store.snapshot(library_id)
        plan = reconcile.plan_reconcile(
            snapshot.items,
            snapshot.jobs,
            mirror_items,
            mirror_jobs,
            deleted_item_ids=await self.store.deleted_item_ids(library_id),
            now_ms=now_ms(),
            ttl_ms=self.settings.job_ttl_ms,
        )
        if not plan.items and not plan.jobs:
            return
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
        await self.store.upsert_from_mirror(library_id, adopted_items, adopted_jobs)
        logger.info("Recovered %d items and %d jobs from a browser mirror", len(adopted_items), len(adopted_jobs))
        await self._queue_missing_work(library_id)

    async def generate_model(self, library_id: str, item_id: str, *, priority: int = Priority.USER) -> bool:
        """Queue a 3D model of the item's cutout (a user's click goes before batch work)."""
        now = now_ms()
        job = Job(
            id=new_id(), item_id=item_id, type=JobType.GLB, created_ms=now, updated_ms=now, priority=priority,
            message="Queued",
        )  # fmt: skip
        if await self.runner.enqueue(library_id, lambda store: store.queue(library_id, job)) is None:
            return False  # queued and, with a slot free, started in the same trip to the store
        self.hub.notify(library_id)
        return True

    async def generate_all_models(self, library_id: str) -> int:
        """Queue a 3D model, as batch work, for every item that has a cutout and no model yet.

        Returns:
            How many were queued.
        """
        snapshot = await self.store.snapshot(library_id)
        busy = {job.item_id for job in snapshot.jobs if job.type is JobType.GLB and job.is_active}
        wanted = [item.id for item in snapshot.items if item.cutout and not item.model and item.id not in busy]
        queued = 0
        for item_id in reversed(wanted):  # oldest first, like the drop
            queued += await self.generate_model(library_id, item_id, priority=Priority.BATCH)
        return queued

    async def cancel(self, library_id: str, item_id: str, job_type: JobType | None = None) -> bool:
        """Cancel the item's queued or running work (of one type, or all)."""
        stopped = await self.store.cancel(library_id, item_id, now_ms=now_ms(), job_type=job_type)
        await self.runner.stop(stopped)
        self.hub.notify(library_id)
        return bool(stopped)

    async def retry(self, library_id: str, item_id: str, job_type: JobType = JobType.REMBG) -> bool:
        """Queue the item's failed or cancelled job of this type again, with fresh attempts."""
        now = now_ms()
        fresh = Job(
            id=new_id(), item_id=item_id, type=job_type, created_ms=now, updated_ms=now, priority=Priority.USER,
            message="Queued",
        )  # fmt: skip
        old_remote = await self._settled_remote_jobs(library_id, item_id, job_type)
        queued = await self.runner.enqueue(
            library_id, lambda store: store.retry(library_id, item_id, job_type, new_job=fresh)
        )  # queued and, with a slot free, started in the same trip to the store
        if queued is None:
            return False
        self.hub.notify(library_id)
        await self.runner.forget_remote(old_remote)  # the new attempt submits afresh; the old record can go
        return True

    async def set_background(self, library_id: str, item_id: str | None, background: str) -> int:
        """Keep the background an item (None: every item) is shown and exported on; BadInputError for a
        choice the app does not offer. Returns how many items took it."""
        changed = await self.store.set_background(
            library_id, None if item_id is None else [item_id], parse_background(background), now_ms=now_ms()
        )
        if changed:
            self.hub.notify(library_id)
        return changed

    async def delete(self, library_id: str, item_id: str) -> Item | None:
        """Delete the item, stop its work, remove its files and every remote record of its jobs."""
        settled_remote = await self._settled_remote_jobs(library_id, item_id)
        stopped = await self.store.cancel(library_id, item_id, now_ms=now_ms())
        item = await self.store.delete_item(library_id, item_id, now_ms=now_ms())
        if item is None:
            return None
        await self.runner.stop(stopped)
        await self.runner.forget_remote(settled_remote)
        await self._remove_files([file_key(library_id, item.id, name) for name in file_names(item)])
        self.hub.notify(library_id)
        return item

    async def _settled_remote_jobs(self, library_id: str, item_id: str, job_type: JobType | None = None) -> list[Job]:
        """The item's finished, failed or cancelled jobs (of one type, or all) that still name a provider job:
        its record may have outlived them upstream (a DELETE that failed), and the API never expires it."""
        snapshot = await self.store.snapshot(library_id)
        return [
            job
            for job in snapshot.jobs
            if job.item_id == item_id and job.remote_id and not job.is_active and job_type in (None, job.type)
        ]

    async def _existing_files(self, library_id: str, item: Item, lookups: _Lookups, *, known: bool) -> dict | None:
        """Which of the files the mirror names exist in the library's own folder (looked up by the
        server from keys it builds itself; no URL from the mirror is ever fetched). An item new to the
        store whose original is missing is not looked at further. None when the lookups ran out."""
        found = {}
        for name in file_names(item):
            if not lookups.take():
                return None
            if url := await self.storage.locate(file_key(library_id, item.id, name)):
                found[name] = url
                continue
            lookups.missed()
            if name == item.original and not known:
                break  # it could not be adopted anyway
        return found

    async def _queue_missing_work(self, library_id: str) -> None:
        """Give every item that waits for a cutout or a model an active job (a recovered mirror may lack one)."""
        snapshot = await self.store.snapshot(library_id)
        active = {(job.item_id, job.type) for job in snapshot.jobs if job.is_active}
        for item in snapshot.items:
            for job_type in JobType:
                if item.status_of(job_type) in ACTIVE_STATUSES and (item.id, job_type) not in active:
                    now = now_ms()
                    job = Job(id=new_id(), item_id=item.id, type=job_type, created_ms=now, updated_ms=now)
                    await self.store.queue(library_id, job)
        self.runner.notice_new_work(library_id)

    async def _remove_files(self, keys: list[str]) -> None:
        try:
            await self.storage.delete(keys)
        except StorageError:
            logger.warning("Could not remove %d stored files", len(keys))


async def _accept(data: bytes, settings: Settings) -> tuple[AcceptedImage, str]:
    """Check an upload and make its thumbnail, and hash its bytes (the hash finds the same photo dropped
    twice), all on the upload threads. A JPEG's byte checks and hash run beside its decode (they take a
    third of the time of a 12 MP decode), so its thumbnail is ready sooner; other formats are decoded once."""
    if not is_jpeg(data):
        return await run_upload_work(_accept_and_hash, data, settings)
    (accepted, content_hash), thumbnail = await _all_or_raise(  # the checks' reason first, as `accept_upload` gives it
        run_upload_work(_check_jpeg_and_hash, data, settings),
        run_upload_work(thumbnail_of, data, settings.max_pixels),
    )
    return dataclasses.replace(accepted, thumbnail=thumbnail), content_hash


async def _all_or_raise(*steps: Awaitable[Any]) -> list[Any]:
    """Run steps side by side and wait for every one of them (a failed step never leaves another running
    behind the caller's clean-up); then raise the first failure in the given order, if any."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


def _accept_and_hash(data: bytes, settings: Settings) -> tuple[AcceptedImage, str]:
    accepted = accept_upload(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels)
    return accepted, hashlib.sha256(data).hexdigest()


def _check_jpeg_and_hash(data: bytes, settings: Settings) -> tuple[AcceptedImage, str]:
    accepted = check_jpeg_upload(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels)
    return accepted, hashlib.sha256(data).hexdigest()


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


def _remove_spooled(payloads: Sequence[bytes | Path]) -> None:
    for payload in payloads:
        if isinstance(payload, Path):
            payload.unlink(missing_ok=True)
