"""Taking uploads in (no Reflex): a drop is received into the private spool while it arrives, then each
file is checked, stored (original and thumbnail) and added with its cutout queued (and started, when a slot
is free, in the same trip to the store), in a task of the process. The photo checks are handed in
(`PhotoCheck`, built in `app_wiring`), so nothing here decodes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from home_editor.core.clock import now_ms
from home_editor.core.errors import BadInputError, StorageError
from home_editor.core.mirror import clean_text
from home_editor.core.models import Item, Job, JobType, new_id
from home_editor.core.storage_keys import THUMB_NAME, file_key, original_name
from home_editor.database.library_store import LibraryStore
from home_editor.side_by_side import all_or_raise
from home_editor.storage.base import Storage, content_type_for
from home_editor.storage.upload_spool import (
    Chunk,
    DropReceipt,
    FileWatcher,
    Upload,
    UploadGate,
    UploadLimits,
    read_upload,
    receive_drop,
    remove_spooled,
)

logger = logging.getLogger(__name__)


class CheckedPhoto(Protocol):
    """An upload that passed every check: what to store, and its thumbnail."""

    @property
    def extension(self) -> str: ...

    @property
    def original(self) -> bytes: ...

    @property
    def thumbnail(self) -> bytes: ...


class PhotoCheck(Protocol):
    """Checks an upload's bytes and makes its thumbnail; returns it with the bytes' content hash (raises
    BadInputError, with a user-facing reason, for a file that is not an acceptable photo). It may start
    on a file while it arrives: `stream` gives a watcher of its bytes, handed back with the whole file."""

    def __call__(self, data: bytes, streamed: Any = None, /) -> Awaitable[tuple[CheckedPhoto, str]]: ...

    def stream(self, first_bytes: bytes, /) -> FileWatcher | None: ...


class WorkQueue(Protocol):
    """Queues work: `write(store)` runs the store calls that queue it, on the store's thread, and the work
    starts in the same trip when a slot is free (`Runner.enqueue`)."""

    def enqueue(self, library_id: str, write: Callable[[LibraryStore], Any]) -> Awaitable[Any]: ...


@dataclasses.dataclass(frozen=True)
class IntakeResult:
    """What became of one uploaded file: the new item, or a user-facing reason it was not kept."""

    name: str
    item: Item | None = None
    problem: str = ""


@dataclasses.dataclass(frozen=True)
class ReceivedDrop:
    """A drop once its bytes have arrived: the user-facing refusals (file name, reason) made on the way,
    and the queue of the intake of the files received whole (one result per file, in order, then None)."""

    refusals: list[tuple[str, str]]
    results: asyncio.Queue[IntakeResult | None]


class UploadIntake:
    """Receives drops and stores their photos; `added(library_id)` is told of each new item."""

    def __init__(
        self,
        queue: WorkQueue,
        storage: Storage,
        check: PhotoCheck,
        gate: UploadGate,
        *,
        spool_dir: Path,
        limits: UploadLimits,
        added: Callable[[str], None],
    ) -> None:
        self._queue, self._storage, self._check, self._gate = queue, storage, check, gate
        self._spool_dir, self._limits, self._added = spool_dir, limits, added
        self._intakes: set[asyncio.Task[None]] = set()

    def admit(self, library_id: str) -> AbstractContextManager[None]:
        """Hold one of the library's upload slots (this process) for the block.

        Raises:
            UploadRefusedError: The library already has the maximum number of uploads in flight.
        """
        return self._gate.admit(library_id)

    async def receive_drop(self, library_id: str, chunks: AsyncIterator[Chunk]) -> ReceivedDrop:
        """Spool a drop as it arrives (every cap enforced on the way), then take each file in. Even when
        the caller is cancelled meanwhile (its tab closed), every file received whole is taken in."""
        receipt = DropReceipt()
        try:
            await receive_drop(receipt, chunks, folder=self._spool_dir, limits=self._limits, watch=self._check.stream)
        finally:
            files = receipt.files
            results = self.intake(
                library_id,
                [(file.name, file.path) for file in files],
                streamed={file.path: file.watcher for file in files if file.watcher is not None},
            )
        return ReceivedDrop(receipt.refusals, results)

    def intake(
        self, library_id: str, files: list[Upload], *, streamed: dict[Path, FileWatcher] | None = None
    ) -> asyncio.Queue[IntakeResult | None]:
        """Store uploaded files one by one in a task of the process, not of the request: the upload
        request is cancelled when its tab closes, and a file the server has received must not be lost.
        Files given as spool paths (see `storage.upload_spool`) are read one at a time, so a drop of hundreds
        of photos never sits in memory at once.

        Args:
            library_id: The library the files go to.
            files: Each file's name and bytes, or its spool file.
            streamed: The check's watchers of spool files it followed as they arrived (`PhotoCheck.stream`).

        Returns:
            A queue with one result per file, in order, then None.
        """
        results: asyncio.Queue[IntakeResult | None] = asyncio.Queue()
        task = asyncio.create_task(
            self._intake(library_id, list(files), dict(streamed or {}), results), name="home-editor-intake"
        )
        self._intakes.add(task)
        task.add_done_callback(self._intakes.discard)
        return results

    async def _intake(
        self,
        library_id: str,
        files: list[Upload],
        streamed: dict[Path, FileWatcher],
        results: asyncio.Queue[IntakeResult | None],
    ) -> None:
        try:
            while files:
                name, payload = files.pop(0)  # drop each file's bytes as soon as it is handled
                watcher = streamed.pop(payload, None) if isinstance(payload, Path) else None
                try:
                    item = await self.add_upload(library_id, name, await read_upload(payload), streamed=watcher)
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
                    remove_spooled([payload])
        finally:
            remove_spooled(payload for _, payload in files)  # only if the task itself was cancelled
            await results.put(None)

    async def add_upload(
        self, library_id: str, file_name: str, data: bytes, *, streamed: FileWatcher | None = None
    ) -> Item:
        """Validate an uploaded file, store the original (first) and its thumbnail, then add the item
        and queue its cutout, which starts in the same trip to the store when a slot is free. Nothing is
        left behind when any step fails.

        Raises:
            BadInputError: The file is not an acceptable image (the reason is user-facing).
            StorageError: A file could not be stored.
        """
        accepted, content_hash = await self._check(data, streamed)
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
            original_url, thumb_url = await all_or_raise(
                self._storage.put(keys[0], accepted.original, content_type=content_type_for(keys[0])),
                self._storage.put(keys[1], accepted.thumbnail, content_type="image/webp"),
            )
            item = dataclasses.replace(item, urls={item.original: original_url, item.thumb: thumb_url})
            await self._queue.enqueue(
                library_id, lambda store: store.add_item(library_id, item, job, content_hash=content_hash)
            )
        except BaseException:
            await remove_stored_files(self._storage, keys)
            raise
        self._added(library_id)
        return item


async def remove_stored_files(storage: Storage, keys: list[str]) -> None:
    """Remove stored files, best effort (a failure is logged, never raised)."""
    try:
        await storage.delete(keys)
    except StorageError:
        logger.warning("Could not remove %d stored files", len(keys))
