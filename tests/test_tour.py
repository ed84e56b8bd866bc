"""docs/tour.md runs as written: its bash blocks, in order, in one shell, on a real sandbox and receiver.

Blocks that begin with ``# not run by the tour's test`` (servers that run until Ctrl-C, Prefect) are
skipped; the page says so. Each block's time is printed (``-s``) and kept in the failure message.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "docs" / "tour.md"
SKIP = "# not run by the tour's test"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[str]:
    """The tour's bash blocks in order, those it says are not run left out."""
    return [b for b in BLOCK.findall(TOUR.read_text(encoding="utf-8")) if not b.startswith(SKIP)]


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1."""
    for base in range(21000, 60000, 97):
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free ports")


def test_the_tour_has_every_step_and_marks_what_it_does_not_run() -> None:
    text = TOUR.read_text(encoding="utf-8")
    run = "\n".join(blocks())
    for command in ("source .venv/bin/activate", "pricewarden demo serve", "pricewarden catalog import",
                    "pricewarden policy publish", "pricewarden crawl", "pricewarden detect", "pricewarden alerts send",
                    "pricewarden schedule --show", "pricewarden web", "catalog listing deactivate"):
        assert command in run, f"the tour does not run {command}"
    # Not run here, but on the page: Prefect's UI on the workspace's own database, the flows, the schedule.
    assert 'PREFECT_HOME="$PRICEWARDEN_WORKSPACE/.prefect" prefect server start' in text
    assert "pricewarden flow run monitor" in text and "\npricewarden schedule\n" in text


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    sandbox = _free_run(15)  # the sandbox's control port and 12 storefronts, the receiver, the review app
    receiver, web = sandbox + 13, sandbox + 14
    timed = []
    for number, block in enumerate(blocks(), 1):
        timed.append(f'__t=$EPOCHREALTIME\n{block}\n'
                     f'awk "BEGIN {{ printf \\"tour block {number}: %.1f s\\\\n\\", $EPOCHREALTIME - $__t }}" >&2\n')
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(timed)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_", "VIRTUAL_ENV"))}
    env.update(HOME=str(tmp_path), SANDBOX_PORT=str(sandbox), RECEIVER_PORT=str(receiver), WEB_PORT=str(web),
               COLUMNS="120", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                    if Path(p) != Path(sys.executable).parent))
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out, err = done.stdout, done.stderr
    print(out, err, sep="\n")
    assert done.returncode == 0, out[-4000:] + err[-4000:]
    # What the tour promises: the one-line answer outside a workspace, a crawl with prices, violations,
    # an alert that arrived at the receiver with its evidence, the schedule and the review app.
    assert "error: no workspace at" in err and "run `pricewarden init" in err
    assert re.search(r"\d+ observations, \d+ judged", out)
    assert "below_map" in out
    received = (tmp_path / "pricewarden-tour" / "received.log").read_text(encoding="utf-8")
    assert re.search(r"^/(carl|dana|bianca): \[\w+\] Price policy violation: .* at USD [\d.]+", received,
                     re.MULTILINE), received
    assert "monitor" in out and "sign-in page: 200" in out
    assert all(f"tour block {n}:" in err for n in range(1, len(blocks()) + 1))
