"""Generate the README's CLI and settings references from the code, so they cannot go stale.

``python -m pricewarden.docs --write`` rewrites the blocks between ``<!-- BEGIN GENERATED: name -->``
and ``<!-- END GENERATED: name -->``; ``--check`` exits 1 when the README is out of date (a test runs it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

README = Path(__file__).resolve().parents[1] / "README.md"


def cli_reference() -> str:
    """Markdown: every command with its usage, help, arguments and options."""
    from pricewarden.cli import app

    root = typer.main.get_command(app)
    lines: list[str] = []

    # Typer may vendor its own click, so commands are inspected by shape, not by isinstance.
    def walk(command: Any, path: list[str]) -> None:
        is_group = hasattr(command, "list_commands")
        if path:
            ctx = command.context_class(command, info_name=" ".join(["pricewarden", *path]))
            usage = command.get_usage(ctx).removeprefix("Usage: ")
            lines.append(f"#### `pricewarden {' '.join(path)}`\n")
            lines.append((command.help or "").strip().split("\n\n")[0].replace("\n", " ") + "\n")
            lines.append(f"    {usage}\n")
            params = [p for p in command.params if p.name != "help"]
            if params and not is_group:
                for param in params:
                    if getattr(param, "param_type_name", "") == "option":
                        names = ", ".join(f"`{o}`" for o in param.opts)
                        text = getattr(param, "help", "") or ""
                    else:
                        names = f"`{(param.name or '').upper()}`"
                        text = getattr(param, "help", "") or ""
                    lines.append(f"- {names}: {text}")
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
    from pricewarden.settings import ENV_PREFIX, Settings

    rows = ["| environment variable | default | meaning |", "| --- | --- | --- |"]

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
            rows.append(f"| `{ENV_PREFIX}{prefix}{name.upper()}` | `{shown}` | {info.description} |")

    walk(Settings, "")
    return "\n".join(rows) + "\n"


GENERATORS = {"cli": cli_reference, "settings": settings_reference}


def _replacement(block: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + block + match.group(2)

    return replace


def render(text: str) -> str:
    """``text`` with every generated block replaced by fresh output."""
    for name, generate in GENERATORS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(<!-- END GENERATED: {name} -->)", re.DOTALL
        )
        text = pattern.sub(_replacement(generate()), text)
    return text


def main(argv: list[str]) -> int:
    """``--write`` updates README.md; ``--check`` reports whether it is current."""
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if "--write" in argv:
        README.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != current:
        print("README.md is out of date: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
