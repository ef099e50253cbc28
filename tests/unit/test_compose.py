"""Cutouts on a background: the colour shows where the cutout is transparent, the object where it is
opaque, edges blend, and the contact shadow darkens the floor just under the object and nowhere else."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from home_editor.export.compose import compose


def cutout_png(size: tuple[int, int] = (200, 160)) -> bytes:
    """A red box (opaque), a faint strip (alpha 100: not part of the object's outline), the rest fully
    transparent."""
    image = Image.new("RGBA", size, (0, 255, 0, 0))  # hidden colour under transparent pixels must not show
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 30, 139, 109), fill=(200, 20, 20, 255))
    draw.rectangle((0, 150, 199, 159), fill=(0, 0, 200, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def exported(background: str) -> Image.Image:
    data = compose(cutout_png(), background)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB"
    return image


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def test_transparent_keeps_the_stored_cutout_byte_for_byte() -> None:
    assert compose(cutout_png(), "") == cutout_png()


def test_white_and_a_colour_fill_behind_the_object_and_blend_its_edges() -> None:
    for background, fill in (("white", (255, 255, 255)), ("#3366cc", (0x33, 0x66, 0xCC))):
        image = exported(background)
        assert close(image.getpixel((5, 5)), fill)
        assert close(image.getpixel((100, 70)), (200, 20, 20))
        blend = tuple(round(c * 155 / 255 + b * 100 / 255) for c, b in zip(fill, (0, 0, 200), strict=True))
        assert close(image.getpixel((100, 155)), blend, tolerance=8)


def test_the_shadow_darkens_the_floor_under_the_object_only() -> None:
    image = exported("shadow")
    under = image.getpixel((100, 111))
    assert max(under) < 215  # clearly darker than white, just below the box's lowest edge
    assert close(image.getpixel((100, 70)), (200, 20, 20))
    for far in ((5, 5), (10, 110), (190, 110), (100, 20)):  # beside and above the object: plain white
        assert close(image.getpixel(far), (255, 255, 255))
