"""An upload's checks, thumbnail and content hash, run on the upload threads (`pools.run_upload_work`).
The intake is handed an `UploadChecks` (see `app_wiring`); it never imports this module."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

from home_editor.processing.images import (
    AcceptedImage,
    accept_upload,
    check_jpeg_upload,
    is_jpeg,
    sample_jpeg,
    thumbnail_of,
)
from home_editor.processing.pools import run_upload_work, upload_pool
from home_editor.processing.streamed_thumbnail import StreamedThumbnail, stream_pool
from home_editor.side_by_side import all_or_raise


@dataclasses.dataclass(frozen=True)
class UploadChecks:
    """Checks an upload against the caps and makes its thumbnail."""

    max_bytes: int
    max_pixels: int

    def stream(self, first_bytes: bytes) -> StreamedThumbnail | None:
        """Start decoding a JPEG's thumbnail while it arrives (None for other formats, or when the
        process's streams are all busy): hand it the file's bytes as they come, then to `__call__`."""
        return StreamedThumbnail.start(self.max_pixels) if is_jpeg(first_bytes) else None

    async def __call__(self, data: bytes, streamed: StreamedThumbnail | None = None) -> tuple[AcceptedImage, str]:
        """Check an upload and make its thumbnail, and hash its bytes (the hash finds the same photo dropped
        twice), all on the upload threads. A JPEG's byte checks and hash run beside its decode (they take a
        third of the time of a 12 MP decode), so its thumbnail is ready sooner; other formats are decoded once.

        Raises:
            BadInputError: The file is not an acceptable image (the reason is user-facing).
        """
        if not is_jpeg(data):
            return await run_upload_work(self._accept_and_hash, data)
        # the checks' reason first, as `accept_upload` gives it
        (accepted, content_hash), thumbnail = await all_or_raise(
            run_upload_work(self._check_jpeg_and_hash, data), self._thumbnail(data, streamed)
        )
        return dataclasses.replace(accepted, thumbnail=thumbnail), content_hash

    async def _thumbnail(self, data: bytes, streamed: StreamedThumbnail | None) -> bytes:
        """The stream's thumbnail when it made one of these very bytes, else one decoded from them."""
        thumbnail = await streamed.result() if streamed is not None else None
        if thumbnail is None or not streamed.decoded(data):
            thumbnail = await run_upload_work(thumbnail_of, data, self.max_pixels)
        return thumbnail

    async def warm_up(self) -> None:
        """Pay a process's first upload's one-time costs now, at start-up: the upload and stream threads
        start (off the event loop), Pillow loads its format plugins and the HEIF opener (together they
        made a first drop ~40–130 ms slower)."""
        await self(await asyncio.to_thread(_start_threads_and_make_sample))

    def _accept_and_hash(self, data: bytes) -> tuple[AcceptedImage, str]:
        accepted = accept_upload(data, max_bytes=self.max_bytes, max_pixels=self.max_pixels)
        return accepted, hashlib.sha256(data).hexdigest()

    def _check_jpeg_and_hash(self, data: bytes) -> tuple[AcceptedImage, str]:
        accepted = check_jpeg_upload(data, max_bytes=self.max_bytes, max_pixels=self.max_pixels)
        return accepted, hashlib.sha256(data).hexdigest()


def _start_threads_and_make_sample() -> bytes:
    """The warm-up's blocking part: start the upload and stream threads, and make the sample photo
    (which loads Pillow's writers)."""
    upload_pool()
    stream_pool()
    return sample_jpeg()
