"""``pricewarden alerts send | retry | list | route | notice | digest``: the outbox from the command line.

No view ever shows an Apprise URL: rows name their target by index and hash (``target_ref``) and
errors are redacted before they are stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from pricewarden.console import console, emit_json, show

alerts_app = typer.Typer(help="Route, send and inspect alerts and partner notices.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NowOpt = Annotated[
    str | None, typer.Option("--now", help="Act as if it were this instant (ISO 8601, UTC if no offset); for replays.")
]


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` command group."""
    app.add_typer(alerts_app, name="alerts")


def _now(value: str | None) -> datetime:
    """``--now``, else the workspace's clock (``store._types.utcnow``: shifted in the demo, as every other instant)."""
    from pricewarden.errors import ConfigError
    from store._types import utcnow

    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--now: not an ISO 8601 instant: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@alerts_app.command("send")
def send(now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Queue alerts for open violations, escalate overdue ones, and deliver everything due."""
    from sqlalchemy import select

    from alerts import deliver_due, enqueue_for_violations, escalate_due
    from store import Violation, require_schema, session_scope

    instant = _now(now)
    require_schema()
    with session_scope() as session:
        open_ = list(session.scalars(select(Violation).where(Violation.status.in_(("open", "acknowledged")))))
        queued = enqueue_for_violations(session, open_, instant)
        escalated = escalate_due(session, instant)
        session.commit()
        delivered = deliver_due(session, instant)
    if as_json:
        emit_json({"queued": queued.as_dict(), "escalated": escalated.escalated, "delivery": delivered.as_dict()})
        return
    console.print(f"queued {queued.queued} (already queued {queued.already_queued}, for the digest "
                  f"{queued.to_digest}, rate-limited {queued.rate_limited}), escalated {escalated.escalated}",
                  highlight=False)
    for line in queued.refused + queued.no_target:
        console.print(f"  {line}", highlight=False, markup=False)
    console.print(delivered.summary(), highlight=False)


@alerts_app.command("retry")
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids to retry (default: every failed one).")] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue failed messages again and deliver everything due."""
    from alerts import deliver_due, retry_failed
    from store import require_schema, session_scope

    instant = _now(now)
    require_schema()
    with session_scope() as session:
        count = retry_failed(session, ids, instant)
        report = deliver_due(session, instant)
    if as_json:
        emit_json({"requeued": count, "delivery": report.as_dict()})
        return
    console.print(f"requeued {count}; {report.summary()}", highlight=False)


@alerts_app.command("digest")
def digest(now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Send today's digest to every recipient with open findings not alerted before."""
    from alerts import send_digests
    from store import require_schema, session_scope

    instant = _now(now)
    require_schema()
    with session_scope() as session:
        report = send_digests(session, instant)
    if as_json:
        emit_json(report.as_dict())
        return
    console.print(report.summary(), highlight=False)


@alerts_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="queued, sending, sent, failed or refused.")] = None,
    violation: Annotated[int | None, typer.Option("--violation", help="Only messages about this violation.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most rows shown, newest first.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """List outbox messages (targets by reference, errors redacted)."""
    from sqlalchemy import select

    from pricewarden.errors import ConfigError
    from store import AlertDelivery, DeliveryStatus, require_schema, session_scope

    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise ConfigError(f"--status must be one of {', '.join(s.value for s in DeliveryStatus)}")
    require_schema()
    with session_scope() as session:
        query = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
        if status:
            query = query.where(AlertDelivery.status == status)
        if violation is not None:
            query = query.where(AlertDelivery.violation_id == violation)
        records = [{
            "id": r.id, "kind": r.kind, "violation": r.violation_id, "recipient": r.recipient_label,
            "target": r.target_ref, "locale": r.locale, "status": r.status, "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at, "sent_at": r.sent_at, "subject": r.subject,
            "error": r.last_error, "refusal": r.refusal_reason, "key": r.idempotency_key,
        } for r in session.scalars(query)]
    show(records, ["id", "kind", "violation", "recipient", "target", "status", "attempts", "next_attempt_at",
                   "error", "refusal"], as_json=as_json, title="Outbox")


@alerts_app.command("route")
def route_cmd(
    violation_id: Annotated[int, typer.Argument(help="Violation id.")],
    as_json: JsonOpt = False,
) -> None:
    """Explain who gets alerts about a violation, at each escalation level, and why."""
    from alerts import route
    from pricewarden.console import print_table
    from pricewarden.errors import NotFoundError
    from store import Violation, require_schema, session_scope

    require_schema()
    with session_scope() as session:
        violation = session.get(Violation, violation_id)
        if violation is None:
            raise NotFoundError(f"no violation {violation_id}")
        plan = route(session, violation)
        data = plan.as_dict()
    if as_json:
        emit_json(data)
        return
    rows: list[tuple[object, ...]] = [(i, r["username"], r["level_name"], r["locale"], r["targets"], r["why"])
            for i, group in enumerate(data["levels"]) for r in group]
    rows += [("now", r["username"], "brought in", r["locale"], r["targets"], r["why"]) for r in data["brought_in"]]
    print_table(f"Route of violation {violation_id} ({data['kind']})",
                        ["step", "recipient", "as", "locale", "targets", "why"], rows)
    for note in data["notes"]:
        console.print(f"note: {note}", highlight=False, markup=False)


@alerts_app.command("notice")
def notice(
    violation_id: Annotated[int, typer.Argument(help="Violation id.")],
    by: Annotated[str, typer.Option("--by", help="Username of the manager who approves the notice.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve and send the formal notice to the partner (refused unless the scope is map or maximum)."""
    from alerts import approve_notice, deliver_due
    from pricewarden.errors import NoticeRefused
    from store import require_schema, session_scope

    instant = _now(now)
    require_schema()
    refused: NoticeRefused | None = None
    with session_scope() as session:
        try:
            rows = approve_notice(session, violation_id, by, instant)
        except NoticeRefused as exc:
            refused = exc  # the refusal and its audit entry are committed before we report it
            rows = []
        session.commit()
        report = deliver_due(session, instant, ids=[r.id for r in rows]) if rows else None
    if refused is not None:
        raise refused
    if as_json:
        emit_json({"queued": [r.id for r in rows], "delivery": report.as_dict() if report else None})
        return
    console.print(f"notice queued ({len(rows)} target(s)); {report.summary() if report else 'already queued'}",
                  highlight=False)
