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
    from flows._prefect import ensure_started
    from flows.schedule import serve_schedules

    show_rows(rows, ["deployment", "cron", "timezone"], as_json=False)
    ensure_started()  # a server that cannot start is one line here, not a traceback in the first run
    serve_schedules()


@flow_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="monitor, import-partner-reports, digest or weekly-report.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's result as JSON.")] = False,
) -> None:
    """Run one flow now (a Prefect flow run; ephemeral Prefect unless PREFECT_API_URL is set)."""
    from pricewarden.console import console, emit_json
    from pricewarden.errors import ConfigError

    if name not in FLOW_NAMES:
        raise ConfigError(f"unknown flow {name!r}; one of {', '.join(FLOW_NAMES)}")
    from flows._prefect import ensure_started
    from flows.monitor import monitor
    from flows.ops import digest, import_partner_reports, weekly_report

    ensure_started()  # a server that cannot start is one line here, not a traceback in the flow run

    flows: dict[str, Any] = {"monitor": monitor, "import-partner-reports": import_partner_reports, "digest": digest,
                             "weekly-report": weekly_report}
    result = flows[name]()
    if as_json:
        emit_json(result)
    else:
        console.print(result)
