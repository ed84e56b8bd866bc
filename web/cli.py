"""``pricewarden web``: serve the review app over the workspace's database; ``pricewarden jobs``: the portal's
queued crawls."""

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


def jobs_command(
    run: Annotated[bool, typer.Option("--run", help="Run the queued jobs (and those a stopped process left "
                                                    "running) now, one after another, before listing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the jobs as JSON.")] = False,
) -> None:
    """The portal's crawls that are not done (re-crawls of partner responses, complaint crawls): list or run them.

    The web app runs them at once; this runs what a stopped app left queued (cron it where the app restarts
    often, or run it after a crash). Each job is claimed atomically: running it beside the app is safe.
    """
    import json

    from store import get_engine, session_scope
    from web.portal.jobs import drain, pending

    if run:
        counts = drain(get_engine())
        if not as_json:
            typer.echo("ran: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"))
    with session_scope() as session:
        rows = [{"id": j.id, "kind": j.kind, "target": j.target_id, "status": j.status, "attempts": j.attempts,
                 "created_at": j.created_at, "claimed_at": j.claimed_at, "claimed_by": j.claimed_by,
                 "last_error": j.last_error} for j in pending(session)]
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    for r in rows:
        error = f"  {r['last_error']}" if r["last_error"] else ""
        typer.echo(f"{r['id']:>6}  {r['kind']:<9} {r['target']:>6}  {r['status']:<7} attempt {r['attempts']}{error}")
    if not rows:
        typer.echo("no job waiting or failed")


def register(app: typer.Typer) -> None:
    """Add ``web`` and ``jobs`` to the root app."""
    app.command("web")(web_command)
    app.command("jobs")(jobs_command)
