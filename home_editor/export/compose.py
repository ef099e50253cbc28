"""Puts a stored cutout on its background (Pillow): the same function makes the card's preview (from the
small WebP copy) and the exported file (from the full PNG), so what is downloaded is what the card shows.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter

from home_editor.core.backgrounds import SHADOW, TRANSPARENT, fill_rgb

JPEG_QUALITY = 92
SHADOW_OPACITY = 0.45  # darkest point of the contact shadow (0 none, 1 black)
SHADOW_SCALE = 8  # the shadow is drawn and blurred at 1/8 size, then enlarged: smooth, and cheap for 12 MP


def compose(cutout: bytes, background: str) -> bytes:
    """The file to download: the cutout itself when transparent, else a JPEG of it on its background."""
    if background == TRANSPARENT:
        return cutout
    with Image.open(io.BytesIO(cutout)) as image:
        canvas = composed(image, background)  # the decoded cutout is let go before the JPEG is encoded
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return out.getvalue()


def composed(image: Image.Image, background: str) -> Image.Image:
    """An RGB image of `image` (any mode; alpha is its outline) over `background` (not transparent)."""
    rgba = image.convert("RGBA") if image.mode != "RGBA" else image
    fill = fill_rgb(background) or (255, 255, 255)
    canvas = Image.new("RGB", rgba.size, fill)
    if background == SHADOW:
        _cast_shadow(canvas, rgba)
    canvas.paste(rgba, mask=rgba)  # an RGBA mask blends by its alpha: no separate alpha copy (12 MB at 12 MP)
    return canvas


def shadow_box(alpha: Image.Image) -> tuple[float, float, float, float] | None:
    """Where the contact shadow lies: a flat ellipse under the object's lowest edge, a little narrower
    than the object (None when the cutout kept nothing)."""
    box = alpha.point(lambda value: 255 if value >= 128 else 0).getbbox()
    if box is None:
        return None
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    depth = max(height * 0.07, 4.0)
    centre = (left + right) / 2
    return (centre - width * 0.46, bottom - depth * 0.55, centre + width * 0.46, bottom + depth * 0.45)


def _cast_shadow(canvas: Image.Image, rgba: Image.Image) -> None:
    small = rgba.reduce(SHADOW_SCALE) if min(rgba.size) >= SHADOW_SCALE * 8 else rgba
    small_alpha = small.getchannel("A")
    scale = rgba.size[0] / small_alpha.size[0]
    box = shadow_box(small_alpha)
    if box is None:
        return
    mask = Image.new("L", small_alpha.size, 0)
    ImageDraw.Draw(mask).ellipse(box, fill=round(255 * SHADOW_OPACITY))
    mask = mask.filter(ImageFilter.GaussianBlur(max((box[3] - box[1]) * 0.5, 1.0)))
    if scale != 1:
        mask = mask.resize(canvas.size, Image.Resampling.BILINEAR)
    canvas.paste((0, 0, 0), mask=mask)
