"""A JPEG's thumbnail decoded while its bytes are still arriving.

Decoding a 12 MP JPEG (even at 1/8 scale) is most of a drop's wait for its thumbnail, and the bytes take
10–60 ms to arrive. A decoder that starts on the first bytes is mostly done when the last arrive. It runs
on a thread of its own that blocks on the arriving bytes, so it must never tie up the threads others need:
- at most `STREAMS` decode at once in the process (a drop beyond them is simply decoded when it is whole);
- a stream that stalls for `STALL_SECONDS` (a slow phone connection) is given up, and so is one that lasts
  longer than `LONGEST_SECONDS`: that file is then decoded whole, as any other.
The result is only ever a head start: when anything goes wrong here, `result()` is None and the upload's
checks decode the complete bytes themselves (with their exact reason for a refusal).
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from home_editor.processing.images import THUMB_SIDE, decode_thumbnail
from home_editor.thread_pools import started_pool

logger = logging.getLogger(__name__)
STREAMS = 2
STALL_SECONDS = 0.5
LONGEST_SECONDS = 5.0
READ_AT_LEAST = 64 * 1024  # Pillow's own read size


class ArrivingBytes(io.RawIOBase):
    """A read-only file over bytes still arriving: a read waits until enough are there, the end is
    announced, or the stream is given up (then it reads as ended, so the decoder stops at once)."""

    def __init__(self) -> None:
        super().__init__()
        self._data = bytearray()
        self._position = 0
        self._ended = False
        self.total = 0  # every byte added, even those past the end the decoder needed
        self._deadline = time.monotonic() + LONGEST_SECONDS
        self._changed = threading.Condition()
        self.waiting = threading.Event()  # set while the reader waits for bytes not yet there

    def add(self, data: bytes) -> None:
        with self._changed:
            self.total += len(data)
            if not self._ended:
                self._data += data
                self.waiting.clear()
                self._changed.notify_all()

    def end(self) -> None:
        """No more bytes will come (whole, or given up)."""
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def drop(self) -> None:
        """Give up: end here, and free the bytes held."""
        with self._changed:
            self._ended = True
            self._data = bytearray()
            self._changed.notify_all()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._changed:
            if whence == io.SEEK_END:
                self._wait_until(lambda: False)
                base = len(self._data)
            else:
                base = self._position if whence == io.SEEK_CUR else 0
            self._position = max(0, base + offset)
            return self._position

    def read(self, size: int = -1) -> bytes:
        """A small read (a header) gets all it asks for; a large one (the decoder's) gets every byte that
        has arrived, once at least `READ_AT_LEAST` have: a decoder behind the network catches up in one
        call, not in one call (and one wait for Python's GIL) per 64 KB."""
        with self._changed:
            if size < 0:
                self._wait_until(lambda: False)
                size = len(self._data) - self._position
            enough = min(size, READ_AT_LEAST)
            self._wait_until(lambda: len(self._data) - self._position >= enough)
            with memoryview(self._data) as arrived:  # one copy; released before the next `add` grows it
                piece = bytes(arrived[self._position : self._position + size])
            self._position += len(piece)
        return piece

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        piece = self.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)

    def _wait_until(self, enough) -> None:
        """Wait (lock held) until `enough()` or the end; a stall or the overall deadline ends the stream."""
        while not (enough() or self._ended):
            self.waiting.set()
            left = min(STALL_SECONDS, self._deadline - time.monotonic())
            if left <= 0 or not self._changed.wait(left):
                self._ended = True  # too slow: the decoder reads an end (a truncated file) and stops
                self._data = bytearray()
        self.waiting.clear()


@functools.cache
def stream_pool() -> ThreadPoolExecutor:
    """The streams' threads (started on first use: the upload warm-up does it off the event loop)."""
    return started_pool(STREAMS, "home-editor-streamed-thumbnails")


_running = 0
_running_lock = threading.Lock()


class StreamedThumbnail:
    """Decodes a JPEG's thumbnail from its bytes as they arrive (see the module's notes)."""

    def __init__(self, max_pixels: int, thumb_side: int = THUMB_SIDE) -> None:
        self._bytes = ArrivingBytes()
        self._max_pixels, self._thumb_side = max_pixels, thumb_side
        self._decoded = asyncio.get_running_loop().run_in_executor(stream_pool(), self._decode)

    @classmethod
    def start(cls, max_pixels: int) -> StreamedThumbnail | None:
        """A new stream, or None when `STREAMS` streams are already decoding in this process."""
        global _running
        with _running_lock:
            if _running >= STREAMS:
                return None
            _running += 1
        try:
            return cls(max_pixels)
        except BaseException:
            _finished()
            raise

    def add(self, data: bytes) -> None:
        self._bytes.add(data)

    def end(self) -> None:
        """Every byte of the file has arrived."""
        self._bytes.end()

    def drop(self) -> None:
        """The file will not be taken in (cut off, too large, the request went away)."""
        self._bytes.drop()

    def decoded(self, data: bytes) -> bool:
        """Whether the stream was fed the whole of `data` (a check that its thumbnail is of that file)."""
        return self._bytes.total == len(data)

    async def result(self) -> bytes | None:
        """The thumbnail, or None when it could not be made from the stream (the caller decodes the file)."""
        return await asyncio.shield(self._decoded)

    def _decode(self) -> bytes | None:
        try:
            image = Image.open(self._bytes, formats=("JPEG",))
            return decode_thumbnail(image, max_pixels=self._max_pixels, thumb_side=self._thumb_side)
        except Exception as error:
            logger.debug("No thumbnail from the arriving bytes: %s", error)
            return None
        finally:
            self._bytes.drop()
            _finished()


def _finished() -> None:
    global _running
    with _running_lock:
        _running -= 1
