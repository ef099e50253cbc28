"""Smaller copies of a stored cutout, made in the processing pool: the card's WebP preview, and the PNG
the 3D model is made from (at most `MODEL_INPUT_SIDE` on the long side)."""

from __future__ import annotations

import io

from PIL import Image

from home_editor.processing.images import THUMB_SIDE, encode_webp

MODEL_INPUT_SIDE = 1024
PREVIEW_SIDE = THUMB_SIDE  # the card shows cutouts at the size it shows thumbnails


def make_preview(png: bytes, side: int) -> bytes:
    """The card's copy of a cutout: WebP with its transparency, at most `side` px (a fraction of the
    PNG's bytes, so a grid of cutouts loads and decodes fast)."""
    image = Image.open(io.BytesIO(png), formats=("PNG",))
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return encode_webp(image.convert("RGBA"), quality=82)


def no_larger_than(png: bytes, side: int) -> bytes:
    """The PNG itself if it is small enough, else a copy shrunk to `side` on the long side."""
    image = Image.open(io.BytesIO(png), formats=("PNG",))
    if max(image.size) <= side:
        return png
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
