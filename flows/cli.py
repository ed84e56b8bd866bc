"""``pricewarden schedule`` (serve the deployments on their crons) and ``pricewarden flow run NAME``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

flow_app = typer.Typer(help="Prefect flows: run one now.", no_args_is_help=True)
FLOW_NAMES = ("monitor", "import-partner-reports", "digest", "weekly-report")


def register(app: typer.Typer) -> None:
    """Add ``schedule`` and ``flow``."""
    app.command("schedule")(schedule)
    app.add_typer(flow_app, name="flow")


def schedule(
    show: Annotated[bool, typer.Option("--show", help="Only list the deployments and their crons.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with --show).")] = False,
) -> None:
    """Serve the monitor, report import, digest and weekly-report deployments on their cron schedules."""
    from flows.schedule import plan
    from pricewarden.console import show as show_rows

    rows = plan()
    if show:
        show_rows(rows, ["deployment", "cron", "timezone"], as_json=as_json)
        return
    from store.db import check_store

    # The flows it serves read and write the store: one line now, not a failure at the first run (and
    # before Prefect's set-up, which makes its home in the workspace).
    check_store()
    from flows._prefect import ensure_started
    from flows.schedule import serve_schedules

    show_rows(rows, ["deployment", "cron", "timezone"], as_json=False)
    ensure_started()  # a server that cannot start is one line here, not a traceback in the first run
    serve_schedules()


def _convert(flow_name: str, key: str, text: str, annotation: Any) -> Any:
    """``text`` as the type the flow's parameter ``key`` takes (its annotation)."""
    import json
    import types
    import typing
    from datetime import UTC, datetime

    from pricewarden.errors import ConfigError

    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and options:
        if text.lower() in ("none", "null", ""):
            return None
        annotation = options[0]
    origin = typing.get_origin(annotation) or annotation
    try:
        if annotation is bool:
            if text.lower() in ("true", "yes", "1", "on"):
                return True
            if text.lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError("give true or false")
        if annotation in (int, float, str):
            return annotation(text)
        if annotation is datetime:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if origin in (dict, list):
            value = json.loads(text)
            if not isinstance(value, origin):
                raise ValueError(f"give a JSON {origin.__name__}")
            return value
    except ValueError as exc:
        raise ConfigError(f"flow {flow_name}: --param {key}={text!r}: {exc}") from None
    return text


def parse_params(flow_name: str, fn: Any, params: list[str]) -> dict[str, Any]:
    """``--param key=value`` pairs, checked against the flow function's signature and typed by its annotations."""
    import difflib
    import inspect
    import typing

    from pricewarden.errors import ConfigError

    hints = typing.get_type_hints(fn)
    names = list(inspect.signature(fn).parameters)
    result: dict[str, Any] = {}
    for pair in params:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: give key=value")
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"flow {flow_name} has no parameter {key!r}{hint}; its parameters: {', '.join(names)}")
        result[key] = _convert(flow_name, key, text, hints.get(key, str))
    return result


def _print_result(name: str, result: Any) -> None:
    """A flow's result for people: its fields one per row (nested values as compact JSON)."""
    import json

    from pricewarden.console import console, print_table, to_json

    if not isinstance(result, dict):
        console.print(f"flow {name}: {result}", highlight=False, markup=False, soft_wrap=True)
        return
    rows = [[key, value if isinstance(value, (str, int, float)) or value is None
             else json.dumps(json.loads(to_json(value)), ensure_ascii=False, separators=(", ", ": "))]
            for key, value in result.items()]
    print_table(f"flow {name}", ["field", "value"], rows)


@flow_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="monitor, import-partner-reports, digest or weekly-report.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="A parameter of the flow as key=value (repeatable), typed by the flow's signature: "
        "e.g. --param at=2026-03-05T15:00+00:00 for monitor, --param days=14 for weekly-report.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's result as JSON.")] = False,
) -> None:
    """Run one flow now (a Prefect flow run; ephemeral Prefect unless PREFECT_API_URL is set)."""
    from pricewarden.console import emit_json
    from pricewarden.errors import ConfigError

    if name not in FLOW_NAMES:
        raise ConfigError(f"unknown flow {name!r}; one of {', '.join(FLOW_NAMES)}")
    from flows.monitor import monitor
    from flows.ops import digest, import_partner_reports, weekly_report

    flows: dict[str, Any] = {"monitor": monitor, "import-partner-reports": import_partner_reports, "digest": digest,
                             "weekly-report": weekly_report}
    # Checked before Prefect starts: a typo costs no server start-up.
    kwargs = parse_params(name, flows[name].fn, param or [])
    from flows._prefect import ensure_started

    ensure_started()  # a server that cannot start is one line here, not a traceback in the flow run
    result = flows[name](**kwargs)
    if as_json:
        emit_json(result)
    else:
        _print_result(name, result)
