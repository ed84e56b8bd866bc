"""What a crawl process inherits from the fork server: a warm extractor, and memory kept between pages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "extract_pages"


def test_preloaded_extractor_imports_nothing_on_its_first_page() -> None:
    """After ``crawlers.preload`` (the fork server's imports), reading real pages loads no module more:
    Babel's lazy imports and locale data come with the fork, not with each crawl process's first page."""
    pages = [str(p) for p in sorted(PAGES.glob("*.html"))[:6]]
    assert pages
    code = textwrap.dedent(f"""
        import sys
        import crawlers.preload
        from crawlers.extract import extract
        before = set(sys.modules)
        for path in {pages!r}:
            extract(open(path, "rb").read(), "http://127.0.0.1:8080/p/1", encoding="utf-8")
        print(sorted(set(sys.modules) - before))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]", out.stdout


def test_warm_up_gives_the_cascade_its_answers() -> None:
    """The sample pages the fork server reads are priced as any page: the warm-up runs the whole cascade."""
    from crawlers.extract import extract
    from crawlers.preload import _SAMPLE

    html = _SAMPLE.format(lang="en", price="99.00").encode()
    assert str(extract(html, "http://shop.example.com/p/1", encoding="utf-8").price) == "99.00"
    visible = extract(html.replace(b"ld+json", b"x-none"), "http://shop.example.com/p/2")
    assert visible.method == "heuristic" and str(visible.price) == "99.00"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_crawl_process_keeps_page_memory() -> None:
    """glibc accepts the thresholds that keep one page's memory for the next (in a process of its own)."""
    code = "from crawlers.run import keep_page_memory; print(keep_page_memory())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "True"
