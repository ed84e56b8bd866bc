"""``pricewarden demo``: run the sandbox storefront world, export its ground truth, write its workspace."""

from __future__ import annotations

import contextlib
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.demo_run import DEFAULT_DAYS, DEFAULT_FIRST_DAY

if TYPE_CHECKING:
    from demo.world import World

demo_app = typer.Typer(help="The full monitoring demo (no subcommand), and the sandbox storefront world.",
                       invoke_without_command=True, no_args_is_help=False)

SeedOpt = Annotated[int, typer.Option("--seed", help="World seed: the same seed gives the same world.")]
ProductsOpt = Annotated[int, typer.Option("--products", help="Number of products (at least 20).")]
DayOpt = Annotated[int, typer.Option("--day", help="Simulated day (1 = 2026-03-01).")]
BasePortOpt = Annotated[int, typer.Option("--base-port", help="Control port; family origins are base + 1..12.")]


@demo_app.callback()
def _demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="Simulated days to monitor (from --first-day).")] = DEFAULT_DAYS,
    first_day: Annotated[int, typer.Option(
        "--first-day", help="First simulated day (1 = 2026-03-01; days 4-6 show every scenario but the price war "
        "and the promotion).")] = DEFAULT_FIRST_DAY,
    seed: Annotated[int, typer.Option("--seed", help="World seed: the same seed gives the same world.")] = 7,
    products: Annotated[int, typer.Option("--products", help="Number of products (at least 20).")] = 20,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", help="New or empty folder for the demo workspace (default: temp).")
    ] = None,
    serve: Annotated[bool, typer.Option(
        "--serve/--no-serve", help="After the monitoring cycle, serve the review app over the demo workspace until "
        "Ctrl-C (--no-serve: stop after the summary, for scripts and tests).")] = True,
    port: Annotated[int, typer.Option(
        "--port", help="Port of the review app on 127.0.0.1 (taken: any free port).")] = 8000,
) -> None:
    """Without a subcommand: the full monitoring demo (storefronts, receiver, monitor over several days)."""
    if ctx.invoked_subcommand is not None:
        return
    import os
    import time

    from flows.demo_run import run_demo

    started = time.perf_counter()
    sock = None
    if serve:
        from pricewarden.errors import ConfigError
        from web.server import bind, url_of

        try:
            sock = bind("127.0.0.1", port)
        except ConfigError:
            sock = bind("127.0.0.1", 0)
        # Bound before the cycle so that the alerts it sends link to pages that will answer.
        os.environ.setdefault("PRICEWARDEN_ALERTS__REVIEW_BASE_URL", url_of(sock))
    try:
        result = run_demo(days=days, seed=seed, products=products, first_day=first_day, workspace=workspace)
        if sock is not None:
            _serve_review(result.workspace, sock, started)
    finally:
        if sock is not None:
            sock.close()


def _serve_review(ws: Path, sock: socket.socket, started: float) -> None:
    """Serve the review app over the demo's workspace and print how to sign in, until Ctrl-C."""
    import os
    import time

    from sqlalchemy import select

    from demo.workspace import demo_password
    from pricewarden.settings import get_settings
    from store import User, session_scope
    from web.server import serve, url_of

    for key, value in (("WORKSPACE", str(ws)), ("DATABASE_URL", f"sqlite:///{ws / 'pricewarden.db'}"),
                       ("EVIDENCE_URL", str(ws / "evidence")), ("TIMEZONE", "America/New_York")):
        os.environ[f"PRICEWARDEN_{key}"] = value
    get_settings.cache_clear()
    with session_scope() as session:
        users = [(u.username, u.role, ", ".join(u.regions or []), u.locale)
                 for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))]
    url = url_of(sock)

    def ready() -> None:
        typer.echo("")
        typer.echo(f"Review app: {url}/   (ready {time.perf_counter() - started:.1f} s after the demo started; "
                   "Ctrl-C stops it)")
        typer.echo("Sign in as (user / password / role / regions / language):")
        for name, role, regions, locale in users:
            note = f"  (partner account: the partner portal, {url}/portal)" if role == "partner" else ""
            typer.echo(f"  {name:<16} {demo_password(name):<22} {role:<16} {regions or '-':<10} {locale}{note}")
        typer.echo("Alert messages in the receiver link to these pages: " + url + "/violations/<id>")
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops on Ctrl-C by itself; this is belt and braces
        serve(sock, on_ready=ready)


