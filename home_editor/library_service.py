"""What the page can ask of a library (no Reflex here): its page view and the wait for its next change,
uploads, recovery from the browser's mirror, and the cards' actions. Every call names the library; item ids
from the page are only looked up inside it. The state layer reaches the app through this facade alone.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager

from home_editor.core.backgrounds import parse_background
from home_editor.core.clock import now_ms
from home_editor.core.models import Item, Job, JobType, Priority, Snapshot, new_id
from home_editor.core.page_view import PageView, page_view
from home_editor.core.storage_keys import file_key, file_names
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.runner import Runner
from home_editor.mirror_recovery import MirrorRecovery
from home_editor.settings import Settings
from home_editor.storage.base import Storage
from home_editor.storage.upload_spool import Chunk, Upload, UploadGate
from home_editor.upload_intake import IntakeResult, PhotoCheck, ReceivedDrop, UploadIntake, remove_stored_files

logger = logging.getLogger(__name__)
KNOWN_LIBRARIES_LIMIT = 10_000


class CardAction(enum.Enum):
    """What a card's buttons ask for."""

    CANCEL_CUTOUT = "cancel_cutout"
    RETRY_CUTOUT = "retry_cutout"
    GENERATE_MODEL = "generate_model"
    CANCEL_MODEL = "cancel_model"
    RETRY_MODEL = "retry_model"
    DELETE = "delete"


class LibraryService:
    """The library operations behind the page's events."""

    def __init__(
        self,
        store: AsyncLibraryStore,
        storage: Storage,
        runner: Runner,
        hub: ChangeHub,
        *,
        settings: Settings,
        check_photo: PhotoCheck,
        upload_gate: UploadGate,
    ) -> None:
        self.store = store
        self.storage = storage
        self.runner = runner
        self.hub = hub
        self.settings = settings
        self.uploads = UploadIntake(
            runner,  # an upload's cutout is queued, and started when a slot is free, in one trip to the store
            storage,
            check_photo,
            upload_gate,
            spool_dir=settings.spool_dir,
            limits=settings.upload_limits,
            added=self.library_changed,
        )
        self.recovery = MirrorRecovery(store, storage, job_ttl_ms=settings.job_ttl_ms)
        self._known_libraries: set[str] = set()
        self._loading: dict[tuple[str, int], asyncio.Future[PageView]] = {}  # page views being read, shared

    async def view(self, library_id: str) -> PageView:
        """The library as the store has it now, worked out for the page: read and encoded in one hand-off
        to the store's thread (a large library's encoding stays off the event loop, and costs no second
        thread wake-up).

        Callers that ask for the same library at the same change version (`ChangeHub.version`) while a
        load is under way share it: the tabs of a library woken by one change, and an upload's own page
        update beside its tab's, make one read of the store, not one each.
        """
        version = self.hub.version(library_id)
        key = (library_id, version)
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(
                self.store.run(lambda store: page_view(store.snapshot(library_id), version=version))
            )
            self._loading[key] = loading
            loading.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(loading)  # one caller's cancel (its tab closed) does not cancel the others'

    async def wait_for_change(self, library_id: str, seen: int, *, timeout: float | None = None) -> bool:
        """Wait until the library changes after version `seen` (a `PageView.version`), or `timeout`
        seconds (the settings' poll interval by default). Returns whether it changed; a tab's poll that
        finds its library quiet has the runner look at the library's queue (work another process left)."""
        poll = self.settings.poll_seconds if timeout is None else timeout
        await self.hub.wait(library_id, seen, timeout=poll)
        if self.hub.version(library_id) != seen:
            return True
        self.runner.wake(library_id)
        return False

    def library_changed(self, library_id: str) -> None:
        """Wake the library's tabs (in every process)."""
        self.hub.notify(library_id)

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

    async def open_library(self, library_id: str, mirror_items: Sequence[Item], mirror_jobs: Sequence[Job]) -> None:
        """Make sure the library exists and merge the browser's mirror into the store (checked)."""
        await self.ensure_library(library_id)
        if await self.recovery.recover(library_id, mirror_items, mirror_jobs):
            self.runner.notice_new_work(library_id)

    def admit_upload(self, library_id: str) -> AbstractContextManager[None]:
        """Hold one of the library's upload slots for the block (UploadRefusedError when none is free)."""
        return self.uploads.admit(library_id)

    async def receive_drop(self, library_id: str, chunks: AsyncIterator[Chunk]) -> ReceivedDrop:
        """Spool a drop as it arrives, then take each file in (see `UploadIntake.receive_drop`)."""
        return await self.uploads.receive_drop(library_id, chunks)

    def intake(self, library_id: str, files: list[Upload]) -> asyncio.Queue[IntakeResult | None]:
        """Store uploaded files one by one in a task of the process (see `UploadIntake.intake`)."""
        return self.uploads.intake(library_id, files)

    async def add_upload(self, library_id: str, file_name: str, data: bytes) -> Item:
        """Check, store and add one uploaded file, its cutout queued (see `UploadIntake.add_upload`)."""
        return await self.uploads.add_upload(library_id, file_name, data)

    async def act_on_item(self, library_id: str, item_id: str, action: CardAction) -> str:
        """Run a card's action on one of the library's items (an id from elsewhere finds nothing).

        Returns:
            What to tell the user beyond what the page shows ('' for nothing).
        """
        match action:
            case CardAction.CANCEL_CUTOUT:
                await self.cancel(library_id, item_id, JobType.REMBG)
            case CardAction.RETRY_CUTOUT:
                await self.retry(library_id, item_id, JobType.REMBG)
            case CardAction.GENERATE_MODEL:
                await self.generate_model(library_id, item_id)
            case CardAction.CANCEL_MODEL:
                await self.cancel(library_id, item_id, JobType.GLB)
            case CardAction.RETRY_MODEL:
                await self.retry(library_id, item_id, JobType.GLB)
            case CardAction.DELETE:
                deleted = await self.delete(library_id, item_id)
                return f"Deleted “{deleted.name}”." if deleted is not None else ""
        return ""

    async def generate_model(self, library_id: str, item_id: str) -> bool:
        """Queue a 3D model of the item's cutout (a user's click goes before batch work)."""
        return await self._queue_models(library_id, [item_id], Priority.USER) == 1

    async def generate_all_models(self, library_id: str) -> int:
        """Queue a 3D model, as batch work, for every item that has a cutout and no model yet.

        Returns:
            How many were queued.
        """
        snapshot = await self.store.snapshot(library_id)
        busy = {job.item_id for job in snapshot.jobs if job.type is JobType.GLB and job.is_active}
        wanted = [item.id for item in snapshot.items if item.cutout and not item.model and item.id not in busy]
        return await self._queue_models(library_id, wanted[::-1], Priority.BATCH)  # oldest first, like the drop

    async def _queue_models(self, library_id: str, item_ids: list[str], priority: int) -> int:
        """Queue the items' models in one trip to the store, which also starts the first ones when slots
        are free (each job's own creation time keeps their order). Returns how many were queued."""
        jobs = [_model_job(item_id, priority) for item_id in item_ids]
        queued = await self.runner.enqueue(library_id, lambda store: [store.queue(library_id, job) for job in jobs])
        count = sum(job is not None for job in queued)
        if count:
            self.library_changed(library_id)
        return count

    async def cancel(self, library_id: str, item_id: str, job_type: JobType | None = None) -> bool:
        """Cancel the item's queued or running work (of one type, or all)."""
        stopped = await self.store.cancel(library_id, item_id, now_ms=now_ms(), job_type=job_type)
        await self.runner.stop(stopped)
        self.library_changed(library_id)
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
        self.library_changed(library_id)
        await self.runner.forget_remote(old_remote)  # the new attempt submits afresh; the old record can go
        return True

    async def set_background(self, library_id: str, item_id: str | None, background: str) -> int:
        """Keep the background an item (None: every item) is shown and exported on; BadInputError for a
        choice the app does not offer. Returns how many items took it."""
        changed = await self.store.set_background(
            library_id, None if item_id is None else [item_id], parse_background(background), now_ms=now_ms()
        )
        if changed:
            self.library_changed(library_id)
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
        await remove_stored_files(self.storage, [file_key(library_id, item.id, name) for name in file_names(item)])
        self.library_changed(library_id)
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


def _model_job(item_id: str, priority: int) -> Job:
    now = now_ms()  # strictly increasing: jobs made one after another keep their order
    return Job(
        id=new_id(), item_id=item_id, type=JobType.GLB, created_ms=now, updated_ms=now, priority=priority,
        message="Queued",
    )  # fmt: skip
