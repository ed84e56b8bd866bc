"""``pricewarden detect`` and ``pricewarden scorecard``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from pricewarden.errors import ConfigError, NotFoundError


def register(app: typer.Typer) -> None:
    """Add ``detect`` and ``scorecard`` to the root app."""
    app.command("detect")(detect_command)
    app.command("scorecard")(scorecard_command)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: give an ISO 8601 date or instant, e.g. 2026-05-01T00:00Z") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def detect_command(
    since: Annotated[str | None, typer.Option("--since", help="Judge only observations at or after this "
                                              "ISO instant (naive = UTC); default all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    anomalies: Annotated[bool, typer.Option("--anomalies/--no-anomalies",
                                            help="Also run the anomaly models.")] = True,
    retrain: Annotated[bool, typer.Option("--retrain", help="Train a new anomaly model version first.")] = False,
) -> None:
    """Judge observations against the policy in force at their instant and update the violations."""
    from detection.run import detect
    from pricewarden.console import console, emit_json, table
    from store import require_schema, session_scope

    require_schema()
    with session_scope() as session:
        summary = detect(session, since=_instant(since), anomalies=anomalies, retrain=retrain)
        data = summary.as_dict()
    if as_json:
        emit_json(data)
        return
    console.print(
        f"{data['observations']} observations, {data['judged']} judged, {data['compliant']} compliant: "
        f"[bold]{data['new_violations']}[/] new, {data['extended_violations']} extended, "
        f"{data['resolved_violations']} resolved violations; {data['new_deviations']} new deviations, "
        f"{data['new_anomalies']} new anomalies"
    )
    for title, key, label in (("By rule", "by_rule", "rule"), ("By partner or seller", "by_partner", "partner")):
        groups: dict[str, dict[str, int]] = data[key]
        if groups:
            rows = [[name, c.get("new", 0), c.get("extended", 0), c.get("resolved", 0)] for name, c in groups.items()]
            console.print(table(title, [label, "new", "extended", "resolved"], rows))


def scorecard_command(
    since: Annotated[str | None, typer.Option("--since", help="Observations at or after this instant.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Show what this user may see (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Partner scorecard: compliance rate, open violations and escalation, by partner, tier and region."""
    from sqlalchemy import select

    from detection.queries import scorecard
    from pricewarden.console import console, emit_json, table
    from store import User, require_schema, session_scope

    require_schema()
    with session_scope() as session:
        if user is None:
            viewer = User(username="cli", role="admin", active=True)
        else:
            found = session.scalars(select(User).where(User.username == user)).first()
            if found is None:
                raise NotFoundError(f"no user {user!r}")
            viewer = found
        card: dict[str, Any] = scorecard(session, viewer, _instant(since))
        session.expunge_all()
    if as_json:
        emit_json(card)
        return

    def pct(rate: float | None) -> str:
        return "" if rate is None else f"{rate * 100:.1f} %"

    console.print(table("Partners", ["partner", "tier", "regions", "judged", "compliance", "open", "escalation"],
                        [[p["partner"], p["tier"], ",".join(p["regions"]), p["judged"], pct(p["compliance_rate"]),
                          p["open_violations"], p["escalation_step"] or ""] for p in card["by_partner"]]))
    console.print(table("Tiers", ["tier", "judged", "compliance", "open"],
                        [[t["tier"], t["judged"], pct(t["compliance_rate"]), t["open_violations"]]
                         for t in card["by_tier"]]))
    console.print(table("Regions", ["region", "judged", "compliance"],
                        [[r["region"], r["judged"], pct(r["compliance_rate"])] for r in card["by_region"]]))
