"""A ZIP written as it is sent: `zipfile` (stored, not compressed: PNG, JPEG and GLB are compressed
already) writes into a sink that is emptied after every chunk, so no more than about one chunk of the
archive is ever in memory, whatever its size (ZIP64 past 4 GB)."""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile
from collections.abc import AsyncIterable, AsyncIterator

from home_editor.core.errors import HomeEditorError

LEFT_OUT_NAME = "NOT INCLUDED.txt"
ZIP64_FILE = 0xFFFF_FFFF  # a single entry at least this large needs its ZIP64 header up front


@dataclasses.dataclass(frozen=True)
class ZipEntry:
    """One file of the archive: its name and its bytes as they are read (`size` if known, else 0)."""

    name: str
    chunks: AsyncIterable[bytes]
    size: int = 0


class _Sink(io.RawIOBase):
    """Where zipfile writes: collects bytes until they are taken; cannot seek, so zipfile writes data
    descriptors after each entry instead of going back to its header."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


async def stream_zip(entries: AsyncIterable[ZipEntry]) -> AsyncIterator[bytes]:
    """The archive's bytes, entry by entry, chunk by chunk. A file that cannot be read at all is left
    out and named, with the reason, in a last entry `NOT INCLUDED.txt`; one that fails half-way ends
    the download with an error (its start is already sent), so a broken ZIP never looks complete."""
    sink = _Sink()
    stamp = time.localtime()[:6]
    left_out: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        async for entry in entries:
            chunks = aiter(entry.chunks)
            try:
                first = await anext(chunks, b"")
            except HomeEditorError as error:
                left_out.append(f"{entry.name}: {error}")
                continue
            with archive.open(_info(entry.name, stamp), "w", force_zip64=entry.size >= ZIP64_FILE) as target:
                target.write(first)
                yield sink.take()
                async for chunk in chunks:
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
        if left_out:
            archive.writestr(_info(LEFT_OUT_NAME, stamp), "\n".join(["Not included:", *left_out, ""]))
    yield sink.take()


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info
