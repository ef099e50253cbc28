"""What a `rembg` job does: read the original, remove the background, store the cutout."""

from __future__ import annotations

import dataclasses

from home_editor.core.errors import BadInputError
from home_editor.core.layout import file_key, new_cutout_name
from home_editor.core.models import Job
from home_editor.processing.base import Processor, ProgressReport
from home_editor.storage.base import Storage
from home_editor.store.async_store import AsyncLibraryStore


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A job's stored result: the file name recorded on the item, a note, and every key written."""

    cutout: str
    note: str
    keys: list[str]


class CutoutJob:
    """Executes `rembg` jobs against the injected store, storage and processor."""

    def __init__(self, store: AsyncLibraryStore, storage: Storage, processor: Processor) -> None:
        self._store = store
        self._storage = storage
        self._processor = processor

    async def run(self, library_id: str, job: Job, report: ProgressReport) -> Outcome:
        """Produce and store the cutout.

        Raises:
            BadInputError: The item is gone or its original cannot be processed (never retried).
        """
        item = await self._store.item(library_id, job.item_id)
        if item is None or not item.original:
            raise BadInputError("The item no longer exists.")
        original = await self._storage.get(file_key(library_id, item.id, item.original))
        cutout = await self._processor.remove_background(original, report=report)
        name = new_cutout_name()
        keys = [file_key(library_id, item.id, name)]
        try:
            await self._storage.put(keys[0], cutout.png, content_type="image/png")
        except BaseException:
            await self.discard(keys)
            raise
        return Outcome(cutout=name, note=cutout.note, keys=keys)

    async def discard(self, keys: list[str]) -> None:
        """Remove files of a result that will not be recorded (the job was cancelled meanwhile)."""
        try:
            await self._storage.delete(keys)
        except Exception:
            return
