"""A generated set of furniture-like objects over busy, textured and photographic backgrounds, with their
true masks, for measuring cutout quality (real photos and textures from scikit-image's bundled data)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import data

SIDE = 640
KINDS = ("busy", "textured", "photo")
SHAPES = ("vase", "chair", "lamp", "ball", "sofa", "cabinet")
TEXTURES = (data.brick, data.grass, data.gravel)
# Parts of real photos as the scene behind the object (top, left, bottom, right as fractions): a wooden
# table, garage shelves, sky with towers, a flag before a wall, fur, a star field.
PHOTOS = (
    (data.coffee, (0.0, 0.55, 0.45, 1.0)),
    (lambda: data.stereo_motorcycle()[0], (0.0, 0.5, 0.45, 1.0)),
    (data.rocket, (0.0, 0.0, 0.5, 0.5)),
    (data.astronaut, (0.0, 0.0, 0.45, 0.35)),
    (data.chelsea, (0.0, 0.0, 0.6, 0.3)),
    (data.hubble_deep_field, (0.0, 0.0, 1.0, 1.0)),
)
DEFOCUS_SIGMA = 1.5  # the scene slightly out of focus behind an object in focus, as in a real photo


def _shape_mask(shape: str, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    s = SIDE
    cx, cy = s * 0.5, s * 0.55
    if shape == "vase":
        body = ((xx - cx) / (s * 0.2)) ** 2 + ((yy - cy - s * 0.08) / (s * 0.25)) ** 2 < 1
        neck = (abs(xx - cx) < s * 0.07) & (yy > s * 0.18) & (yy < cy)
        return body | neck
    if shape == "chair":
        seat = (abs(xx - cx) < s * 0.22) & (abs(yy - cy) < s * 0.05)
        back = (abs(xx - cx + s * 0.18) < s * 0.04) & (yy > s * 0.15) & (yy < cy)
        legs = (
            ((abs(xx - cx + s * 0.19) < s * 0.025) | (abs(xx - cx - s * 0.19) < s * 0.025))
            & (yy > cy)
            & (yy < s * 0.85)
        )
        return seat | back | legs
    if shape == "lamp":
        shade = (yy > s * 0.15) & (yy < s * 0.4) & (abs(xx - cx) < s * 0.08 + (yy - s * 0.15) * 0.6)
        stem = (abs(xx - cx) < s * 0.025) & (yy >= s * 0.4) & (yy < s * 0.78)
        foot = ((xx - cx) / (s * 0.14)) ** 2 + ((yy - s * 0.8) / (s * 0.04)) ** 2 < 1
        return shade | stem | foot
    if shape == "ball":
        return np.hypot(xx - cx, yy - cy) < s * 0.28
    if shape == "sofa":
        body = (abs(xx - cx) < s * 0.36) & (abs(yy - cy) < s * 0.14)
        back = (abs(xx - cx) < s * 0.32) & (yy > cy - s * 0.28) & (yy <= cy)
        return body | back
    return (abs(xx - cx) < s * 0.2) & (abs(yy - cy) < s * 0.3)  # cabinet


def _object_colour(index: int, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """A solid colour with soft shading, like a lit painted or upholstered surface."""
    base = np.array(
        [(200, 60, 40), (40, 90, 170), (230, 200, 60), (60, 150, 80), (150, 90, 170), (240, 240, 235)][index % 6],
        np.float32,
    )
    light = 0.75 + 0.35 * (1 - yy / SIDE) * (0.6 + 0.4 * xx / SIDE)
    return np.clip(base * light[..., None], 0, 255)


def _background(kind: str, index: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "busy":
        cells = rng.uniform(0, 255, (SIDE // 16, SIDE // 16, 3)).astype(np.float32)
        return np.asarray(Image.fromarray(cells.astype(np.uint8)).resize((SIDE, SIDE), Image.NEAREST), np.float32)
    if kind == "textured":
        grey = TEXTURES[index % len(TEXTURES)]().astype(np.float32)
        grey = np.asarray(Image.fromarray(grey.astype(np.uint8)).resize((SIDE, SIDE), Image.BILINEAR), np.float32)
        tint = np.array([(1.0, 0.85, 0.7), (0.7, 1.0, 0.6), (0.9, 0.9, 0.95)][index % 3], np.float32)
        return grey[..., None] * tint
    load, (top, left, bottom, right) = PHOTOS[index % len(PHOTOS)]
    photo = np.asarray(load())
    height, width = photo.shape[:2]
    photo = photo[int(top * height) : int(bottom * height), int(left * width) : int(right * width), :3]
    scene = np.asarray(Image.fromarray(photo).resize((SIDE, SIDE), Image.BILINEAR), np.float32)
    return ndimage.gaussian_filter(scene, (DEFOCUS_SIGMA, DEFOCUS_SIGMA, 0))


def sample(kind: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """One photo (uint8 H×W×3) and its true object mask (bool): shape `index` over background `kind` (the
    second round of shapes meets each background's next scene or texture)."""
    rng = np.random.default_rng(index)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    mask = _shape_mask(SHAPES[index % len(SHAPES)], yy, xx)
    alpha = ndimage.gaussian_filter(mask.astype(np.float32), 1.0)[..., None]
    shadow = ndimage.gaussian_filter(ndimage.shift(mask.astype(np.float32), (SIDE / 60, SIDE / 50)), SIDE / 60)
    background = _background(kind, index + index // len(SHAPES), rng) * (1 - 0.35 * shadow[..., None])  # cast shadow
    photo = alpha * _object_colour(index, yy, xx) + (1 - alpha) * background
    photo += rng.normal(0, 2, photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8), alpha[..., 0] > 0.5


def iou(found: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks."""
    return float((found & truth).sum() / max((found | truth).sum(), 1))
