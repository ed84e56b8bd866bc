"""``pricewarden web``: serve the review app over the workspace's database."""

from __future__ import annotations

from typing import Annotated

import typer


def web_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8000,
    root_path: Annotated[str, typer.Option(
        "--root-path", help="Path prefix under which a reverse proxy serves the app (e.g. /pricewarden); the "
        "proxy strips it before passing requests on.")] = "",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (behind a proxy: 2 per core "
                                                                  "is a fair start).")] = 1,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        "--forwarded-allow-ips", help="Comma-separated addresses of proxies whose X-Forwarded-For/-Proto headers "
        "are trusted (default: 127.0.0.1).")] = None,
) -> None:
    """Serve the review app (Ctrl-C stops it)."""
    from store import require_schema
    from web.server import bind, serve, url_of

    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        from pricewarden.errors import ConfigError

        raise ConfigError(f"--root-path {root_path!r}: give a path like /pricewarden (leading slash, none at the end)")
    require_schema()
    sock = bind(host, port)

    def ready() -> None:
        typer.echo(f"PriceWarden review app: {url_of(sock, root_path)}/  ({workers} worker"
                   f"{'s' if workers > 1 else ''}; Ctrl-C stops it)")

    try:
        serve(sock, workers=workers, root_path=root_path, forwarded_allow_ips=forwarded_allow_ips, on_ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def register(app: typer.Typer) -> None:
    """Add ``web`` to the root app."""
    app.command("web")(web_command)
