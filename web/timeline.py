"""What the violation page tells besides the numbers: the rule's explanation with the policy file's lines,
and the timeline of every observation, lifecycle event, alert and partner notice, with who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import NoRuleError, PolicyError
from store import AlertDelivery, AuditLog, Observation, PolicyVersion, User, Violation
from web.i18n import Translator
from web.labels import label

MAX_OBSERVATIONS = 200
CONTEXT_LINES = 1  # lines of the policy file shown around each line the explanation cites


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    at: datetime
    kind: str  # observation | lifecycle | alert | notice | refusal
    who: str
    text: str
    detail: str = ""
    link: str = ""  # an app path shown with the event (a partner's screenshot)


def explain(session: Session, v: Violation) -> dict[str, Any] | None:
    """The rule in force at the violation's last sighting, its chain of reasons, and the cited file lines."""
    from policies import load_versions, resolve

    if v.product is None or not v.region:
        return None
    versions = load_versions(session)
    partner = v.partner
    try:
        rule = resolve(versions, sku=v.product.sku, category=v.product.category,
                       partner_code=partner.code if partner else None, tier=partner.tier if partner else None,
                       region=v.region, at=v.last_seen_at)
    except (NoRuleError, PolicyError) as exc:
        return {"error": str(exc)}
    row = session.scalars(select(PolicyVersion).where(PolicyVersion.version == rule.version)).first()
    lines = row.source_text.splitlines() if row is not None else []
    cited = sorted({s.line for s in rule.explanation if s.line} | {rule.rule_line})
    shown: list[tuple[int, str, bool, bool]] = []
    wanted = sorted({n for line in cited for n in range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1)
                     if 1 <= n <= len(lines)})
    for i, n in enumerate(wanted):
        shown.append((n, lines[n - 1], n in cited, i > 0 and n != wanted[i - 1] + 1))
    return {
        "rule": rule, "steps": [s.as_dict() for s in rule.explanation], "lines": shown,
        "file": row.source_file if row is not None else "", "sha256": row.source_sha256 if row is not None else "",
        "effective_from": rule.effective_from, "version": rule.version,
    }


def timeline(session: Session, v: Violation, _: Translator, zone: ZoneInfo) -> list[Event]:
    """Every event of the violation, newest first."""
    events: list[Event] = []
    start = v.first_seen_at - timedelta(days=3)
    end = (v.resolved_at or v.last_seen_at) + timedelta(days=3)
    own = (Observation.listing_id == v.listing_id) if v.listing_id is not None else (
        Observation.seller_id == v.seller_id)
    observations = session.scalars(select(Observation).where(
        Observation.product_id == v.product_id, own, Observation.observed_at >= start,
        Observation.observed_at <= end).order_by(Observation.observed_at.desc()).limit(MAX_OBSERVATIONS))
    for o in observations:
        price = f"{o.raw_text or o.price} ({o.price} {o.currency})" if o.price is not None else _("no price")
        marks = []
        if o.id == v.first_observation_id:
            marks.append(_("first breach"))
        if o.id == v.last_observation_id:
            marks.append(_("latest breach"))
        events.append(Event(o.observed_at, "observation", o.source,
                            _("Observed %(price)s", price=price) + (f" · {', '.join(marks)}" if marks else ""),
                            o.url or ""))
    for entry in session.scalars(select(AuditLog).where(AuditLog.entity_type == "violation",
                                                        AuditLog.entity_id == str(v.id)).order_by(AuditLog.id)):
        action = entry.action.split(".", 1)[-1]
        text = {
            "acknowledged": _("Acknowledged"), "dismissed": _("Dismissed as a false positive"),
            "resolved": _("Resolved"), "reopened": _("Reopened"), "assigned": _("Assigned to %(name)s",
                                                                             name=entry.after.get("assignee") or "–"),
            "snoozed": _("Snoozed until %(until)s", until=_until(entry.after.get("snoozed_until"), zone)),
            "unsnoozed": _("Snooze ended"), "notice_queued": _("Notice to the partner queued"),
            "notice_refused": _("Notice to the partner refused"),
            "partner_corrected": _("The partner says the price is corrected"),
            "partner_dispute": _("The partner disputes the violation"),
            "recrawled": _("Page checked again after the partner's response: %(status)s",
                           status=label(_, f"recrawl_{entry.after.get('status')}")),
        }.get(action, entry.action)
        kind = "notice" if "notice" in action else "partner" if action.startswith(("partner_", "recrawled")) \
            else "lifecycle"
        link = ""
        detail = entry.reason or ""
        if action.startswith("partner_") and entry.after.get("screenshot"):
            link = f"/violations/{v.id}/responses/{entry.after.get('response')}/screenshot"
        if action == "recrawled" and entry.after.get("observation"):
            # The re-crawl's price, whenever it was read (it may lie outside the observations' window).
            seen = session.get(Observation, entry.after["observation"])
            if seen is not None:
                detail = _("Observed %(price)s", price=f"{seen.raw_text or seen.price} ({seen.price} {seen.currency})"
                           if seen.price is not None else _("no price"))
        events.append(Event(entry.at, kind, entry.actor, text, detail, link))
    users = {u.id: u.username for u in session.scalars(select(User))}
    for d in session.scalars(select(AlertDelivery).where(AlertDelivery.violation_id == v.id)
                             .order_by(AlertDelivery.id)):
        who = d.recipient_label or users.get(d.recipient_user_id or -1, "")
        kind = "notice" if d.kind == "notice" else "refusal" if d.status == "refused" else "alert"
        status = label(_, d.status) if d.status in ("sent", "failed") else d.status
        text = _("%(kind)s to %(who)s: %(status)s", kind=d.kind, who=who, status=status)
        detail = d.refusal_reason or d.last_error or d.subject
        events.append(Event(d.sent_at or d.created_at, kind, "pricewarden", text, detail or ""))
    events.append(Event(v.first_seen_at, "lifecycle", "detection",
                        _("Opened by detection (episode %(n)s of this breach)", n=v.repeat_number)))
    manual = any(e.kind == "lifecycle" and e.who != "detection" and e.text == _("Resolved") for e in events)
    if v.resolved_at is not None and v.status == "resolved" and not manual:
        events.append(Event(v.resolved_at, "lifecycle", "detection", _("Resolved: %(why)s", why=v.status_reason or "")))
    return sorted(events, key=lambda e: e.at, reverse=True)


def _until(value: Any, zone: ZoneInfo) -> str:
    if not value:
        return "–"
    try:
        return datetime.fromisoformat(str(value)).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    except ValueError:
        return str(value)


__all__ = ["Event", "explain", "timeline"]
