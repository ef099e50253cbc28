"""The fast cutout PNG writer: any decoder reads back exactly the pixels it was given, with the colour of
fully transparent pixels cleared."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from home_editor.processing.png_writer import rgba_png


def test_the_png_decodes_to_the_same_pixels_and_clears_colour_under_full_transparency() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    alpha[:, :10] = 0
    decoded = Image.open(io.BytesIO(rgba_png(rgb, alpha)), formats=("PNG",))
    decoded.load()  # checks every chunk's CRC and the deflate stream
    pixels = np.asarray(decoded)
    assert decoded.mode == "RGBA" and pixels.shape == (37, 53, 4)
    assert (pixels[..., 3] == alpha).all()
    visible = alpha != 0
    assert (pixels[..., :3][visible] == rgb[visible]).all()
    assert (pixels[..., :3][~visible] == 0).all()


def test_a_single_row_image_is_valid() -> None:
    png = rgba_png(np.full((1, 4, 3), 200, np.uint8), np.full((1, 4), 255, np.uint8))
    assert np.asarray(Image.open(io.BytesIO(png)))[0, 0].tolist() == [200, 200, 200, 255]
