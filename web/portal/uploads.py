"""Files partners upload: screenshots (bounded in size, checked by their bytes) and price reports."""

from __future__ import annotations

from dataclasses import dataclass

from pricewarden.errors import UploadRefused

MAX_SCREENSHOT_BYTES = 5 << 20
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


def check_screenshot(name: str, data: bytes, limit: int = MAX_SCREENSHOT_BYTES) -> Image:
    """The screenshot ``name`` if it is a PNG, JPEG or WebP image of at most ``limit`` bytes.

    Raises :class:`~pricewarden.errors.UploadRefused` naming the file and the limit otherwise.
    """
    if len(data) > limit:
        raise UploadRefused(f"{name}: the screenshot is larger than {limit >> 20} MB")
    if not data:
        raise UploadRefused(f"{name}: the file is empty")
    content_type = image_type(data)
    if content_type is None:
        raise UploadRefused(f"{name}: not a PNG, JPEG or WebP image")
    return Image(data, content_type)


__all__ = ["IMAGE_TYPES", "MAX_SCREENSHOT_BYTES", "Image", "UploadRefused", "check_screenshot", "image_type"]
