"""Safe image intake with Pillow: type by content from an allow-list, byte and pixel caps, a full decode
so truncated files are refused, EXIF orientation applied, and small WebP thumbnails.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from home_editor.core.errors import BadInputError
from home_editor.processing.metadata import without_private_metadata

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "HEIF")
SUPPORTED_TEXT = "JPEG, PNG, WebP, AVIF or HEIC"
THUMB_SIDE = 512
# A decoder's reads: up to 8 MB at a time, not Pillow's 64 KB. Between reads the decoding thread is back in
# Python, where it waits for the GIL: behind a thread busy in Python (an upload's byte checks, the event
# loop) a 12 MP JPEG's 66 blocks made its decode ~10 ms slower. A whole file in memory is read in one go.
DECODER_READ = 8 * 1024 * 1024
# Magic numbers of common formats we refuse, so the message can name what the file really is.
_KNOWN_OTHERS = (
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"PK\x03\x04", "a ZIP archive"),
)
_ALLOWED_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")
# Signs of a second file hidden in an image (a "polyglot"): a ZIP's end record, or PDF, HTML, RAR or 7z.
_EMBEDDED = (b"%PDF-", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")
_MARKUP = re.compile(rb"<(?:script|SCRIPT|Script|html|HTML|Html)")  # one pass over the bytes, ~2 ms per 4 MB
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 65_557  # a ZIP's end record sits within its last 64 KiB + 22 bytes


@dataclasses.dataclass(frozen=True)
class AcceptedImage:
    """An upload that passed every check, with its thumbnail."""

    extension: str
    width: int
    height: int
    thumbnail: bytes
    original: bytes  # what to store and serve: the upload without its private metadata (see `metadata`)


@functools.cache
def _register_heif() -> None:
    import pi_heif

    pi_heif.register_heif_opener()


def _describe_refused(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if data.startswith(_ALLOWED_MAGIC) or data[4:8] == b"ftyp":
        return "the file is truncated or corrupt"
    for magic, name in _KNOWN_OTHERS:
        if data.startswith(magic):
            return f"it is {name}; supported are {SUPPORTED_TEXT}"
    if head.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html")) or b"<svg" in head:
        return f"it is an SVG/HTML document, not a photo; supported are {SUPPORTED_TEXT}"
    return f"it is not a supported image ({SUPPORTED_TEXT})"


def _refuse_hidden_payload(data: bytes) -> None:
    """Refuse an image that carries another file (a ZIP appended to a JPEG opens as both): such bytes
    would be served back as-is. Camera extras (EXIF, XMP, multi-picture, motion-photo video) pass."""
    if _ZIP_END in data[-_ZIP_TAIL:] or _MARKUP.search(data) or any(marker in data for marker in _EMBEDDED):
        raise BadInputError("it hides another file (an archive or a document) inside the image")


def open_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open and fully decode an image from the allow-list, or raise BadInputError saying why not.

    Args:
        data: The file's bytes.
        max_pixels: Largest accepted width × height (checked from the header, before decoding).

    Returns:
        The decoded image (orientation not yet applied).
    """
    _register_heif()
    Image.MAX_IMAGE_PIXELS = 2 * max_pixels  # Pillow's own bomb guard (errors at 2×), behind our exact check
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as error:
        raise BadInputError(f"it has too many pixels (limit {max_pixels / 1e6:.0f} megapixels)") from error
    except (UnidentifiedImageError, ValueError, OSError) as error:
        raise BadInputError(_describe_refused(data)) from error
    _check_pixels(image, max_pixels)
    return image


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise BadInputError(
            f"it has {width * height / 1e6:.1f} megapixels ({width}×{height}); the limit is "
            f"{max_pixels / 1e6:.0f} megapixels"
        )
    if width < 1 or height < 1:
        raise BadInputError("it has no pixels")


