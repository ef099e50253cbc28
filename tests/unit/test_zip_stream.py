"""The streamed ZIP: every entry's name and bytes come back exactly, stored (not compressed), and the
archive is handed out in pieces no larger than about one chunk, never gathered whole."""

from __future__ import annotations

import io
import os
import zipfile

from home_editor.core.errors import StorageError
from home_editor.export.zip_stream import ZipEntry, stream_zip


async def chunks_of(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def entries(files: dict[str, bytes]):
    for name, data in files.items():
        yield ZipEntry(name, chunks_of(data, 1 << 16), len(data))


async def test_each_entry_comes_back_by_name_and_byte_for_byte() -> None:
    files = {"chair.png": os.urandom(300_000), "chair.glb": os.urandom(70_000), "lamp (2).jpg": b"", "é.png": b"x"}
    pieces = [piece async for piece in stream_zip(entries(files))]
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(files)
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert archive.read(info) == files[info.filename]


async def test_the_archive_is_sent_in_pieces_of_about_one_chunk() -> None:
    files = {f"photo {n}.png": os.urandom(1 << 20) for n in range(5)}
    pieces = [piece async for piece in stream_zip(entries(files))]
    assert len(pieces) > 5 * 16 and max(len(piece) for piece in pieces) <= (1 << 16) + 1024


async def test_a_file_that_cannot_be_read_is_left_out_and_named_with_its_reason() -> None:
    async def unreadable():
        raise StorageError("A stored file is missing from Vercel Blob.")
        yield b""  # pragma: no cover - makes this an async generator

    async def listed():
        yield ZipEntry("chair.png", chunks_of(b"chair", 2))
        yield ZipEntry("lamp.png", unreadable())
        yield ZipEntry("sofa.png", chunks_of(b"sofa", 2))

    archive = zipfile.ZipFile(io.BytesIO(b"".join([piece async for piece in stream_zip(listed())])))
    assert archive.namelist() == ["chair.png", "sofa.png", "NOT INCLUDED.txt"]
    assert archive.read("NOT INCLUDED.txt").decode() == (
        "Not included:\nlamp.png: A stored file is missing from Vercel Blob.\n"
    )
