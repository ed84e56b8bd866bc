"""The README's screenshots: committed, real, and made by a script that runs (``python -m web.screenshots``).

Pixels differ from machine to machine (fonts, anti-aliasing), so the images are not compared byte for
byte as ``docs/reference`` is; instead the script is run end to end over the demo world it builds, and
the committed images must be the same set, at the same width, and real screenshots (not blank).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from web.screenshots import NAMES, WIDTH

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def _png(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the decoded first rows (a blank page has 1-2)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, pos = [], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    raw = zlib.decompressobj().decompress(b"".join(chunks), 4 * width * 400)
    return width, height, len(set(raw))


def _check(folder: Path) -> None:
    for name in NAMES:
        width, height, values = _png(folder / f"{name}.png")
        assert width == WIDTH and height >= 800, (name, width, height)
        assert values > 100, f"{name}.png looks blank"


def test_it_keeps_the_readme_screenshots_in_docs_images() -> None:
    assert sorted(p.stem for p in IMAGES.glob("*.png")) == sorted(NAMES)
    _check(IMAGES)


@pytest.mark.browser
def test_it_makes_the_screenshots_from_the_demo_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from demo.workspace import demo_password
    from store.db import engine_for
    from web.screenshots import build_demo_workspace, capture

    for key in ("WORKSPACE", "DATABASE_URL", "EVIDENCE_URL", "TIMEZONE"):
        monkeypatch.setenv(f"PRICEWARDEN_{key}", "")  # the script sets them: restored after the test
    monkeypatch.setenv("PRICEWARDEN_WORKSPACE", str(tmp_path / "ws"))
    try:
        workspace = build_demo_workspace(tmp_path / "ws", days=(4, 5))
        written = capture(workspace, tmp_path / "images", "bianca", demo_password("bianca"))
    finally:
        engine_for.cache_clear()
    assert [p.stem for p in written] == list(NAMES)
    _check(tmp_path / "images")
