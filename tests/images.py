"""Test images generated in code (no downloads)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    """Image → bytes."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def two_tone(width: int = 80, height: int = 40) -> Image.Image:
    """Left half red, right half blue (shows which way an image was turned)."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    return image


def with_orientation(image: Image.Image, orientation: int, image_format: str) -> bytes:
    """Encode with an EXIF orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, image_format, exif=exif.tobytes())


def object_photo(
    kind: str = "plain", shape: str = "ellipse", size: int = 512, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic product photo and its true object mask.

    Args:
        kind: Background: plain, gradient, textured, shadow (gradient plus a soft contact shadow) or busy.
        shape: ellipse, box, border (touches the bottom edge) or ring (has a hole).
        size: Side in pixels.
        seed: Noise seed.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    gradient = np.stack([180 + 60 * xx / size, 190 + 40 * yy / size, 200 + 30 * (xx + yy) / (2 * size)], -1)
    backgrounds = {
        "plain": np.ones((size, size, 3), np.float32) * np.array([235, 233, 228], np.float32),
        "gradient": gradient,
        "textured": np.ones((size, size, 3), np.float32) * np.array([220, 215, 205], np.float32)
        + rng.normal(0, 4, (size, size, 1)),
        "shadow": gradient,
        "busy": rng.uniform(0, 255, (size // 8, size // 8, 3)).repeat(8, 0).repeat(8, 1).astype(np.float32),
    }
    background = backgrounds[kind]
    cx, cy = size * 0.5, size * 0.55
    masks = {
        "ellipse": ((xx - cx) / (size * 0.25)) ** 2 + ((yy - cy) / (size * 0.3)) ** 2 < 1,
        "box": (abs(xx - cx) < size * 0.2) & (abs(yy - cy) < size * 0.25),
        "border": (abs(xx - cx) < size * 0.22) & (yy > size * 0.4),
        "ring": (np.hypot(xx - cx, yy - cy) < size * 0.3) & (np.hypot(xx - cx, yy - cy) > size * 0.15),
    }
    mask = masks[shape]
    alpha = ndimage.gaussian_filter(mask.astype(np.float32), 1.2)[..., None]
    if kind == "shadow":
        shadow = ndimage.gaussian_filter(ndimage.shift(mask.astype(np.float32), (size / 50, size / 40)), size / 70)
        background = background * (1 - 0.15 * shadow[..., None])
    colour = np.stack([60 + 40 * np.sin(xx / 50), 90 + 30 * np.cos(yy / 40), 120 + 0 * xx], -1)
    photo = alpha * colour + (1 - alpha) * background + rng.normal(0, 2, (size, size, 3))
    return np.clip(photo, 0, 255).astype(np.uint8), alpha[..., 0] > 0.5


def photo_bytes(kind: str = "plain", shape: str = "ellipse", size: int = 512, image_format: str = "JPEG") -> bytes:
    """A synthetic product photo, encoded."""
    pixels, _ = object_photo(kind, shape, size)
    return encode(Image.fromarray(pixels), image_format, **({"quality": 90} if image_format == "JPEG" else {}))
