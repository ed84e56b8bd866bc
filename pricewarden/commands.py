"""Core commands: ``init`` and ``config show``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from pricewarden.console import console, emit_json
from pricewarden.files import FILE_MODE, make_private_dir

SAMPLE = Path(__file__).parent / "sample"

config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``init`` and ``config`` to the root app."""
    app.command("init")(init)
    app.add_typer(config_app, name="config")


def init(
    workspace: Annotated[
        Path | None, typer.Argument(help="Workspace folder to create (default: PRICEWARDEN_WORKSPACE or ./workspace).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite sample files that already exist.")] = False,
) -> None:
    """Create a workspace with a sample catalog and policy, create the database and import them."""
    from pricewarden.settings import get_settings

    if workspace is not None:
        os.environ["PRICEWARDEN_WORKSPACE"] = str(workspace)
        get_settings.cache_clear()
    settings = get_settings()
    root = settings.workspace
    for folder in (root, settings.policies_dir, settings.profiles_dir, settings.inbox_dir, settings.reports_dir,
                   settings.reports_dir / "receipts", root / "catalog"):
        make_private_dir(folder)  # owner-only (0700): partners' reports, evidence and secrets live here
    copied = 0
    for source in sorted(SAMPLE.rglob("*")):
        if source.is_dir():
            continue
        target = root / source.relative_to(SAMPLE)
        if target.exists() and not force:
            continue
        make_private_dir(target.parent)
        shutil.copyfile(source, target)
        os.chmod(target, FILE_MODE)
        copied += 1

    from store import upgrade
    from store.catalog import import_catalog

    upgrade()
    report = import_catalog(root / "catalog")
    from flows._env import migrate_home

    # Prefect's own database, migrated now: the first flow run then only starts its server.
    prefect = migrate_home(root)
    console.print(f"workspace [bold]{root.resolve()}[/]: {copied} sample files written, database ready")
    if prefect != "external":
        console.print(f"prefect: database {'ready' if prefect == 'ready' else prefect}", highlight=False)
    console.print(report.summary())
    console.print(
        "next: [bold]pricewarden policy check[/] "
        f"{settings.policies_dir / 'policy.yaml'} then [bold]pricewarden policy publish[/] it"
    )


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective settings, secrets redacted."""
    from pricewarden.settings import get_settings

    data = get_settings().redacted()
    if as_json:
        emit_json(data)
        return
    from pricewarden.console import print_table

    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict) and prefix not in {"region_modes"}:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        else:
            rows.append((prefix, str(value)))

    walk("", data)
    print_table("Effective settings", ["setting", "value"], rows)
