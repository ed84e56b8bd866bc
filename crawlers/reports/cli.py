"""``pricewarden report``: import partner reports and feeds, list receipts, write templates, cross-check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pricewarden.console import console, emit_json, show

report_app = typer.Typer(help="Partner-reported prices: import files and feeds, receipts, templates.",
                         no_args_is_help=True)

PartnerOpt = Annotated[str, typer.Option("--partner", "-p", help="Partner code, as in partners.csv.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group."""
    app.add_typer(report_app, name="report")


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(result.summary(), highlight=False, markup=False)
    if result.rejections:
        show([{"row": r["row"], "column": r["column"], "reason": r["reason"]} for r in result.rejections[:50]],
             ["row", "column", "reason"], as_json=False, title="rejected rows (all are in the receipt)")


@report_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV/TSV (UTF-8, UTF-8 BOM, GBK), XLSX or JSON report file.")],
    partner: PartnerOpt,
    submitted_by: Annotated[str, typer.Option("--by", help="Who submitted the file (audit log).")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Import a partner's price report: every row validated, good rows stored, a receipt written."""
    from crawlers.reports import import_file
    from pricewarden.progress import progress

    with progress(f"import {file.name}", None, unit="rows", enabled=not as_json) as bar:
        result = import_file(file, partner, submitted_by=submitted_by,
                             on_progress=bar.update if bar.showing else None)
    _print_result(result, as_json)


@report_app.command("feed")
def feed_command(
    url: Annotated[str, typer.Argument(help="Product feed URL (Google Merchant CSV/TSV or RSS/XML).")],
    partner: PartnerOpt,
    as_json: JsonOpt = False,
) -> None:
    """Pull a partner's product feed over HTTP and store its prices as feed observations."""
    from crawlers.reports import import_feed

    _print_result(import_feed(url, partner), as_json)


@report_app.command("receipts")
def receipts_command(
    partner: Annotated[str | None, typer.Option("--partner", "-p", help="Only this partner's batches.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most recent batches to list.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List report batches with their counts and receipts, newest first."""
    from crawlers.reports import list_batches

    rows = list_batches(partner=partner, limit=limit)
    show(rows, ["batch", "partner", "received_at", "file", "format", "encoding", "rows", "accepted", "rejected",
                "receipt"], as_json=as_json, title="report batches")


@report_app.command("template")
def template_command(
    partner: PartnerOpt,
    fmt: Annotated[str, typer.Option("--format", "-f", help="xlsx or csv.")] = "xlsx",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an empty report template for a partner, with instructions in its locale."""
    from crawlers.reports import write_template

    written = [str(path) for path in write_template(partner, fmt, output)]
    if as_json:
        emit_json({"written": written})
        return
    for path in written:
        console.print(f"wrote {path}", highlight=False, markup=False)


@report_app.command("cross-check")
def cross_check_command(
    window_hours: Annotated[int | None, typer.Option(help="Hours around a report to look for web prices.")] = None,
    tolerance_pct: Annotated[float | None, typer.Option(help="Percent difference tolerated.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List reported prices that differ from what the web showed (misreports)."""
    from crawlers.reports import cross_check
    from store import session_scope

    with session_scope() as session:
        found = cross_check(session, window_hours=window_hours, tolerance_pct=tolerance_pct)
    show([m.to_dict() for m in found],
         ["partner_id", "product_id", "reported_price", "observed_price", "currency", "diff_pct",
          "reported_observation_id", "web_observation_id"], as_json=as_json, title="misreports")
