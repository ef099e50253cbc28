"""A fast PNG writer for full-resolution cutouts (a 12 MP RGBA image is 48 MB of pixels).

Pillow's PNG encoder (zlib, adaptive filters) takes about 0.6 s for a 12 MP cutout even at compress level 1.
This writer builds the image rows once with numpy, applies PNG's "Up" filter to every row (one vectorised
subtraction; on photos it compresses about as well as Pillow's adaptive choice) and deflates them with ISA-L
(`isal`, a zlib-compatible deflate several times faster at its low levels). The file is a plain 8-bit RGBA
PNG that any decoder reads.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_RGBA = 6
FILTER_UP = 2
DEFLATE_LEVEL = 1  # ISA-L levels run 0–3; 1 gives Pillow's level-1 size in a third of its time


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(payload, zlib.crc32(kind)))


def rgba_png(rgb: np.ndarray, alpha: np.ndarray) -> bytes:
    """An RGBA PNG of `rgb` (H×W×3 uint8) with `alpha` (H×W uint8) as its transparency. The colour of fully
    transparent pixels is cleared, so nothing of the removed background stays hidden in the file (and the
    file is smaller)."""
    height, width = alpha.shape
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # each row: its filter byte, then the pixels
    pixels = rows[:, 1:].reshape(height, width, 4)
    np.copyto(pixels[..., :3], rgb, where=(alpha != 0)[..., None])
    pixels[..., 3] = alpha
    filtered = np.empty_like(rows)
    filtered[0] = rows[0]  # the first row stays unfiltered (filter byte 0)
    np.subtract(rows[1:, 1:], rows[:-1, 1:], out=filtered[1:, 1:])  # Up: each byte minus the one above, mod 256
    filtered[1:, 0] = FILTER_UP
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_RGBA, 0, 0, 0)
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", isal_zlib.compress(filtered, DEFLATE_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )
