"""What a `rembg` job does: reuse a twin's finished cutout (same photo dropped twice) or have the
processor remove the background, then store the cutout under a new name.
"""

from __future__ import annotations

import dataclasses

from home_editor.core.errors import BadInputError
from home_editor.core.layout import file_key, new_cutout_name
from home_editor.core.models import Item, Job
from home_editor.processing.base import Cutout, JobContext, Processor
from home_editor.storage.base import Storage
from home_editor.store.async_store import AsyncLibraryStore


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A job's stored result: the file name and URL recorded on the item, a note, and every key written."""

    name: str
    url: str
    note: str
    keys: list[str]


class CutoutJob:
    """Executes `rembg` jobs against the injected store, storage and processor."""

    def __init__(self, store: AsyncLibraryStore, storage: Storage, processor: Processor) -> None:
        self._store = store
        self._storage = storage
        self._processor = processor

    async def run(self, library_id: str, job: Job, hooks: JobContext) -> Outcome:
        """Produce and store the cutout.

        Raises:
            BadInputError: The item is gone or its original cannot be processed (never retried).
        """
        item = await self._store.item(library_id, job.item_id)
        if item is None or not item.original:
            raise BadInputError("The item no longer exists.")
        cutout = await self._reuse_twin(library_id, item)
        if cutout is None:

            async def load_image() -> bytes:
                return await self._storage.get(file_key(library_id, item.id, item.original))

            cutout = await self._processor.remove_background(dataclasses.replace(hooks, load_image=load_image))
        name = new_cutout_name()
        keys = [file_key(library_id, item.id, name)]
        try:
            url = await self._storage.put(keys[0], cutout.png, content_type="image/png")
        except BaseException:
            await self.discard(keys)
            raise
        return Outcome(name=name, url=url, note=cutout.note, keys=keys)

    async def _reuse_twin(self, library_id: str, item: Item) -> Cutout | None:
        """The same photo was dropped before and its cutout is done: copy it instead of processing."""
        twin = await self._store.finished_twin(library_id, item.id)
        if twin is None:
            return None
        png = await self._storage.get(file_key(library_id, twin.id, twin.cutout))
        return Cutout(png=png, note=twin.cutout_note or f"Same photo as “{twin.name}”: its cutout was reused.")

    async def cancel_remote(self, job: Job) -> None:
        """Stop the provider's side of a cancelled job."""
        if job.remote_id:
            await self._processor.cancel_remote(job.remote_id)

    async def discard(self, keys: list[str]) -> None:
        """Remove files of a result that will not be recorded (the job was cancelled meanwhile)."""
        try:
            await self._storage.delete(keys)
        except Exception:  # best effort: an orphan file is harmless
            return
