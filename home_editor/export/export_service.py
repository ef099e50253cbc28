"""What a download holds: a library's own items with a cutout (never another library's), each as its
cutout on its background (named after the original photo) and its 3D model where one exists, read
through the storage as the archive is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from home_editor.core.backgrounds import TRANSPARENT, export_suffix
from home_editor.core.errors import StorageError
from home_editor.core.export_names import UniqueStems
from home_editor.core.models import Item, is_library_id
from home_editor.core.storage_keys import file_key
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.export.compose import compose
from home_editor.export.zip_stream import ZipEntry
from home_editor.storage.base import STREAM_CHUNK, Storage

# Pictures waiting for the composer that a public request may still join; the next is refused. A page
# asks for at most ~6 previews at once (the browser's connections per host), so only a flood reaches this.
MAX_WAITING_COMPOSITIONS = 32


class UnknownLibraryError(LookupError):
    """The key names no library of this server (nothing is said about why)."""


class ComposerBusyError(Exception):
    """Too many pictures are waiting to be composed: try again in a moment."""


class ExportService:
    """Plans and reads downloads; the HTTP layer is `export.routes`."""

    def __init__(self, store: AsyncLibraryStore, storage: Storage) -> None:
        self.store = store
        self.storage = storage
        # A 12 MP composition holds ~100 MB for a moment: one at a time, always on the same thread (so its
        # memory is reused from one allocator arena instead of being kept by one arena per pool thread).
        self._composer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="home-editor-compose")
        self._one_at_a_time = asyncio.Lock()  # a waiting picture holds no bytes: it reads its cutout in turn
        self._waiting = 0

    async def items_to_export(self, library_id: str, item_ids: Sequence[str] | None) -> list[Item]:
        """The library's items with a cutout, in the page's order: all of them (`item_ids` None) or those
        named (ids of other libraries, or unknown ones, find nothing)."""
        if not is_library_id(library_id) or not await self.store.library_exists(library_id):
            raise UnknownLibraryError
        wanted = None if item_ids is None else set(item_ids)
        snapshot = await self.store.snapshot(library_id)
        return [item for item in snapshot.items if item.cutout and (wanted is None or item.id in wanted)]

    async def entries(self, library_id: str, items: Sequence[Item]) -> AsyncIterator[ZipEntry]:
        """The archive's files: per item its cutout (`<original name>.png`, or `.jpg` on an opaque
        background) and its model (`<original name>.glb`), names unique within the archive."""
        stems = UniqueStems()
        for item in items:
            stem = stems.take(item.name)
            cutout = file_key(library_id, item.id, item.cutout)
            yield ZipEntry(f"{stem}.{export_suffix(item.background)}", self.image_chunks(cutout, item.background))
            if item.model:
                yield ZipEntry(f"{stem}.glb", self.storage.stream(file_key(library_id, item.id, item.model)))

    async def image_chunks(self, cutout_key: str, background: str) -> AsyncIterator[bytes]:
        """A cutout on its background, in chunks: the stored file as it is read when transparent, else
        composed from the stored cutout (never by running the job again)."""
        if background == TRANSPARENT:
            async for chunk in self.storage.stream(cutout_key):
                yield chunk
            return
        data = await self.image(cutout_key, background)
        for start in range(0, len(data), STREAM_CHUNK):
            yield data[start : start + STREAM_CHUNK]

    async def image(self, cutout_key: str, background: str, *, refuse_when_busy: bool = False) -> bytes:
        """A whole cutout (or its card preview) on its background, composed one at a time.

        Raises:
            ComposerBusyError: `refuse_when_busy` and too many pictures are already waiting.
            StorageError: The cutout cannot be read.
        """
        if background == TRANSPARENT:
            return await self.storage.get(cutout_key)
        if refuse_when_busy and self._waiting >= MAX_WAITING_COMPOSITIONS:
            raise ComposerBusyError
        self._waiting += 1
        try:
            async with self._one_at_a_time:
                cutout = await self.storage.get(cutout_key)
                return await asyncio.get_running_loop().run_in_executor(self._composer, compose, cutout, background)
        except (OSError, ValueError) as error:  # not an image Pillow can read
            raise StorageError("A stored cutout could not be read.") from error
        finally:
            self._waiting -= 1
