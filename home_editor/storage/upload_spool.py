"""Receiving a drop while its bytes arrive: each file is written once, straight into the app's private
spool folder, and abandoned the moment it passes the size cap (its bytes removed at once); a drop with
too many files or too many bytes in all is cut off where it passes the cap. Nothing here trusts the
browser's own limits, which a request sent by hand does not have. Also the spool's payload type
(`Upload`), reading one, and removing those not taken in.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from home_editor.core.errors import UploadRefusedError

WRITE_BATCH_BYTES = 1 << 20  # bytes gathered before one write on a worker thread (not one hop per network chunk)


class Chunk(Protocol):
    """A piece of one uploaded file, as the web framework streams it."""

    filename: str
    offset: int
    data: bytes


class FileWatcher(Protocol):
    """Follows one file's bytes as they arrive (the upload's checks, to start decoding early)."""

    def add(self, data: bytes) -> None: ...

    def end(self) -> None:
        """The file arrived whole."""

    def drop(self) -> None:
        """The file will not be kept (cut off, too large, the request went away)."""


WatchFile = Callable[[bytes], FileWatcher | None]
"""Given a file's first bytes, a watcher for the rest of them (or None)."""


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    """Server-side caps of one drop (one upload request) and of a library's uploads at once."""

    max_file_bytes: int
    max_files: int
    max_drop_bytes: int
    max_in_flight: int


@dataclasses.dataclass(frozen=True)
class SpooledFile:
    """A file received whole, in a spool file the intake removes once it is handled."""

    name: str
    path: Path
    size: int
    watcher: FileWatcher | None = None


@dataclasses.dataclass
class DropReceipt:
    """What became of a drop while it arrived: the files received whole, and user-facing refusals."""

    files: list[SpooledFile] = dataclasses.field(default_factory=list)
    refusals: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (file name, reason)
    cut_off: bool = False


class UploadGate:
    """Counts the uploads in flight per library, refusing those past the cap (this process)."""

    def __init__(self, max_in_flight: int) -> None:
        self._max = max_in_flight
        self._in_flight: collections.Counter[str] = collections.Counter()

    @contextlib.contextmanager
    def admit(self, library_id: str) -> Iterator[None]:
        """Hold one of the library's upload slots for the block.

        Raises:
            UploadRefusedError: The library already has the maximum number of uploads in flight.
        """
        if self._in_flight[library_id] >= self._max:
            raise UploadRefusedError(
                f"{self._max} uploads are already on their way to this library; wait for them to finish"
            )
        self._in_flight[library_id] += 1
        try:
            yield
        finally:
            self._in_flight[library_id] -= 1
            if self._in_flight[library_id] <= 0:
                del self._in_flight[library_id]


class _OpenFile:
    """The file being received: its spool file, bytes so far and the batch not yet written."""

    def __init__(self, name: str, folder: Path, watcher: FileWatcher | None) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, path = tempfile.mkstemp(dir=folder, prefix="drop-")
        self.name, self.path, self.size, self.watcher = name, Path(path), 0, watcher
        self.handle: BinaryIO = os.fdopen(handle, "wb")
        self.batch = bytearray()

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self.batch += data
        if self.watcher is not None:
            self.watcher.add(data)

    async def flush(self) -> None:
        if self.batch:
            data, self.batch = bytes(self.batch), bytearray()
            await asyncio.to_thread(self.handle.write, data)

    async def close(self) -> SpooledFile:
        if self.watcher is not None:
            self.watcher.end()
        await self.flush()
        await asyncio.to_thread(self.handle.close)
        return SpooledFile(self.name, self.path, self.size, self.watcher)

    def abandon(self) -> None:
        """Close and remove at once (a small close and unlink; no data is written)."""
        if self.watcher is not None:
            self.watcher.drop()
        with contextlib.suppress(OSError):
            self.handle.close()
        self.path.unlink(missing_ok=True)


async def receive_drop(
    receipt: DropReceipt,
    chunks: AsyncIterator[Chunk],
    *,
    folder: Path,
    limits: UploadLimits,
    watch: WatchFile | None = None,
) -> None:
    """Write a streamed drop into `folder`, file by file, enforcing `limits` as the bytes arrive.

    Returns when the drop has ended or was cut off (the caller then stops reading the request).
    `receipt` is filled as each file completes, so a caller whose task is cancelled (the browser went
    away) still has every file received whole; the unfinished one is removed at once.

    Args:
        receipt: Collects the files received whole (spool paths the caller must consume or remove)
            and the refusals.
        chunks: The request's file chunks in order (a new file starts at offset 0).
        folder: The private spool folder (never one the web server serves).
        limits: The caps to enforce.
        watch: Gives each file a watcher of its bytes as they arrive (it is told whether the file was kept).
    """
    reader = _DropReader(receipt, folder, limits, watch)
    try:
        async for chunk in chunks:
            if not await reader.take(chunk):
                receipt.cut_off = True
                return
        await reader.finish_file()
    finally:
        reader.abandon_open_file()  # cut off, failed or cancelled mid-file: its bytes go at once


class _DropReader:
    """The state of one drop being read: the open file, whether it is being skipped, the counts."""

    def __init__(self, receipt: DropReceipt, folder: Path, limits: UploadLimits, watch: WatchFile | None) -> None:
        self._receipt, self._folder, self._limits, self._watch = receipt, folder, limits, watch
        self._current: _OpenFile | None = None
        self._files_seen = self._total = 0

    async def take(self, chunk: Chunk) -> bool:
        """Take one chunk; False when the drop must be cut off here."""
        limits = self._limits
        if chunk.offset == 0:  # a new file begins
            await self.finish_file()
            self._files_seen += 1
            if self._files_seen > limits.max_files:
                self._receipt.refusals.append(("", f"only {limits.max_files} files can be added at once"))
                return False
            watcher = self._watch(chunk.data) if self._watch is not None else None
            self._current = _OpenFile(chunk.filename, self._folder, watcher)
        self._total += len(chunk.data)
        if self._total > limits.max_drop_bytes:
            self._receipt.refusals.append(
                (chunk.filename, f"the drop is larger than {limits.max_drop_bytes / 2**20:g} MB in all")
            )
            return False
        current = self._current
        if current is None:  # a file past its cap: the rest of its bytes are read and dropped
            return True
        if current.size + len(chunk.data) > limits.max_file_bytes:
            self.abandon_open_file()
            self._receipt.refusals.append((current.name, f"it is larger than {limits.max_file_bytes / 2**20:g} MB"))
            return True
        current.add(chunk.data)
        if len(current.batch) >= WRITE_BATCH_BYTES:
            await current.flush()
        return True

    async def finish_file(self) -> None:
        """The open file is complete: hand it over."""
        if self._current is not None:
            current, self._current = self._current, None
            self._receipt.files.append(await current.close())

    def abandon_open_file(self) -> None:
        """Remove the open file and its bytes at once."""
        if self._current is not None:
            self._current.abandon()
            self._current = None


Upload = tuple[str, bytes | Path]  # a file's name and its bytes, or a spool file holding them (removed once handled)


async def read_upload(payload: bytes | Path) -> bytes:
    """An upload's bytes (a spool file is read on a worker thread)."""
    return payload if isinstance(payload, bytes) else await asyncio.to_thread(payload.read_bytes)


def remove_spooled(payloads: Iterable[bytes | Path]) -> None:
    """Remove the spool files among uploads' payloads (bytes in memory need nothing)."""
    for payload in payloads:
        if isinstance(payload, Path):
            payload.unlink(missing_ok=True)