def _world(seed: int, products: int, day: int) -> World:
    from demo.world import World
    from pricewarden.errors import ConfigError

    try:
        return World(seed=seed, products=products, day=day)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


@demo_app.command("serve")
def serve_cmd(seed: SeedOpt = 7, products: ProductsOpt = 50, day: DayOpt = 1,
              base_port: BasePortOpt = 8600,
              cache_mb: Annotated[int, typer.Option("--cache-mb", help="Rendered-page cache size (MB).")] = 256,
              ) -> None:
    """Run the world on 127.0.0.1 until interrupted; print each family's origin and the control URL."""
    from demo.server import serve_forever

    world = _world(seed, products, day)

    def ready(origins: dict[str, str], control: str) -> None:
        typer.echo(f"sandbox world: seed {seed}, {len(world.products)} products, {len(world.listings)} product "
                   f"pages, day {world.day}")
        for family, origin in origins.items():
            typer.echo(f"  {family:<12} {origin}")
        typer.echo(f"  control      {control}  (POST {control}/__world/day/<n> switches the day)")
        sys.stdout.flush()

    try:
        serve_forever(world, base_port=base_port, cache_bytes=cache_mb * 1024 * 1024, on_ready=ready)
    except KeyboardInterrupt:
        typer.echo("stopped")


@demo_app.command("truth")
def truth_cmd(day: DayOpt = 1, seed: SeedOpt = 7, products: ProductsOpt = 50, base_port: BasePortOpt = 8600,
              fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
              what: Annotated[str, typer.Option("--table", help="CSV only: pages or violations.")] = "pages",
              ) -> None:
    """Print the ground truth of ``--day``: every page's price, seller, failure, and the expected violations."""
    from demo.truth import write_csv
    from demo.world import default_origins
    from pricewarden.console import emit_json
    from pricewarden.errors import ConfigError

    world = _world(seed, products, day)
    truth = world.truth(day, default_origins(base_port))
    if fmt == "json":
        emit_json(truth)
    elif fmt == "csv":
        if what not in ("pages", "violations"):
            raise ConfigError("--table must be pages or violations")
        write_csv(truth, what, sys.stdout)
    else:
        raise ConfigError("--format must be json or csv")


@demo_app.command("workspace")
def workspace_cmd(path: Annotated[Path, typer.Argument(help="Folder to write catalog/, policies/, profiles/ to.")],
                  seed: SeedOpt = 7, products: ProductsOpt = 50, base_port: BasePortOpt = 8600) -> None:
    """Write the sample workspace that matches the world (URLs on ``--base-port``)."""
    from demo.workspace import write_workspace
    from demo.world import default_origins

    root = write_workspace(path, _world(seed, products, 1), default_origins(base_port))
    typer.echo(f"wrote {root}/catalog, {root}/policies, {root}/profiles, {root}/pricewarden.toml")


@demo_app.command("reports")
def reports_cmd(path: Annotated[Path, typer.Argument(help="Folder for the report files.")], day: DayOpt = 1,
                seed: SeedOpt = 7, products: ProductsOpt = 50) -> None:
    """Write the partner report files of ``--day`` and print the truth about their rows as JSON."""
    from pricewarden.console import emit_json

    emit_json(_world(seed, products, day).partner_reports(day, path))


@demo_app.command("receiver")
def receiver_cmd(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = 8025,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message instead of a line.")] = False,
) -> None:
    """A local notification receiver: print every message PriceWarden sends to json://127.0.0.1:PORT/<who>."""
    import json
    import threading

    from flows.receiver import Received, Receiver

    def show(message: Received) -> None:
        if as_json:
            typer.echo(json.dumps(message.as_dict(), ensure_ascii=False))
        else:
            files = ", ".join(a["filename"] for a in message.attachments) or "no attachments"
            typer.echo(f"{message.path}: {message.title} ({files}; key {message.key})")
        sys.stdout.flush()

    receiver = Receiver(port=port, on_message=show).start()
    typer.echo(f"receiver: json://127.0.0.1:{receiver.port}/<who>  (Ctrl-C stops it)")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command group."""
    app.add_typer(demo_app, name="demo")
