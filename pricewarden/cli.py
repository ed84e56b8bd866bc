"""The ``pricewarden`` command: one Typer app; each package adds its commands from ``<package>/cli.py``.

A package's ``cli`` module defines ``register(app: typer.Typer) -> None`` and keeps heavy imports
(Scrapy, scikit-learn, Prefect) inside its command functions so that ``pricewarden --help`` is fast.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from pricewarden.errors import PolicyValidationError, PriceWardenError

# Modules that add commands, in --help order; a module not (yet) present is skipped.
COMMAND_MODULES = (
    "pricewarden.commands",
    "store.cli",
    "policies.cli",
    "crawlers.cli",
    "crawlers.extract.cli",
    "crawlers.reports.cli",
    "detection.cli",
    "alerts.cli",
    "flows.cli",
    "demo.cli",
    "web.cli",
    "web.api.cli",
)

app = typer.Typer(
    name="pricewarden",
    help="PriceWarden: watch the prices your partners advertise, judge them against your price policy, "
    "and put every violation, with evidence, in front of the person who must act on it.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug
    from pricewarden.settings import get_settings

    try:
        level = get_settings().log_level
    except PriceWardenError:
        level = "INFO"
    # Third-party libraries (alembic, httpx, apprise, scrapy) speak only at WARNING and above;
    # PriceWarden's own packages at the configured level.
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for package in ("pricewarden", "store", "policies", "crawlers", "detection", "alerts", "flows", "demo", "web"):
        logging.getLogger(package).setLevel(logging.DEBUG if debug else level)


def _register_packages() -> None:
    for name in COMMAND_MODULES:
        parent = name.rpartition(".")[0]
        if importlib.util.find_spec(parent) is None or importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(app)


# Commands that run without the workspace's database: they create it, or never open it (`schedule
# --show` does not; serving the schedule checks the store itself).
WITHOUT_STORE = ("init", "config", "policy check", "extract", "demo", "schedule")
# Commands that need the workspace but not its schema (they make or inspect it).
WITHOUT_SCHEMA = ("db upgrade", "db current", "db downgrade")


def _store_checked(path: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` preceded by the one store check (store.check_store) that ``path`` needs, if any."""
    if any(path == p or path.startswith(p + " ") for p in WITHOUT_STORE):
        return callback
    schema = path not in WITHOUT_SCHEMA

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        from store.db import check_store

        check_store(schema=schema)
        return callback(*args, **kwargs)

    return checked


def _check_before_store(typer_app: typer.Typer, prefix: str = "") -> None:
    """Put the store check in front of every command that touches the store, before it runs."""
    for command in typer_app.registered_commands:
        if command.callback is None:
            continue
        name = command.name or command.callback.__name__.replace("_", "-")
        command.callback = _store_checked(f"{prefix}{name}", command.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _check_before_store(group.typer_instance, f"{prefix}{group.name} ")


_register_packages()
_check_before_store(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a PriceWarden error prints one line and exits 1 (a traceback only with --debug)."""
    from pricewarden.console import err_console
    from pricewarden.files import private_umask

    private_umask()  # everything this command and its children create is owner-only (pricewarden.files)

    try:
        app(args=argv, standalone_mode=True)
    except PriceWardenError as exc:
        if _state["debug"]:
            raise
        from pricewarden.redaction import redact_text

        err_console.print(f"error: {redact_text(str(exc))}", style="bold red", highlight=False, markup=False,
                          soft_wrap=True)
        if isinstance(exc, PolicyValidationError):
            for problem in exc.problems:
                err_console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:
        # Not one of ours (a bug, or a library's own error): still one line, secrets redacted; the
        # traceback only with --debug.
        if _state["debug"]:
            raise
        from pricewarden.redaction import redact_text

        text = " ".join(redact_text(f"{type(exc).__name__}: {exc}").split())[:2000]
        err_console.print(f"error: {text} (run with --debug for the traceback)", style="bold red", highlight=False,
                          markup=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
