"""A partner's screenshot is bounded by the size its header declares, not only by its bytes.

A few kilobytes can declare a picture of billions of pixels that a manager's browser would then try to
decode (a decompression bomb). The pictures here are real: drawn and encoded by Chromium (JPEG, WebP) or
written whole (PNG); the oversized ones are real images whose header declares the size.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page
from web_world import png, png_chunk

from pricewarden.errors import UploadRefused
from web.portal.uploads import MAX_PIXELS, MAX_SIDE, check_screenshot, dimensions


@pytest.fixture
def page() -> Iterator[Page]:
    """A blank page of the project's Chromium, launched as the crawler launches it."""
    from playwright.sync_api import sync_playwright

    from crawlers.settings import chromium_launch_options

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch_options())
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _encoded(page: Page, width: int, height: int, kind: str) -> bytes:
    """A ``width`` x ``height`` picture drawn on a canvas and encoded by Chromium as ``image/<kind>``."""
    url = page.evaluate("""([w, h, kind]) => { const c = document.createElement("canvas"); c.width = w; c.height = h;
        const g = c.getContext("2d"); g.fillStyle = "#c81e1e"; g.fillRect(0, 0, w, h / 2);
        return c.toDataURL("image/" + kind, 0.9); }""", [width, height, kind])
    assert url.startswith(f"data:image/{kind};base64,")
    return base64.b64decode(url.split(",", 1)[1])


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG of ``width`` x ``height`` one-bit pixels, all zero: a few kilobytes once compressed."""
    chunk = png_chunk
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    raw = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["jpeg", "webp"])
def test_it_reads_the_size_of_pictures_chromium_encodes(page: Page, kind: str) -> None:
    data = _encoded(page, 640, 360, kind)
    assert dimensions(data, f"image/{kind}") == (640, 360)
    assert check_screenshot(f"shot.{kind}", data).content_type == f"image/{kind}"


def test_it_reads_a_png_and_keeps_a_full_page_screenshot() -> None:
    assert dimensions(png(1400, 9000), "image/png") == (1400, 9000)
    assert check_screenshot("page.png", png(1400, 9000)).content_type == "image/png"


def test_it_refuses_a_small_file_that_declares_a_huge_picture() -> None:
    bomb = _bomb_png(20_000, 20_000)
    assert len(bomb) < 5 << 20  # under the byte limit: only the declared size gives it away
    with pytest.raises(UploadRefused, match=r"bomb\.png: the image is 20000 x 20000 pixels; at most 16384 a side"):
        check_screenshot("bomb.png", bomb)
    wide = _bomb_png(MAX_SIDE, MAX_PIXELS // MAX_SIDE + 1)
    with pytest.raises(UploadRefused, match="million in all"):
        check_screenshot("wide.png", wide)


def test_it_refuses_an_image_whose_header_says_no_size() -> None:
    with pytest.raises(UploadRefused, match=r"cut\.jpg: the image's header does not say its size"):
        check_screenshot("cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
