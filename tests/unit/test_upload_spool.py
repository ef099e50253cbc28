"""Receiving a drop while it arrives: caps enforced per byte, files written once into the spool, the
bytes of a refused file removed at once, and nothing left behind by a cut-off or cancelled drop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from home_editor.core.errors import UploadRefusedError
from home_editor.storage.upload_spool import DropReceipt, UploadGate, UploadLimits, receive_drop

MB = 2**20
LIMITS = UploadLimits(max_file_bytes=3 * MB, max_files=4, max_drop_bytes=20 * MB, max_in_flight=2)


@dataclasses.dataclass(frozen=True)
class Chunk:
    filename: str
    offset: int
    data: bytes


async def chunks_of(
    files: list[tuple[str, int]], *, chunk: int = 256 * 1024, after: Callable[[Chunk], None] | None = None
) -> AsyncIterator[Chunk]:
    """A streamed drop: each file's bytes (its index as the byte value) in chunks, as Reflex yields them."""
    for index, (name, size) in enumerate(files):
        for offset in range(0, size, chunk):
            piece = Chunk(name, offset, bytes([index]) * min(chunk, size - offset))
            yield piece
            if after is not None:
                after(piece)


def spooled(folder: Path) -> list[Path]:
    return sorted(folder.glob("*")) if folder.exists() else []


async def test_each_file_is_written_once_into_the_spool_whole_and_in_order(tmp_path: Path) -> None:
    receipt = DropReceipt()
    await receive_drop(receipt, chunks_of([("a.jpg", 1_000_000), ("b.png", 5)]), folder=tmp_path, limits=LIMITS)
    assert [(file.name, file.size) for file in receipt.files] == [("a.jpg", 1_000_000), ("b.png", 5)]
    assert receipt.files[0].path.read_bytes() == bytes([0]) * 1_000_000
    assert receipt.files[1].path.read_bytes() == bytes([1]) * 5
    assert receipt.refusals == [] and not receipt.cut_off
    assert spooled(tmp_path) == sorted(file.path for file in receipt.files)


async def test_a_file_past_the_cap_is_removed_the_moment_it_passes_and_the_rest_of_the_drop_goes_on(
    tmp_path: Path,
) -> None:
    seen_on_disk_after_cap: list[int] = []

    def watch(piece: Chunk) -> None:  # runs as the stream goes on: what the spool holds at that moment
        if piece.filename == "huge.jpg" and piece.offset >= LIMITS.max_file_bytes:
            seen_on_disk_after_cap.append(sum(path.stat().st_size for path in spooled(tmp_path)))

    receipt = DropReceipt()
    files = [("first.jpg", 100), ("huge.jpg", 12 * MB), ("last.jpg", 200)]
    await receive_drop(receipt, chunks_of(files, after=watch), folder=tmp_path, limits=LIMITS)
    assert [file.name for file in receipt.files] == ["first.jpg", "last.jpg"]
    assert receipt.refusals == [("huge.jpg", "it is larger than 3 MB")]
    assert not receipt.cut_off
    assert seen_on_disk_after_cap and max(seen_on_disk_after_cap) <= 100  # only first.jpg: huge's bytes are gone
    assert spooled(tmp_path) == sorted(file.path for file in receipt.files)


async def test_a_drop_past_the_total_cap_is_cut_off_there_keeping_the_files_received_whole(tmp_path: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_drop_bytes=5 * MB)
    read: list[Chunk] = []
    receipt = DropReceipt()
    files = [("a.jpg", 2 * MB), ("b.jpg", 2 * MB), ("c.jpg", 2 * MB), ("d.jpg", 2 * MB)]
    await receive_drop(receipt, chunks_of(files, after=read.append), folder=tmp_path, limits=limits)
    assert receipt.cut_off
    assert [file.name for file in receipt.files] == ["a.jpg", "b.jpg"]
    assert receipt.refusals == [("c.jpg", "the drop is larger than 5 MB in all")]
    assert sum(len(piece.data) for piece in read) <= 5 * MB  # reading stopped at the cap (the rest stays unread)
    assert spooled(tmp_path) == sorted(file.path for file in receipt.files)


async def test_more_files_than_allowed_are_cut_off_at_the_first_extra_file(tmp_path: Path) -> None:
    receipt = DropReceipt()
    files = [(f"{index}.jpg", 10) for index in range(7)]
    await receive_drop(receipt, chunks_of(files), folder=tmp_path, limits=LIMITS)
    assert receipt.cut_off
    assert [file.name for file in receipt.files] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert receipt.refusals == [("", "only 4 files can be added at once")]


async def test_a_cancelled_drop_keeps_the_files_received_whole_and_removes_the_unfinished_one(tmp_path: Path) -> None:
    half_read = asyncio.Event()
    release = asyncio.Event()

    async def stream() -> AsyncIterator[Chunk]:
        yield Chunk("whole.jpg", 0, b"x" * 10)
        yield Chunk("partial.jpg", 0, b"y" * 10)
        half_read.set()
        await release.wait()  # the browser went away mid-file: the request is cancelled here
        yield Chunk("partial.jpg", 10, b"y" * 10)

    receipt = DropReceipt()
    task = asyncio.create_task(receive_drop(receipt, stream(), folder=tmp_path, limits=LIMITS))
    await half_read.wait()
    assert len(spooled(tmp_path)) == 2  # whole.jpg, and partial.jpg open
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [file.name for file in receipt.files] == ["whole.jpg"]
    assert spooled(tmp_path) == [receipt.files[0].path]  # the unfinished file is gone


def test_a_library_has_at_most_its_cap_of_uploads_in_flight() -> None:
    gate = UploadGate(max_in_flight=2)
    with gate.admit("library-a"), gate.admit("library-a"):
        with pytest.raises(UploadRefusedError, match="2 uploads are already on their way"), gate.admit("library-a"):
            pass
        with gate.admit("library-b"):  # another library is not affected
            pass
    with gate.admit("library-a"):  # slots are given back
        pass
