"""The bad-input corpus: every kind of file a user (or an attacker) may drop, generated in code."""

from __future__ import annotations

import dataclasses
import io
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from tests.images import encode, two_tone, with_orientation

FIXTURES = Path(__file__).parent / "fixtures"


@dataclasses.dataclass(frozen=True)
class Sample:
    """A file, and what must happen to it: refused with a reason containing `reason`, or accepted."""

    kind: str
    name: str
    data: bytes
    reason: str = ""  # empty: accepted

    @property
    def accepted(self) -> bool:
        return not self.reason


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 20,000 × 20,000 pixels (400 MP)."""
    raw = zlib.compress(b"\x00" * 20_001 * 20, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = (20_000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def corrupt_png_crc() -> bytes:
    data = bytearray(encode(two_tone(), "PNG"))
    data[data.index(b"IDAT") + 6] ^= 0xFF
    return bytes(data)


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _polyglot() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.html", "<script>alert(1)</script>")
    return encode(two_tone(), "JPEG") + archive.getvalue()


def _huge_jpeg() -> bytes:
    return encode(Image.new("RGB", (9000, 6700), (120, 130, 140)), "JPEG", quality=50)  # 60.3 MP


def corpus(max_bytes: int = 25 * 2**20) -> list[Sample]:
    """At least 20 kinds, refused and accepted."""
    photo = encode(two_tone(400, 300), "JPEG", quality=90)
    return [
        Sample("empty file", "empty.jpg", b"", "empty"),
        Sample("text named .png", "notes.png", b"shopping list: milk, eggs", "not a supported image"),
        Sample("HTML page", "page.png", b"<!doctype html><html><body>hi</body></html>", "SVG/HTML"),
        Sample("SVG with script", "logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "SVG/HTML"),
        Sample("PDF", "scan.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "PDF"),
        Sample("truncated JPEG", "cut.jpg", photo[: len(photo) // 2], "truncated"),
        Sample("corrupt PNG (CRC)", "crc.png", corrupt_png_crc(), "corrupt"),
        Sample("PNG decompression bomb", "bomb.png", png_bomb(), "megapixels"),
        Sample("60 MP JPEG", "huge.jpg", _huge_jpeg(), "megapixels"),
        Sample("over the byte cap", "big.jpg", photo + b"\0" * (max_bytes + 1), "limit is"),
        Sample("animated GIF", "anim.gif", _animated_gif(), "GIF"),
        Sample("TIFF", "scan.tif", encode(two_tone(), "TIFF"), "TIFF"),
        Sample("BMP", "paint.bmp", encode(two_tone(), "BMP"), "BMP"),
        Sample("ICO", "favicon.ico", encode(two_tone(64, 64), "ICO"), "ICO"),
        Sample("polyglot JPEG + ZIP", "innocent.jpg", _polyglot(), "hides another file"),
        Sample("EXIF-rotated JPEG", "rotated.jpg", with_orientation(two_tone(80, 40), 6, "JPEG")),
        Sample("CMYK JPEG", "print.jpg", encode(Image.new("CMYK", (64, 48), (0, 200, 200, 0)), "JPEG")),
        Sample("16-bit PNG", "deep.png", encode(Image.fromarray(np.full((48, 64), 40_000, np.uint16)), "PNG")),
        Sample("grey + alpha PNG", "grey.png", encode(Image.new("LA", (64, 48), (128, 200)), "PNG")),
        Sample("HEIC", "phone.heic", (FIXTURES / "rotated.heic").read_bytes()),
        Sample("name with ../", "../../etc/passwd.jpg", photo),
        Sample("name of 300 characters", "a" * 296 + ".jpg", photo),
        Sample("name with emoji", "sofa 🛋️ living room.jpg", photo),
        Sample("name with RTL override", "invoice\u202egpj.exe.jpg", photo),
    ]  # fmt: skip
