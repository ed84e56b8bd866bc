"""``pricewarden web``: serves the app from a real uvicorn process; a port in use is one clear line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine


def _env(db_url: str, ws: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_")}
    env.update(PRICEWARDEN_WORKSPACE=str(ws), PRICEWARDEN_DATABASE_URL=db_url)
    return env


def _command(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "pricewarden"), "web", *args]


def test_it_says_in_one_line_that_the_port_is_taken(db: Engine, tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        done = subprocess.run(_command("--port", str(port)), env=_env(str(db.url.render_as_string(False)), tmp_path),
                              capture_output=True, text=True, timeout=120)
    finally:
        taken.close()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use: stop what listens there or pick another with --port"]


def test_it_serves_under_a_root_path_behind_a_proxy(db: Engine, tmp_path: Path) -> None:
    process = subprocess.Popen(_command("--port", "0", "--root-path", "/pw"),
                               env=_env(str(db.url.render_as_string(False)), tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PriceWarden review app: http://127.0.0.1:") and "/pw/" in line, line
        base = line.split()[3].rstrip("/")  # http://127.0.0.1:PORT/pw
        origin = base.removesuffix("/pw")
        # The proxy strips /pw before passing the request on; links and cookies carry it.
        health = httpx.get(origin + "/healthz", timeout=30)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        login = httpx.get(origin + "/login", timeout=30, headers={"x-forwarded-proto": "https"})
        assert 'action="/pw/login"' in login.text and 'href="/pw/static/app.css"' in login.text
        cookie = login.headers["set-cookie"]
        assert "Path=/pw" in cookie and "Secure" in cookie  # X-Forwarded-Proto from 127.0.0.1 is trusted
        assert httpx.get(origin + "/violations", timeout=30).headers["location"] == "/pw/login?next=%2Fpw%2Fviolations"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
