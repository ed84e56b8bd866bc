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


def test_it_draws_done_failed_and_rate_on_a_terminal_and_nothing_elsewhere() -> None:
    import io

    from rich.console import Console

    from pricewarden.progress import progress

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    with progress("import r.csv", None, unit="rows", out=terminal) as bar:
        assert bar.showing
        bar.update(10_000, 12)
        bar.update(20_000, 31)
    shown = ANSI.sub("", screen.getvalue())
    assert "import r.csv" in shown and "20000/? rows, 31 failed" in shown and "rows/s" in shown
    pipe = io.StringIO()
    with progress("import r.csv", None, out=Console(file=pipe, force_terminal=False)) as bar:
        assert not bar.showing
        bar.update(5, 1)
    assert pipe.getvalue() == ""


def test_it_reports_each_step_of_detect(db: Any, tmp_path: Path) -> None:
    import web_world

    from detection.run import DETECT_STEPS, detect
    from store import session_scope

    web_world.build(db, str(tmp_path / "evidence"))
    steps: list[tuple[int, str]] = []
    with session_scope(db) as session:
        detect(session, on_step=lambda number, text: steps.append((number, text)))
    assert [n for n, _ in steps] == list(range(len(DETECT_STEPS) + 1))
    assert re.fullmatch(r"judging \d+ observations", steps[1][1]) and steps[-1][1] == "done"
