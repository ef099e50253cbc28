"""Private metadata out of stored originals (they are served publicly): GPS, camera serial numbers, maker
notes, XMP, IPTC, comments, embedded previews and trailing extras all go; colour profiles stay.

JPEG, PNG and WebP are rewritten losslessly (metadata segments or chunks dropped, image data copied
byte for byte). A JPEG keeps a new minimal EXIF holding only its orientation, so browsers and the
processors still show it upright without re-encoding it (re-encoding a JPEG loses quality). Formats
that cannot be rewritten here (AVIF, HEIC) and a PNG or WebP whose orientation is not upright are
re-encoded from the decoded pixels with the orientation applied: losslessly where the format allows
(PNG, lossless WebP), else at high quality (AVIF q90, WebP q95; HEIC becomes a q95 JPEG because
nothing here can write HEIC, and browsers other than Safari cannot show HEIC anyway).
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageOps

_JPEG_KEPT_APPS = {0xE0: (b"JFIF\x00",), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_PNG_PRIVATE = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_WEBP_PRIVATE = {b"EXIF", b"XMP "}
ORIENTATION = 0x0112


def without_private_metadata(data: bytes, image: Image.Image) -> tuple[bytes, str]:
    """The bytes to store for an accepted upload, and their format's extension.

    Args:
        data: The upload's bytes (already accepted).
        image: The decoded image (full size for every format but JPEG, whose bytes are never decoded here).
    """
    orientation = image.getexif().get(ORIENTATION, 1)
    orientation = orientation if orientation in range(1, 9) else 1
    if image.format == "JPEG":
        return _jpeg_without_metadata(data, orientation), "jpg"
    if image.format == "PNG" and orientation == 1:
        return _png_without_metadata(data), "png"
    if image.format == "WEBP" and orientation == 1:
        return _webp_without_metadata(data), "webp"
    return _reencoded(image, lossless_webp=image.format == "WEBP" and b"VP8L" in _webp_kinds(data))


def _jpeg_without_metadata(data: bytes, orientation: int) -> bytes:
    """Copy a JPEG's image segments; drop APPn/COM segments but JFIF, ICC and Adobe colour information,
    and everything after the image (multi-picture extras, motion-photo video)."""
    kept, pos = [], 2
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG segment")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            kept.append(data[pos : pos + 2])
            pos += 2
            continue
        if marker == 0xD9:
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos:end]
        if marker == 0xDA:
            end = _end_of_scan(data, end)
            kept.append(data[pos:end])
        elif not (0xE0 <= marker <= 0xEF or marker == 0xFE) or segment[4:].startswith(_JPEG_KEPT_APPS.get(marker, ())):
            kept.append(segment)
        pos = end
    else:
        raise ValueError("the JPEG has no end")
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    payload = exif.tobytes()
    orientation_segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload if orientation != 1 else b""
    first_is_jfif = bool(kept) and kept[0][:2] == b"\xff\xe0"
    head = [kept[0], orientation_segment] if first_is_jfif else [orientation_segment]
    return b"".join([b"\xff\xd8", *head, *kept[1 if first_is_jfif else 0 :], b"\xff\xd9"])


def _end_of_scan(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: the first 0xFF that starts a real marker (not a stuffed
    0xFF00, a restart marker or a fill byte)."""
    while True:
        pos = data.index(b"\xff", pos)
        following = data[pos + 1] if pos + 1 < len(data) else 0xD9
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


def _png_without_metadata(data: bytes) -> bytes:
    parts, pos = [data[:8]], 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if kind not in _PNG_PRIVATE:
            parts.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(parts)


def _webp_without_metadata(data: bytes) -> bytes:
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        end = pos + 8 + length + (length & 1)
        chunk = data[pos:end]
        if kind == b"VP8X":  # clear the EXIF (0x08) and XMP (0x04) flags
            chunk = chunk[:8] + bytes([chunk[8] & ~0x0C]) + chunk[9:]
        if kind not in _WEBP_PRIVATE:
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_kinds(data: bytes) -> set[bytes]:
    kinds, pos = set(), 12
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        kinds.add(data[pos : pos + 4])
        pos += 8 + length + (length & 1)
    return kinds


def _reencoded(image: Image.Image, *, lossless_webp: bool) -> tuple[bytes, str]:
    """Re-encode the decoded pixels, upright, with only the colour profile."""
    source_format, icc = image.format, image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if source_format == "PNG":
        upright.save(buffer, "PNG", compress_level=6, **extra)
        return buffer.getvalue(), "png"
    if source_format == "WEBP":
        upright.save(buffer, "WEBP", lossless=lossless_webp, quality=95 if not lossless_webp else 100, **extra)
        return buffer.getvalue(), "webp"
    if source_format == "AVIF":
        upright.save(buffer, "AVIF", quality=90, **extra)
        return buffer.getvalue(), "avif"
    flat = upright.convert("RGB") if upright.mode not in ("RGB", "L") else upright
    flat.save(buffer, "JPEG", quality=95, subsampling=0, **extra)
    return buffer.getvalue(), "jpg"
