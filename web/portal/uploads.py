"""Files partners upload: screenshots (bounded in size, checked by their bytes) and price reports."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pricewarden.errors import UploadRefused

MAX_SCREENSHOT_BYTES = 5 << 20
# A few bytes can declare a picture of billions of pixels that a manager's browser would then try to decode:
# a screenshot's declared size is bounded too (a 4K screen's full page fits well within it).
MAX_SIDE = 16_384
MAX_PIXELS = 40_000_000
# JPEG start-of-frame markers: they carry the picture's height and width (not DHT, JPG or DAC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Recognised by their first bytes, never by the name or the browser's content type.
IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class Image:
    """An accepted screenshot: its bytes and its content type (from the bytes)."""

    data: bytes
    content_type: str


def image_type(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` by the file's first bytes (WebP: RIFF....WEBP), else ``None``."""
    for magic, content_type in IMAGE_TYPES:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def dimensions(data: bytes, content_type: str) -> tuple[int, int] | None:
    """Width and height as the image's header declares them, or ``None`` where the header cannot be read."""
    try:
        if content_type == "image/png":
            if data[12:16] != b"IHDR":
                return None
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if content_type == "image/webp":
            chunk = data[12:16]
            if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
                width, height = struct.unpack("<HH", data[26:30])
                return width & 0x3FFF, height & 0x3FFF
            if chunk == b"VP8L" and data[20] == 0x2F:
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8X":
                return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
            return None
        pos = 2  # JPEG: walk the segments to the first start of frame
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            if marker == 0xFF:
                pos += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
            if marker in _SOF:
                height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
                return width, height
            if marker == 0xD9 or length < 2:
                return None
            pos += 2 + length
        return None
    except (struct.error, IndexError):
        return None


def check_screenshot(name: str, data: bytes, limit: int = MAX_SCREENSHOT_BYTES) -> Image:
    """The screenshot ``name`` if it is a PNG, JPEG or WebP image of at most ``limit`` bytes whose header
    declares a size a browser can decode (at most ``MAX_SIDE`` pixels a side and ``MAX_PIXELS`` in all).

    Raises :class:`~pricewarden.errors.UploadRefused` naming the file and the limit otherwise.
    """
    if len(data) > limit:
        raise UploadRefused(f"{name}: the screenshot is larger than {limit >> 20} MB")
    if not data:
        raise UploadRefused(f"{name}: the file is empty")
    content_type = image_type(data)
    if content_type is None:
        raise UploadRefused(f"{name}: not a PNG, JPEG or WebP image")
    size = dimensions(data, content_type)
    if size is None:
        raise UploadRefused(f"{name}: the image's header does not say its size")
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        raise UploadRefused(f"{name}: the image is {width} x {height} pixels; at most {MAX_SIDE} a side and "
                            f"{MAX_PIXELS // 1_000_000} million in all")
    return Image(data, content_type)


__all__ = ["IMAGE_TYPES", "MAX_PIXELS", "MAX_SCREENSHOT_BYTES", "MAX_SIDE", "Image", "UploadRefused",
           "check_screenshot", "dimensions", "image_type"]
