"""The fast cutout PNG writer: any decoder reads back exactly the pixels it was given, with the colour of
fully transparent pixels cleared, also when the image is written in parallel bands."""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image

from home_editor.processing.png_writer import rgba_png


def test_the_png_decodes_to_the_same_pixels_and_clears_colour_under_full_transparency() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    alpha[:, :10] = 0
    decoded = Image.open(io.BytesIO(rgba_png(Image.fromarray(np.dstack((rgb, alpha))))), formats=("PNG",))
    decoded.load()  # checks every chunk's CRC and the deflate stream
    pixels = np.asarray(decoded)
    assert decoded.mode == "RGBA" and pixels.shape == (37, 53, 4)
    assert (pixels[..., 3] == alpha).all()
    visible = alpha != 0
    assert (pixels[..., :3][visible] == rgb[visible]).all()
    assert (pixels[..., :3][~visible] == 0).all()


def test_a_single_row_image_is_valid() -> None:
    png = rgba_png(Image.new("RGBA", (4, 1), (200, 200, 200, 255)))
    assert np.asarray(Image.open(io.BytesIO(png)))[0, 0].tolist() == [200, 200, 200, 255]


def test_an_image_written_in_bands_is_one_valid_stream_with_the_same_pixels() -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (301, 70, 4), dtype=np.uint8)
    pixels[::7, :, 3] = 0
    png = rgba_png(Image.fromarray(pixels), bands=3)
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]  # IDAT's payload (before its CRC and IEND's header)
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(301, 1 + 4 * 70)  # zlib checks the Adler-32
    assert rows[0, 0] == 0 and (rows[1:, 0] == 2).all()
    decoded = np.asarray(Image.open(io.BytesIO(png), formats=("PNG",)))
    visible = pixels[..., 3] != 0
    assert (decoded[visible] == pixels[visible]).all() and (decoded[~visible] == 0).all()
