"""Originals are served publicly, so what is stored carries no location or other private metadata
(GPS, camera serial numbers, maker notes, XMP, comments, embedded extra images), and still shows upright.
A JPEG's image data is kept byte for byte (no re-encoding)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from starlette.testclient import TestClient

from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.core.storage_keys import file_key
from home_editor.media_route import media_app
from home_editor.processing.images import accept_upload
from home_editor.settings import Settings
from tests.images import encode, two_tone

LIMITS = {"max_bytes": 25 * 2**20, "max_pixels": 50_000_000}
SERIAL, MAKER_NOTE, XMP_SECRET, COMMENT = "SN-48151623", b"MAKERNOTE-42", b"xmp-home-address", b"my-comment-99"
PRIVATE_BYTES = (SERIAL.encode(), MAKER_NOTE, XMP_SECRET, COMMENT, b"Secret Camera", b"GPS-HIDDEN")
FIXTURES = Path(__file__).parent.parent / "fixtures"


def private_exif(orientation: int = 6) -> Image.Exif:
    """An orientation tag (6: turn 90° clockwise to display), GPS, a camera and its serial number."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Secret Camera", "GPS-HIDDEN"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)})
    camera = exif.get_ifd(0x8769)
    camera.update({0xA431: SERIAL, 0x927C: MAKER_NOTE})
    return exif


def private_photo(image_format: str) -> bytes:
    options = {"exif": private_exif().tobytes()}
    if image_format in ("JPEG", "WEBP", "PNG"):
        options["xmp"] = b"<x:xmpmeta><rdf:Description>" + XMP_SECRET + b"</rdf:Description></x:xmpmeta>"
    if image_format == "JPEG":
        options["comment"] = COMMENT
    data = encode(two_tone(80, 40), image_format, **options)
    if image_format == "JPEG":  # a second picture after the first (multi-picture files, motion photos)
        data += encode(two_tone(8, 8), "JPEG", exif=private_exif().tobytes())
    return data


def assert_private_metadata_gone(stored: bytes) -> Image.Image:
    for secret in PRIVATE_BYTES:
        assert secret not in stored
    image = Image.open(io.BytesIO(stored))
    exif = image.getexif()
    assert set(exif) <= {0x0112}, f"tags left: {sorted(exif)}"
    assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)
    assert not {"xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    upright = ImageOps.exif_transpose(image)
    red, _, blue = upright.convert("RGB").getpixel((upright.width // 2, 2))
    assert upright.size == (40, 80) and red > 150 and blue < 100, "shown upright"
    return image


def test_the_test_photos_do_carry_private_metadata() -> None:
    for image_format in ("JPEG", "PNG", "WEBP", "AVIF"):
        data = private_photo(image_format)
        assert SERIAL.encode() in data and b"Secret Camera" in data, image_format
        assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), image_format


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "AVIF"])
def test_a_stored_original_has_no_gps_or_private_tags_and_shows_upright(image_format: str) -> None:
    accepted = accept_upload(private_photo(image_format), **LIMITS)
    assert_private_metadata_gone(accepted.original)


def test_a_jpeg_original_keeps_its_image_data_byte_for_byte() -> None:
    data = private_photo("JPEG")
    stored = accept_upload(data, **LIMITS).original
    assert len(stored) < len(data)
    before, after = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(stored))
    assert np.array_equal(np.asarray(before), np.asarray(after))  # the same pixels: not re-encoded
    assert after.getexif()[0x0112] == 6


def test_a_heic_original_is_stored_upright_without_its_metadata() -> None:
    data = (FIXTURES / "rotated.heic").read_bytes()
    accepted = accept_upload(data, **LIMITS)
    assert accepted.extension == "jpg"
    image = Image.open(io.BytesIO(accepted.original))
    assert not image.getexif() and image.size == (40, 80)


async def test_the_served_original_is_the_clean_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, media_dir=tmp_path / "media", role="web")  # stores, never processes
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    try:
        library = new_library_id()
        await services.library.ensure_library(library)
        item = await services.library.add_upload(library, "holiday.jpg", private_photo("JPEG"))
        key = file_key(library, item.id, item.original)
        served = TestClient(media_app(lambda: settings.media_dir)).get(f"/media/{key}")
        assert served.status_code == 200
        assert_private_metadata_gone(served.content)
    finally:
        await services.runner.shutdown()
