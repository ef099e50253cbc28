"""Local-file storage: files below one root folder, written atomically, served by the app's /media route."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from home_editor.core.errors import StorageError
from home_editor.storage.base import STREAM_CHUNK, check_key, finish_even_if_cancelled


class LocalFileStorage:
    """Files under `root`; URLs are `base_url` + key (the app serves them, see `media_route`)."""

    label = "Local files"

    def __init__(self, root: Path, *, base_url: str) -> None:
        self.root = root
        self._base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        """The file for a key (keys are validated, so the path stays inside the root)."""
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        """Write to a temporary file and move it into place, so readers never see half a file. A cancel
        takes effect once the file is written (the thread cannot be stopped), so the caller's clean-up
        always comes after the write."""
        path = self.path(key)
        try:
            await finish_even_if_cancelled(asyncio.to_thread(_write_atomically, path, data))
        except OSError as error:
            raise StorageError(f"Could not store the file ({error.strerror or error})") from error
        return self.url(key)

    async def get(self, key: str) -> bytes:
        """Read a stored file."""
        return await asyncio.to_thread(read_stored_file, self.path(key))

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        """Read a stored file a chunk at a time (each read in a thread)."""
        try:
            file = await asyncio.to_thread(self.path(key).open, "rb")
        except OSError as error:
            raise StorageError(f"Could not read a stored file ({error.strerror or error})") from error
        try:
            while chunk := await asyncio.to_thread(file.read, STREAM_CHUNK):
                yield chunk
        except OSError as error:
            raise StorageError(f"Could not read a stored file ({error.strerror or error})") from error
        finally:
            await asyncio.to_thread(file.close)

    def local_path(self, key: str) -> Path:
        """The file for a key (`path`): every file of this storage is on this machine's disk."""
        return self.path(key)

    async def locate(self, key: str) -> str | None:
        """The file's URL if it exists."""
        return self.url(key) if await asyncio.to_thread(self.path(key).is_file) else None

    async def delete(self, keys: list[str]) -> None:
        """Remove files, and the item folder once it is empty."""
        try:
            await asyncio.to_thread(_remove, [self.path(key) for key in keys])
        except OSError as error:
            raise StorageError(f"Could not delete a stored file ({error.strerror or error})") from error

    def url(self, key: str) -> str:
        """Where the browser fetches the file."""
        return f"{self._base_url}/{check_key(key)}"


def read_stored_file(path: Path) -> bytes:
    """A stored file's bytes (also read by processing workers, from `local_path`).

    Raises:
        StorageError: It cannot be read (also when missing).
    """
    try:
        return path.read_bytes()
    except OSError as error:
        raise StorageError(f"Could not read a stored file ({error.strerror or error})") from error


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove(paths: list[Path]) -> None:
    folders = set()
    for path in paths:
        path.unlink(missing_ok=True)
        folders.add(path.parent)
    for folder in folders:
        with contextlib.suppress(OSError):  # not empty: other files of the item remain
            folder.rmdir()
