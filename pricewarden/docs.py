"""Generate the reference pages under ``docs/reference/`` from the code, so they cannot go stale.

``python -m pricewarden.docs --write`` rewrites ``docs/reference/cli.md`` (every command, argument and
option form with its default) and ``docs/reference/settings.md`` (every setting with its environment
variable, default and description); ``--check`` exits 1 when either is out of date (a test runs it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _option_forms(param: Any) -> str:
    """Every way to spell an option: ``--flag / --no-flag``, ``-n, --name``."""
    forms = ", ".join(f"`{o}`" for o in param.opts)
    if param.secondary_opts:
        forms += " / " + ", ".join(f"`{o}`" for o in param.secondary_opts)
    return forms


def _default(param: Any) -> str:
    """The default an option or argument takes, as the user would type it; '' when there is none."""
    default = param.default
    if callable(default) or default is None or getattr(param, "required", False):
        return ""
    if getattr(param, "is_flag", False) and getattr(param, "secondary_opts", None):
        chosen = param.opts if default else param.secondary_opts
        return f" (default: `{chosen[-1]}`)"
    if getattr(param, "is_flag", False):
        return ""
    if isinstance(default, (list, tuple)):
        if not default:
            return ""
        default = " ".join(str(d) for d in default)
    if hasattr(default, "value"):  # an Enum choice
        default = default.value
    return f" (default: `{default}`)"


def cli_reference() -> str:
    """Markdown: every command with its usage, help, arguments and every option form with its default."""
    from pricewarden.cli import app

    root = typer.main.get_command(app)
    lines: list[str] = [
        "# Command reference",
        "",
        "Generated from the CLI itself by `make docs`; a test fails when it is stale.",
        "Every command also answers `--help`.",
        "",
    ]

    # Typer may vendor its own click, so commands are inspected by shape, not by isinstance.
    def walk(command: Any, path: list[str]) -> None:
        is_group = hasattr(command, "list_commands")
        if path:
            ctx = command.context_class(command, info_name=" ".join(["pricewarden", *path]))
            usage = command.get_usage(ctx).removeprefix("Usage: ")
            lines.append(f"## `pricewarden {' '.join(path)}`\n")
            lines.append((command.help or "").strip().split("\n\n")[0].replace("\n", " ") + "\n")
            lines.append(f"    {usage}\n")
            params = [p for p in command.params if p.name != "help"]
            if params and not is_group:
                for param in params:
                    text = (getattr(param, "help", "") or "").strip()
                    if getattr(param, "param_type_name", "") == "option":
                        lines.append(f"- {_option_forms(param)}: {text}{_default(param)}")
                    else:
                        lines.append(f"- `{(param.name or '').upper()}`: {text}{_default(param)}")
                lines.append("")
        if is_group:
            ctx = command.context_class(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, [*path, name])

    walk(root, [])
    return "\n".join(lines).strip() + "\n"


def settings_reference() -> str:
    """Markdown table: every setting, its environment variable, default and description."""
    from pricewarden.settings import ENV_PREFIX, WORKSPACE_FILE, Settings

    rows = [
        "# Settings",
        "",
        "Generated from `pricewarden/settings.py` by `make docs`; a test fails when it is stale.",
        "",
        f"Every setting is read from a `{ENV_PREFIX}*` environment variable (nested groups with `__`, e.g.",
        f"`{ENV_PREFIX}CRAWL__CONCURRENCY=8`), then from `<workspace>/{WORKSPACE_FILE}` (the same names in",
        "lower case, groups as TOML tables: `[crawl]` then `concurrency = 8`), then the default.",
        "`pricewarden config show` prints the effective values with secrets redacted.",
        "",
        "| environment variable | default | meaning |",
        "| --- | --- | --- |",
    ]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            annotation: Any = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name.upper()}__")
                continue
            default = info.get_default(call_default_factory=True)
            shown = "" if default is None else str(default)
            if isinstance(default, dict):
                shown = ", ".join(f"{k}={v}" for k, v in default.items())
            elif isinstance(default, (list, tuple)):
                shown = ", ".join(str(v) for v in default)
            description = (info.description or "").replace("|", "\\|")
            rows.append(f"| `{ENV_PREFIX}{prefix}{name.upper()}` | `{shown}` | {description} |")

    walk(Settings, "")
    return "\n".join(rows) + "\n"


PAGES: dict[str, Callable[[], str]] = {"cli.md": cli_reference, "settings.md": settings_reference}


def stale() -> list[Path]:
    """The generated pages whose content differs from what the code generates now."""
    return [REFERENCE / name for name, generate in PAGES.items()
            if not (REFERENCE / name).is_file() or (REFERENCE / name).read_text(encoding="utf-8") != generate()]


def main(argv: list[str]) -> int:
    """``--write`` regenerates the reference pages; otherwise report whether they are current."""
    if "--write" in argv:
        REFERENCE.mkdir(parents=True, exist_ok=True)
        for name, generate in PAGES.items():
            (REFERENCE / name).write_text(generate(), encoding="utf-8")
        return 0
    old = stale()
    for path in old:
        print(f"{path.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
    return 1 if old else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
