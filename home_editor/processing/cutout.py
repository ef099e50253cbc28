"""Background removal without a model (numpy + scipy), for photos of an object on a plain, gradient or
lightly textured background:

1. model the background from the image border with a robust quadratic surface per colour channel;
2. measure each pixel's distance to the best *darkened* background (so soft shadows count as background);
3. threshold, flood-fill from the border (large enclosed background regions become holes);
4. clean up (opening, drop specks); 5. soft alpha within a few pixels of the edge.

When the border is too busy for this model, the result is flagged as low confidence instead.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

BORDER_FRACTION = 0.01
SEED_FRACTION = 0.6
REJECTION_ROUNDS = 4
MIN_SHADOW_SCALE = 0.8
MIN_THRESHOLD = 12.0
BUSY_BORDER_SIGMA = 30.0
HOLE_FRACTION = 0.0002
SPECK_FRACTION = 0.02
EDGE_PIXELS = 3
MIN_OBJECT_FRACTION = 0.002


@dataclasses.dataclass(frozen=True)
class Mask:
    """An alpha matte (uint8, 0–255) and whether it can be trusted."""

    alpha: np.ndarray
    confident: bool
    reason: str = ""


def _design(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)


def _border_mask(height: int, width: int) -> np.ndarray:
    band = max(2, round(BORDER_FRACTION * min(height, width)))
    mask = np.zeros((height, width), dtype=bool)
    mask[:band, :] = mask[-band:, :] = True
    mask[:, :band] = mask[:, -band:] = True
    return mask


def fit_background(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit the background surface to the border pixels.

    Args:
        rgb: Float image, H×W×3, values 0–255.

    Returns:
        The modelled background (H×W×3) and the robust noise σ of the border around it.
    """
    height, width = rgb.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs / max(width - 1, 1) * 2 - 1
    ys = ys / max(height - 1, 1) * 2 - 1
    border = _border_mask(height, width)
    design, colours = _design(xs[border], ys[border]), rgb[border]
    distance = np.linalg.norm(colours - np.median(colours, axis=0), axis=1)
    inliers = distance <= np.quantile(distance, SEED_FRACTION)
    sigma = 0.0
    for _ in range(REJECTION_ROUNDS + 1):
        coefficients, *_ = np.linalg.lstsq(design[inliers], colours[inliers], rcond=None)
        residual = np.linalg.norm(colours - design @ coefficients, axis=1)
        sigma = float(1.4826 * np.median(residual[inliers])) + 1e-6
        inliers = residual <= 3 * sigma + 1.0
    background = (_design(xs, ys).reshape(-1, 6) @ coefficients).reshape(height, width, 3)
    return background.astype(np.float32), sigma


def shadow_aware_distance(rgb: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Distance from each pixel to the closest background shade s·B, s in [MIN_SHADOW_SCALE, 1]."""
    scale = np.sum(rgb * background, axis=-1) / np.maximum(np.sum(background * background, axis=-1), 1e-6)
    scale = np.clip(scale, MIN_SHADOW_SCALE, 1.0)[..., None]
    return np.linalg.norm(rgb - scale * background, axis=-1)


def _foreground(distance: np.ndarray, threshold: float) -> np.ndarray:
    height, width = distance.shape
    background_like = distance < threshold
    labels, _ = ndimage.label(background_like)
    ring = np.concatenate([labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]])
    background = np.isin(labels, np.unique(ring[ring > 0]))
    sizes = np.bincount(labels.ravel())
    large_enclosed = background_like & ~background & (sizes[labels] > HOLE_FRACTION * height * width)
    foreground = ~(background | large_enclosed)
    foreground = ndimage.binary_opening(foreground, iterations=2)
    labels, count = ndimage.label(foreground)
    if count == 0:
        return foreground
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= SPECK_FRACTION * sizes.max()
    keep[0] = False
    return keep[labels]


def _soft_alpha(foreground: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """α = |I − B| / local max |F − B| within EDGE_PIXELS of the boundary; 1 inside, 0 outside."""
    inside = ndimage.distance_transform_edt(foreground)
    outside = ndimage.distance_transform_edt(~foreground)
    core = foreground & (inside > EDGE_PIXELS)
    object_contrast = ndimage.maximum_filter(np.where(core, distance, 0), size=4 * EDGE_PIXELS + 1)
    edge = ((inside > 0) & (inside <= EDGE_PIXELS)) | ((outside > 0) & (outside <= EDGE_PIXELS))
    alpha = foreground.astype(np.float32)
    usable = edge & (object_contrast > 0)
    alpha[usable] = np.clip(distance[usable] / object_contrast[usable], 0, 1)
    alpha[edge & ~usable] = foreground[edge & ~usable]
    return alpha


def compute_mask(rgb: np.ndarray) -> Mask:
    """The alpha matte of the object in an RGB image (work at ≤ 1024 px; callers upscale the alpha).

    Args:
        rgb: uint8 or float image, H×W×3.

    Returns:
        The matte, or a full-opacity matte with `confident=False` and a reason.
    """
    image = np.asarray(rgb, dtype=np.float32)[..., :3]
    opaque = np.full(image.shape[:2], 255, dtype=np.uint8)
    background, sigma = fit_background(image)
    if sigma > BUSY_BORDER_SIGMA:
        return Mask(opaque, confident=False, reason="the background is too busy for the local method")
    distance = shadow_aware_distance(image, background)
    foreground = _foreground(distance, max(4 * sigma, MIN_THRESHOLD))
    if foreground.mean() < MIN_OBJECT_FRACTION:
        return Mask(opaque, confident=False, reason="no object stands out from the background")
    alpha = _soft_alpha(foreground, distance)
    return Mask((alpha * 255 + 0.5).astype(np.uint8), confident=True)
