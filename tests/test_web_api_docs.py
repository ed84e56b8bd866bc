"""docs/api.md stays honest: every ``sh`` example on the page runs, in order, with curl and jq against
the app served by uvicorn on 127.0.0.1 over the web test world, and must succeed (``--fail-with-body``
and ``jq -e`` make a wrong status or answer fail the script)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from web_world import make_app

from store import session_scope
from web.api.tokens import create_token
from web.server import bind, url_of

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def blocks(language: str) -> list[str]:
    """The fenced ``language`` blocks of docs/api.md, in order."""
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture
def served(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any, Engine]]:
    monkeypatch.setenv("PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE", "100000")
    app, world = make_app(db, tmp_path / "ws")
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock), world, db
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq")
def test_it_runs_every_curl_example_of_the_api_page(served: tuple[str, Any, Engine], tmp_path: Path) -> None:
    base, _world, db = served
    with session_scope(db) as s:
        _row, partner = create_token(s, name="docs partner", created_by="admin", partner="P1",
                                     scopes=["reports:write", "violations:read", "policy:read"])
        _row, brand = create_token(s, name="docs brand", created_by="admin", user="bianca",
                                   scopes=["violations:read", "violations:write", "reports:write"])
    script = blocks("sh")
    assert len(script) >= 10
    folder = tmp_path / "run"
    folder.mkdir()
    env = {"PATH": os.environ["PATH"], "PW": base, "PARTNER_TOKEN": partner, "BRAND_TOKEN": brand}
    # One script, so that what an example sets (REPORT, VIOLATION...) is there for the next; -x names the
    # failing command.
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + "\n".join(script)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert partner not in done.stdout and brand not in done.stdout


def test_it_documents_the_signature_recipe_that_the_tests_use() -> None:
    namespace: dict[str, Any] = {}
    (code,) = blocks("python")
    exec(compile(code, str(DOC), "exec"), namespace)
    assert callable(namespace["verify"])
