"""Benchmark photos, generated (no downloads): a product on a soft background, with camera-like noise."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def product_photo(width: int = 4000, height: int = 3000, *, quality: int = 90, seed: int = 0) -> bytes:
    """A JPEG of an object on a gradient background; `quality` and noise set the file size."""
    rng = np.random.default_rng(seed)
    small_w, small_h = width // 8, height // 8
    yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    background = np.stack([200 + 40 * xx / small_w, 205 + 30 * yy / small_h, 210 + 20 * xx / small_w], -1)
    inside = ((xx - small_w / 2) / (small_w * 0.22)) ** 2 + ((yy - small_h * 0.55) / (small_h * 0.33)) ** 2 < 1
    colour = np.stack([80 + 50 * np.sin(xx / 9), 60 + 40 * np.cos(yy / 7), 50 + 0 * xx], -1)
    base = np.where(inside[..., None], colour, background).astype(np.uint8)
    image = Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    pixels = np.asarray(image).astype(np.int16) + rng.normal(0, 6, (height, width, 1)).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
