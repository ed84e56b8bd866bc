"""Progress bars: shown on a terminal (a real pty), absent when standard output is a pipe."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from test_crawl_site import Site, _listing_file
from test_crawl_site import site as site
from test_crawl_site import workspace as workspace

PRICEWARDEN = str(Path(sys.executable).with_name("pricewarden"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``args`` with standard output on a pseudo-terminal; returns its exit code and what it showed."""
    main, child = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=child, stderr=subprocess.STDOUT, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the terminal's other end closed: the process and its children are done with it
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    code = proc.wait(timeout=300)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_it_shows_a_crawl_progress_bar_on_a_terminal_only(db: Any, site: Site, workspace: Path,
                                                          tmp_path: Path) -> None:
    rows = [(site.url("/p/jsonld"), "AC-100", "", "", "", "US"), (site.url("/p/captcha"), "AC-100", "", "", "", "US"),
            (site.url("/p/gone"), "AC-100", "", "", "", "US")]
    listing_file = _listing_file(tmp_path, rows)
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    args = [PRICEWARDEN, "crawl", "--listing-file", str(listing_file), "--shards", "1", "--no-browser",
            "--at", "2026-03-02T08:00+00:00"]
    code, shown = _run_on_a_terminal(args, env)
    print(shown)  # what the terminal showed (pytest -s)
    assert code == 0, shown
    # The bar's last state: every page done, the failures counted, a rate in pages a second.
    assert re.search(r"crawl\b.*3/3 pages, 2 failed\s+[\d.,]+ pages/s", shown), shown
    # Standard output not a terminal (here the test runner's capture): the plain line, no bar.
    from typer.testing import CliRunner

    from pricewarden.cli import app

    piped = CliRunner().invoke(app, [*args[1:-1], "2026-03-02T09:00+00:00"])
    assert piped.exit_code == 0, piped.output
    assert "crawling 3 page(s)..." in piped.output
    assert "pages/s" not in piped.output and "\x1b[" not in piped.output
