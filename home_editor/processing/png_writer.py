"""A fast PNG writer for full-resolution cutouts (a 12 MP RGBA image is 48 MB of pixels).

Pillow's PNG encoder (zlib, adaptive filters) takes about 0.6 s for a 12 MP cutout even at compress level 1.
This writer takes the pixels' bytes out of Pillow once, splits them into horizontal bands, one per core,
and in each band (in parallel: numpy and ISA-L release the GIL) clears the colour of fully transparent
pixels (one multiply over the pixels as 32-bit words), applies PNG's "Up" filter to every row (one
vectorised subtraction written straight into the rows PNG stores; on photos it compresses about as well as
Pillow's adaptive choice) and deflates the rows with ISA-L (`isal`, a zlib-compatible deflate several
times faster at its low levels). The bands' deflate streams are joined as one zlib stream (each band but
the last ends with a sync flush, as pigz does). The file is a plain 8-bit RGBA PNG that any decoder reads.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from isal import isal_zlib
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_RGBA = 6
FILTER_UP = 2
DEFLATE_LEVEL = 1  # ISA-L levels run 0–3; 1 gives Pillow's level-1 size in a third of its time
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, fastest-level hint
MIN_BAND_ROWS = 64  # smaller images are written as one band


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(payload, zlib.crc32(kind)))


def _filtered_rows(pixels: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """Rows `top`–`bottom` of an H×W×4 image as PNG stores them: a filter byte, then the pixels with the
    row above subtracted (the image's first row stays unfiltered), fully transparent pixels cleared first."""
    band = pixels[max(top - 1, 0) : bottom]  # with the row above, which the band's first row's filter needs
    width = band.shape[1]
    words = band.view(np.uint32)[..., 0]  # a pixel as one word: multiplying it by 0 clears all four bytes
    cleared = np.multiply(words, band[..., 3] != 0, dtype=np.uint32).view(np.uint8).reshape(-1, 4 * width)
    rows = np.empty((bottom - top, 1 + 4 * width), np.uint8)
    rows[:, 0] = FILTER_UP
    if top == 0:
        rows[0, 0] = 0
        rows[0, 1:] = cleared[0]
    np.subtract(cleared[1:], cleared[:-1], out=rows[1 if top == 0 else 0 :, 1:])  # mod 256
    return rows


def _band(pixels: np.ndarray, top: int, bottom: int, last: bool) -> tuple[np.ndarray, bytes]:
    rows = _filtered_rows(pixels, top, bottom)
    deflate = isal_zlib.compressobj(DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)  # raw deflate: joined below
    return rows, deflate.compress(rows) + deflate.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)


def rgba_png(image: Image.Image, *, bands: int | None = None) -> bytes:
    """An RGBA PNG of an RGBA image, written in `bands` parallel bands (one per core by default). The colour
    of fully transparent pixels is cleared, so nothing of the removed background stays hidden in the file
    (and the file is smaller)."""
    width, height = image.size
    pixels = np.frombuffer(image.tobytes(), np.uint8).reshape(height, width, 4)  # the one copy out of Pillow
    count = max(1, min(bands or os.cpu_count() or 1, height // MIN_BAND_ROWS))
    edges = [height * index // count for index in range(count + 1)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        parts = list(pool.map(lambda i: _band(pixels, edges[i], edges[i + 1], i == count - 1), range(count)))
    checksum = 1
    for rows, _ in parts:
        checksum = isal_zlib.adler32(rows, checksum)
    stream = b"".join((ZLIB_HEADER, *(deflated for _, deflated in parts), struct.pack(">I", checksum)))
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_RGBA, 0, 0, 0)
    return b"".join((SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", stream), _chunk(b"IEND", b"")))
