"""The storage seam: the queue and the upload path use only this protocol."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol, TypeVar

from home_editor.core.errors import StorageError

T = TypeVar("T")

# Keys are made by the app from its own ids only: folder/item/file.ext, lower-case, no dots but the suffix.
STREAM_CHUNK = 1 << 20  # what `Storage.stream` hands out at a time
KEY_PATTERN = re.compile(r"^[a-z0-9]{8,40}/[a-z0-9]{12}/[a-z]{1,12}(-[a-z0-9]{12})?\.(jpg|png|webp|avif|heic|glb)$")

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
    "glb": "model/gltf-binary",
}


def check_key(key: str) -> str:
    """Return `key` if the app could have made it; raise StorageError otherwise (never a client path)."""
    if not KEY_PATTERN.match(key):
        raise StorageError(f"Refusing an invalid storage key: {key[:80]!r}")
    return key


def content_type_for(key: str) -> str:
    """The MIME type for a key's suffix."""
    return CONTENT_TYPES[key.rsplit(".", 1)[-1]]


class Storage(Protocol):
    """Stores files under app-made keys and says where the browser can fetch them."""

    label: str

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        """Store `data` under `key`; returns the public URL. Raises StorageError."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under `key`. Raises StorageError (also when missing)."""
        ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The bytes stored under `key` in chunks, never the whole file at once (downloads of many big
        files). Raises StorageError (also when missing) before the first chunk or while reading."""
        ...

    async def locate(self, key: str) -> str | None:
        """The public URL of `key` if it holds a file, else None."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where `key`'s file is on this machine's disk, when this storage keeps files there (else None):
        processing on this machine reads it there, so its bytes never pass through the server process."""
        ...

    async def delete(self, keys: list[str]) -> None:
        """Remove the files (missing ones are ignored). Raises StorageError."""
        ...


async def finish_even_if_cancelled(work: Awaitable[T]) -> T:
    """Await `work` to its end even when the caller is cancelled meanwhile, then pass the cancel on.

    A write that has begun (a file in a thread, an upload on the wire) is never left running in the
    background after its caller gave up: whatever the caller does next (remove the file, delete the
    item) happens after it, so a removed file never comes back.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                continue  # cancelled again: still let the write end first
        raise
