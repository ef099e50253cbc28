"""A JPEG's thumbnail is decoded while its bytes arrive, and is only ever a head start: the same thumbnail
as from the whole file, or none (then the whole file is decoded, with the usual reason for a refusal)."""

from __future__ import annotations

import asyncio
import types

import numpy as np
import pytest
from PIL import Image

from home_editor.core.errors import BadInputError
from home_editor.processing import streamed_thumbnail, upload_checks
from home_editor.processing.images import thumbnail_of
from home_editor.processing.streamed_thumbnail import StreamedThumbnail
from home_editor.processing.upload_checks import UploadChecks
from tests.images import encode, two_tone, with_orientation

MAX_PIXELS = 50_000_000


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A camera-like JPEG (noise keeps it large: ~1.5 MB), turned by its EXIF orientation."""
    pixels = np.random.default_rng(5).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    return with_orientation(Image.fromarray(pixels), 6, "JPEG")


async def _waiting(stream: StreamedThumbnail) -> None:
    """Until the decoder has read every byte it was given and waits for more."""
    await asyncio.to_thread(stream._bytes.waiting.wait, 30)


async def test_the_thumbnail_is_decoded_as_the_bytes_arrive_and_equals_the_whole_files(photo: bytes) -> None:
    stream = StreamedThumbnail.start(MAX_PIXELS)
    assert stream is not None
    nine_tenths = len(photo) * 9 // 10
    stream.add(photo[:nine_tenths])
    await _waiting(stream)
    assert stream._bytes.tell() >= nine_tenths - 65_536  # decoded up to the bytes there, not waiting for all
    stream.add(photo[nine_tenths:])
    stream.end()
    thumbnail = await asyncio.wait_for(stream.result(), 30)
    assert thumbnail == thumbnail_of(photo, MAX_PIXELS)
    assert stream.decoded(photo)


async def test_a_decoder_behind_the_network_takes_every_byte_there_in_one_read(photo: bytes, monkeypatch) -> None:
    """Each read makes the decoder take Python's GIL again (up to 5 ms behind a busy thread): one read of
    all that has arrived, not one per 64 KB."""
    bulk_reads: list[int] = []
    real_read = streamed_thumbnail.ArrivingBytes.read

    def recorded(self, size: int = -1) -> bytes:
        piece = real_read(self, size)
        if len(piece) >= streamed_thumbnail.READ_AT_LEAST:
            bulk_reads.append(len(piece))
        return piece

    monkeypatch.setattr(streamed_thumbnail.ArrivingBytes, "read", recorded)
    stream = StreamedThumbnail.start(MAX_PIXELS)
    assert stream is not None
    stream.add(photo)  # all of it there before the decoder gets to it
    stream.end()
    assert await asyncio.wait_for(stream.result(), 30) == thumbnail_of(photo, MAX_PIXELS)
    assert len(bulk_reads) == 1 and bulk_reads[0] > len(photo) * 9 // 10


async def test_a_file_that_ends_early_or_is_dropped_gives_no_thumbnail(photo: bytes) -> None:
    truncated = StreamedThumbnail.start(MAX_PIXELS)
    truncated.add(photo[: len(photo) // 2])
    truncated.end()
    dropped = StreamedThumbnail.start(MAX_PIXELS)
    dropped.add(photo[: len(photo) // 2])
    await _waiting(dropped)
    dropped.drop()
    assert await asyncio.wait_for(asyncio.gather(truncated.result(), dropped.result()), 30) == [None, None]


async def test_a_stalled_upload_is_given_up(photo: bytes, monkeypatch) -> None:
    """A slow connection never ties up a decoding thread: a stall ends the stream."""
    monkeypatch.setattr(streamed_thumbnail, "STALL_SECONDS", 0.05)
    stream = StreamedThumbnail.start(MAX_PIXELS)
    stream.add(photo[:1000])  # and nothing more, and no end
    assert await asyncio.wait_for(stream.result(), 30) is None


async def test_at_most_two_streams_decode_at_once(photo: bytes) -> None:
    first, second = StreamedThumbnail.start(MAX_PIXELS), StreamedThumbnail.start(MAX_PIXELS)
    assert first is not None and second is not None
    assert StreamedThumbnail.start(MAX_PIXELS) is None  # the file is then decoded when whole
    for stream in (first, second):
        stream.drop()
        await asyncio.wait_for(stream.result(), 30)
    third = StreamedThumbnail.start(MAX_PIXELS)
    assert third is not None
    third.drop()
    await asyncio.wait_for(third.result(), 30)


async def test_only_a_jpeg_is_streamed() -> None:
    checks = UploadChecks(max_bytes=50 * 2**20, max_pixels=MAX_PIXELS)
    assert checks.stream(encode(Image.new("RGB", (8, 8)), "PNG")) is None


async def test_the_checks_use_the_streams_thumbnail_and_decode_no_more(photo: bytes, monkeypatch) -> None:
    checks = UploadChecks(max_bytes=50 * 2**20, max_pixels=MAX_PIXELS)
    expected = thumbnail_of(photo, MAX_PIXELS)
    stream = checks.stream(photo[:100])
    stream.add(photo)
    stream.end()
    monkeypatch.setattr(upload_checks, "thumbnail_of", _no_second_decode)
    accepted, _ = await checks(photo, stream)
    assert accepted.thumbnail == expected


async def test_without_a_thumbnail_from_the_stream_the_whole_file_is_decoded(photo: bytes) -> None:
    """A truncated upload is refused with the reason it always had; a stream of other bytes is not used."""
    checks = UploadChecks(max_bytes=50 * 2**20, max_pixels=MAX_PIXELS)
    truncated = photo[: len(photo) // 2]
    stream = checks.stream(truncated)
    stream.add(truncated)
    stream.end()
    with pytest.raises(BadInputError, match="truncated or corrupt"):
        await checks(truncated, stream)
    other = checks.stream(photo)
    other.add(photo)
    other.end()
    another = encode(two_tone(400, 300), "JPEG")  # not the bytes the stream saw
    accepted, _ = await checks(another, other)
    assert accepted.thumbnail == thumbnail_of(another, MAX_PIXELS)


async def test_a_dropped_jpeg_is_decoded_once_while_it_arrives(tmp_path, photo: bytes, monkeypatch) -> None:
    """Through the intake's receive: the spool hands each JPEG's bytes to its stream."""
    from home_editor.app_wiring import build_services
    from home_editor.core.models import new_library_id
    from home_editor.settings import Settings

    settings = Settings(data_dir=tmp_path, media_dir=tmp_path / "media", cutout_method="classical")
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://test")
    try:
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        expected = thumbnail_of(photo, MAX_PIXELS)
        monkeypatch.setattr(upload_checks, "thumbnail_of", _no_second_decode)
        drop = await services.library.receive_drop(library, _chunks("chair.jpg", photo, piece=65_536))
        result = await asyncio.wait_for(drop.results.get(), 30)
        assert result.problem == "" and result.item is not None
        thumbs = list(settings.media_dir.rglob("thumb.webp"))
        assert len(thumbs) == 1 and thumbs[0].read_bytes() == expected
    finally:
        await services.runner.shutdown()


def _no_second_decode(*_: object) -> bytes:
    raise AssertionError("the whole file was decoded again")


async def _chunks(name: str, data: bytes, *, piece: int):
    for offset in range(0, len(data), piece):
        yield types.SimpleNamespace(filename=name, offset=offset, data=data[offset : offset + piece])
        await asyncio.sleep(0)  # as from the network: the decoder runs between the pieces
