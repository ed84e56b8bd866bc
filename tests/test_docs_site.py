"""The documentation site builds with no warnings, and its generated pages are current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_strict_with_every_page(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    site = tmp_path / "site"
    done = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr
    for page in ("index.html", "tour/index.html", "figures/index.html", "reference/cli/index.html",
                 "reference/settings/index.html", "web/index.html", "security/index.html"):
        assert (site / page).is_file(), f"{page} missing from the site"
    # Offline: no web fonts or scripts from elsewhere in the built pages.
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")


def test_the_figures_page_is_generated_from_the_benchmark_results() -> None:
    sys.path.insert(0, str(ROOT))
    from bench import figures

    assert figures.main(["--check"]) == 0, "docs/figures.md is stale: run `make docs`"
    text = (ROOT / "docs" / "figures.md").read_text(encoding="utf-8")
    assert "Generated" in text and "| what | target | measured | date | load | command |" in text
