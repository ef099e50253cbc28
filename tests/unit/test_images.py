"""Upload intake: type by content, caps, truncation, orientation, odd colour modes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from home_editor.core.errors import BadInputError
from home_editor.processing.images import accept_upload, load_for_processing, load_reduced_jpeg
from tests.bad_inputs import corrupt_png_crc, png_bomb
from tests.images import encode, two_tone, with_orientation

FIXTURES = Path(__file__).parent.parent / "fixtures"
MB = 2**20
LIMITS = {"max_bytes": 25 * MB, "max_pixels": 50_000_000}


def thumb_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(accept_upload(data, **LIMITS).thumbnail))


def top_is_red(image: Image.Image) -> bool:
    red, _, blue = image.convert("RGB").getpixel((image.width // 2, 2))
    return red > 150 and blue < 100


@pytest.mark.parametrize(("image_format", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_common_formats_are_accepted_with_exif_rotation_applied(image_format: str, extension: str) -> None:
    data = with_orientation(two_tone(80, 40), 6, image_format)  # 6: turn 90° clockwise to display
    accepted = accept_upload(data, **LIMITS)
    thumb = Image.open(io.BytesIO(accepted.thumbnail))
    assert (accepted.extension, accepted.width, accepted.height) == (extension, 40, 80)
    assert thumb.format == "WEBP" and thumb.size == (40, 80) and top_is_red(thumb)


def test_heic_is_accepted_upright() -> None:
    data = (FIXTURES / "rotated.heic").read_bytes()
    accepted = accept_upload(data, **LIMITS)
    assert accepted.extension == "jpg"  # stored as a high-quality JPEG without its metadata (see metadata.py)
    assert top_is_red(Image.open(io.BytesIO(accepted.original)))
    thumb = thumb_of(data)
    assert thumb.size == (40, 80) and top_is_red(thumb)


def test_avif_is_accepted() -> None:
    assert accept_upload(encode(two_tone(), "AVIF"), **LIMITS).extension == "avif"


def test_thumbnail_is_at_most_512_px() -> None:
    thumb = thumb_of(encode(two_tone(3000, 1000), "JPEG"))
    assert max(thumb.size) == 512


def test_png_bytes_named_jpg_are_judged_by_content() -> None:
    assert accept_upload(encode(two_tone(), "PNG"), **LIMITS).extension == "png"


@pytest.mark.parametrize(
    ("mode", "make"),
    [
        ("CMYK", lambda: Image.new("CMYK", (64, 64), (0, 255, 255, 0))),
        ("LA", lambda: Image.new("LA", (64, 64), (128, 200))),
        ("I;16", lambda: Image.fromarray(np.full((64, 64), 40000, dtype=np.uint16))),
        ("P", lambda: Image.new("P", (64, 64), 3)),
    ],
)
def test_odd_colour_modes_are_converted(mode: str, make) -> None:
    image = make()
    assert image.mode == mode
    image_format = "JPEG" if mode == "CMYK" else "PNG"
    thumb = thumb_of(encode(image, image_format))
    assert thumb.mode in ("RGB", "RGBA")
    if mode == "I;16":  # 40000/65535 of full scale, not clipped to white
        assert 140 < thumb.convert("L").getpixel((5, 5)) < 170


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, I am text in a file named photo.png", "not a supported image"),
        (encode(two_tone(), "JPEG")[:300], "truncated"),
        (encode(two_tone(400, 300), "JPEG", quality=95)[:-2000], "truncated"),
        (corrupt_png_crc(), "corrupt"),
        (encode(two_tone(), "GIF"), "GIF"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b"%PDF-1.7\n...", "PDF"),
        (encode(two_tone(), "TIFF"), "TIFF"),
        (encode(two_tone(), "BMP"), "BMP"),
        (png_bomb(), "megapixels"),
    ],
    ids=["empty", "text", "truncated-header", "truncated-body", "png-crc", "gif", "svg", "pdf", "tiff", "bmp", "bomb"],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadInputError, match=reason):
        accept_upload(data, **LIMITS)


def test_over_the_byte_cap_is_refused_before_decoding() -> None:
    with pytest.raises(BadInputError, match="limit is 1 MB"):
        accept_upload(b"\xff" * (MB + 1), max_bytes=MB, max_pixels=50_000_000)


def test_over_the_pixel_cap_is_refused() -> None:
    data = encode(Image.new("RGB", (3000, 2000)), "JPEG")
    with pytest.raises(BadInputError, match=r"6\.0 megapixels"):
        accept_upload(data, max_bytes=25 * MB, max_pixels=5_000_000)


def test_processing_decode_is_upright_and_bounded() -> None:
    image = load_for_processing(with_orientation(two_tone(3000, 1500), 6, "JPEG"), max_side=1024, max_pixels=50_000_000)
    assert image.size == (512, 1024) and top_is_red(image)


def test_a_reduced_jpeg_decode_is_upright_and_no_side_falls_below_the_asked_one() -> None:
    data = with_orientation(two_tone(4200, 2100), 6, "JPEG")  # 1/2 scale keeps both sides ≥ 1024, 1/4 would not
    image = load_reduced_jpeg(data, min_side=1024, max_pixels=50_000_000)
    assert image is not None and image.mode == "RGB"
    assert image.size == (1050, 2100) and top_is_red(image)


def test_a_reduced_decode_is_only_for_jpeg_and_keeps_the_pixel_cap() -> None:
    assert load_reduced_jpeg(encode(two_tone(3000, 1500), "PNG"), min_side=1024, max_pixels=50_000_000) is None
    with pytest.raises(BadInputError, match="megapixels"):
        load_reduced_jpeg(encode(two_tone(3000, 2000), "JPEG"), min_side=1024, max_pixels=5_000_000)


class _CountedDecoder:
    """A Pillow decoder that counts its `decode` calls (one per block the image file reads)."""

    def __init__(self, decoder: object, calls: list[int]) -> None:
        self._decoder, self._calls = decoder, calls

    def decode(self, data: bytes) -> tuple[int, int]:
        self._calls.append(len(data))
        return self._decoder.decode(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._decoder, name)


def test_a_jpeg_in_memory_is_decoded_in_one_block_not_one_per_64_kb(monkeypatch) -> None:
    """Between blocks the decoding thread waits for Python's GIL (behind an upload's byte checks on the
    other upload thread, or the event loop); Pillow's default block is 64 KB."""
    rng = np.random.default_rng(5)
    noisy = encode(Image.fromarray(rng.integers(0, 255, (900, 1200, 3), dtype=np.uint8)), "JPEG", quality=95)
    assert len(noisy) > 10 * 64 * 1024
    calls: list[int] = []
    real = Image._getdecoder
    monkeypatch.setattr(Image, "_getdecoder", lambda *args: _CountedDecoder(real(*args), calls))

    accept_upload(noisy, **LIMITS)

    assert calls == [len(noisy)]
