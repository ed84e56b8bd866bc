"""A static shop on 127.0.0.1 for tests: fixed bodies by path, everything else 404.

    with serve_pages({"/p/1": page_bytes, "/feed.csv": (csv_bytes, "text/csv")}) as base:
        ...  # base = "http://127.0.0.1:<port>"

A body given alone is HTML; ``/robots.txt`` allows everything unless the routes say otherwise. The
query string is ignored. Tests whose server does more (counts hits, fails on purpose, streams) keep
their own handler.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HTML = "text/html; charset=utf-8"
ROBOTS = (b"User-agent: *\n", "text/plain")


@contextmanager
def serve_pages(routes: Mapping[str, bytes | tuple[bytes, str]]) -> Iterator[str]:
    """Serve ``routes`` (path -> body, or (body, content type)) until the block ends; yields the base URL."""
    table = {"/robots.txt": ROBOTS, **{path: (body, HTML) if isinstance(body, bytes) else body
                                       for path, body in routes.items()}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body, kind = table.get(self.path.split("?")[0], (b"", "text/plain"))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
