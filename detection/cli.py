"""``pricewarden detect``, ``pricewarden scorecard`` and ``pricewarden violations``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from pricewarden.errors import ConfigError, NotFoundError

violations_app = typer.Typer(help="List violations, deviations and anomalies; acknowledge, dismiss, resolve.",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``detect``, ``scorecard`` and ``violations`` to the root app."""
    app.command("detect")(detect_command)
    app.command("scorecard")(scorecard_command)
    app.add_typer(violations_app, name="violations")


def _viewer(session: Any, username: str | None) -> Any:
    """The user named ``username`` (``None``: an administrator's view, for the operator's shell)."""
    from sqlalchemy import select

    from store import User

    if username is None:
        return User(username="cli", role="admin", active=True)
    found = session.scalars(select(User).where(User.username == username)).first()
    if found is None:
        raise NotFoundError(f"no user {username!r}")
    return found


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
    full: Annotated[bool, typer.Option("--full", help="Judge the whole history again, not only what is new "
                                       "since the last run.")] = False,
) -> None:
    """Judge observations against the policy in force at their instant and update the violations.

    A run judges what is new since the last one (and what a policy change re-opens); the first run,
    ``--full`` and any change to the catalog, the detection settings or the anomaly model judge the
    whole history.
    """
    from detection.run import DETECT_STEPS, detect
    from pricewarden.console import console, emit_json, print_table
    from pricewarden.progress import progress
    from store import require_schema, session_scope

    require_schema()
    with progress("detect", len(DETECT_STEPS), unit="steps", enabled=not as_json) as bar, \
            session_scope() as session:
        summary = detect(session, since=_instant(since), anomalies=anomalies, retrain=retrain, full=full,
                         on_step=lambda number, text: bar.update(number, step=f"detect: {text}"))
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
            print_table(title, [label, "new", "extended", "resolved"], rows)


def scorecard_command(
    since: Annotated[str | None, typer.Option("--since", help="Observations at or after this instant.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Show what this user may see (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Partner scorecard: compliance rate, open violations and escalation, by partner, tier and region."""
    from detection.queries import scorecard
    from pricewarden.console import emit_json, print_table
    from store import require_schema, session_scope

    require_schema()
    with session_scope() as session:
        card: dict[str, Any] = scorecard(session, _viewer(session, user), _instant(since))
        session.expunge_all()
    if as_json:
        emit_json(card)
        return

    def pct(rate: float | None) -> str:
        return "" if rate is None else f"{rate * 100:.1f} %"

    print_table("Partners", ["partner", "tier", "regions", "judged", "compliance", "open", "escalation"],
                        [[p["partner"], p["tier"], ",".join(p["regions"]), p["judged"], pct(p["compliance_rate"]),
                          p["open_violations"], p["escalation_step"] or ""] for p in card["by_partner"]])
    print_table("Tiers", ["tier", "judged", "compliance", "open"],
                        [[t["tier"], t["judged"], pct(t["compliance_rate"]), t["open_violations"]]
                         for t in card["by_tier"]])
    print_table("Regions", ["region", "judged", "compliance"],
                        [[r["region"], r["judged"], pct(r["compliance_rate"])] for r in card["by_region"]])


@violations_app.command("list")
def list_command(
    status: Annotated[list[str] | None, typer.Option("--status", help="open, acknowledged, resolved, dismissed "
                                                     "(repeatable); default open and acknowledged.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="violation, deviation or anomaly.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="below_map, hidden_price, ...")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="Partner code.")] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="Product SKU.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Show what this user may see (default: all).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most rows shown.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Violations, deviations and anomalies, newest first, with their evidence."""
    from detection.queries import list_violations, violation_dict
    from pricewarden.console import show
    from store import require_schema, session_scope

    require_schema()
    filters = {"status": status or ["open", "acknowledged"], "kind": kind, "rule": rule, "partner": partner,
               "sku": sku, "limit": limit}
    with session_scope() as session:
        rows = [violation_dict(v) for v in list_violations(session, _viewer(session, user), filters)]
    show(rows, ["id", "kind", "rule", "status", "severity", "sku", "partner", "seller_id", "observed", "allowed",
                "gap_pct", "policy_version", "escalation_step", "last_seen_at"], as_json=as_json, title="violations")


def _transition(action: str, violation_id: int, user: str, reason: str | None, as_json: bool) -> None:
    from detection import lifecycle
    from detection.queries import violation_dict
    from pricewarden.console import console, emit_json
    from store import require_schema, session_scope

    require_schema()
    with session_scope() as session:
        actor = _viewer(session, user)
        changed = getattr(lifecycle, action)(session, violation_id, actor, reason=reason)
        data = violation_dict(changed)
    if as_json:
        emit_json(data)
    else:
        console.print(f"violation {violation_id}: {data['status']}")


UserOpt = Annotated[str, typer.Option("--user", help="Who acts (a user name); recorded in the audit log.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (required to dismiss).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the violation as JSON.")]


@violations_app.command("ack")
def ack_command(violation_id: int, user: UserOpt, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Acknowledge an open violation."""
    _transition("acknowledge", violation_id, user, reason, as_json)


@violations_app.command("dismiss")
def dismiss_command(violation_id: int, user: UserOpt, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Dismiss a violation as a false positive (a reason is required)."""
    _transition("dismiss", violation_id, user, reason, as_json)


@violations_app.command("resolve")
def resolve_command(violation_id: int, user: UserOpt, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Resolve an open or acknowledged violation by hand."""
    _transition("resolve", violation_id, user, reason, as_json)