def _decode_fully(image: Image.Image, *, draft_side: int | None) -> None:
    image.decodermaxblock = DECODER_READ
    if draft_side and image.format == "JPEG":
        # DCT scaling (far faster than a full decode) to the smallest scale whose long side still reaches
        # `draft_side`; asking for a square would keep the short side ≥ it too, one scale larger than needed.
        width, height = image.size
        longest = max(width, height)
        image.draft("RGB", (max(1, draft_side * width // longest), max(1, draft_side * height // longest)))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as error:
        raise BadInputError("the file is truncated or corrupt") from error


def to_standard_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency (16-bit grey scaled down, CMYK converted)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        scale = 257.0 if values.max(initial=0) <= 65535 else 1.0
        image = Image.fromarray(np.clip(values / scale, 0, 255).astype(np.uint8), mode="L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info)
    target = "RGBA" if has_alpha else "RGB"
    return image if image.mode == target else image.convert(target)


def encode_webp(image: Image.Image, *, quality: int = 80) -> bytes:
    """WebP bytes (keeps alpha)."""
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=2)
    return buffer.getvalue()


def accept_upload(data: bytes, *, max_bytes: int, max_pixels: int, thumb_side: int = THUMB_SIDE) -> AcceptedImage:
    """Check an uploaded file and make its thumbnail; raise BadInputError with a user-facing reason.

    Args:
        data: The uploaded bytes.
        max_bytes: Size cap.
        max_pixels: Pixel cap.

    Returns:
        The accepted image's facts, a ≤ 512 px WebP thumbnail, upright, and the original to store, with
        its private metadata (GPS, serial numbers, XMP, comments…) removed and its orientation kept.
    """
    _check_size(data, max_bytes)
    image = open_image(data, max_pixels=max_pixels)
    _refuse_hidden_payload(data)
    full_size = image.size  # before a JPEG's draft decode makes it smaller
    _decode_fully(image, draft_side=_draft_side(thumb_side))
    width, height = _upright_size(full_size, image)
    original, extension = _stored_original(data, image)
    return AcceptedImage(
        extension=extension, width=width, height=height, thumbnail=_thumbnail(image, thumb_side), original=original
    )


def sample_jpeg() -> bytes:
    """A small upright-turned JPEG photo (EXIF orientation 6), to run the intake once at start-up."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 150, 120)).save(buffer, "JPEG", quality=80, exif=exif)
    return buffer.getvalue()


def is_jpeg(data: bytes) -> bool:
    """Whether the bytes start like a JPEG (the one format whose checks and thumbnail can run apart)."""
    return data.startswith(b"\xff\xd8\xff")


def check_jpeg_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> AcceptedImage:
    """`accept_upload`'s checks of a JPEG that need no pixels (caps, hidden files, private metadata), so
    they can run beside `thumbnail_of`, which decodes it: the upload is accepted only when both succeed.

    Returns:
        The accepted image's facts and original to store, with an empty thumbnail.
    """
    _check_size(data, max_bytes)
    image = open_image(data, max_pixels=max_pixels)
    if image.format != "JPEG":
        raise BadInputError("the file is truncated or corrupt")
    _refuse_hidden_payload(data)
    width, height = _upright_size(image.size, image)
    original, extension = _stored_original(data, image)  # a JPEG is rewritten from its bytes, never decoded
    return AcceptedImage(extension=extension, width=width, height=height, thumbnail=b"", original=original)


def thumbnail_of(data: bytes, max_pixels: int, thumb_side: int = THUMB_SIDE) -> bytes:
    """An image's ≤ `thumb_side` px WebP thumbnail, upright (a full decode: a truncated file is refused).

    Raises:
        BadInputError: The image cannot be decoded (the reason is user-facing).
    """
    return decode_thumbnail(open_image(data, max_pixels=max_pixels), max_pixels=max_pixels, thumb_side=thumb_side)


def decode_thumbnail(image: Image.Image, *, max_pixels: int, thumb_side: int = THUMB_SIDE) -> bytes:
    """`thumbnail_of` an opened image (its file may still be arriving: see `streamed_thumbnail`).

    Raises:
        BadInputError: Too many pixels, or the image cannot be decoded (the reason is user-facing).
    """
    _check_pixels(image, max_pixels)
    _decode_fully(image, draft_side=_draft_side(thumb_side))
    return _thumbnail(image, thumb_side)


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise BadInputError("the file is empty")
    if len(data) > max_bytes:
        raise BadInputError(f"it is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")


def _draft_side(thumb_side: int) -> int:
    # JPEG DCT scaling down to ~90 % of the thumbnail side: a 12 MP photo decodes at 1/8 (500 px), not 1/4.
    return int(thumb_side * 0.9)


def _upright_size(size: tuple[int, int], image: Image.Image) -> tuple[int, int]:
    try:
        turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError, struct.error) as error:
        raise BadInputError("the file is truncated or corrupt") from error
    return (size[1], size[0]) if turned else size


def _stored_original(data: bytes, image: Image.Image) -> tuple[bytes, str]:
    try:
        return without_private_metadata(data, image)
    except (ValueError, IndexError, OSError) as error:
        raise BadInputError("the file is truncated or corrupt") from error


def _thumbnail(image: Image.Image, thumb_side: int) -> bytes:
    thumb = to_standard_mode(image)
    thumb.thumbnail((thumb_side, thumb_side))
    return encode_webp(ImageOps.exif_transpose(thumb))  # after thumbnail(): cheap on the small image


def load_for_processing(data: bytes, *, max_side: int, max_pixels: int) -> Image.Image:
    """Decode a stored original for processing: upright, RGB/RGBA, long side at most `max_side`."""
    image = open_image(data, max_pixels=max_pixels)
    _decode_fully(image, draft_side=max_side)
    image = ImageOps.exif_transpose(to_standard_mode(image))
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def load_reduced_jpeg(data: bytes, *, min_side: int, max_pixels: int) -> Image.Image | None:
    """A JPEG decoded at the smallest DCT scale whose width and height both still reach `min_side`, upright
    and RGB (for a model's small square input: half a 12 MP photo's full decode time, and its resize to
    the input then costs a third); None for other formats, which have no such scaling."""
    if not is_jpeg(data):
        return None
    image = open_image(data, max_pixels=max_pixels)
    image.draft("RGB", (min_side, min_side))
    _decode_fully(image, draft_side=None)
    return ImageOps.exif_transpose(to_standard_mode(image))
