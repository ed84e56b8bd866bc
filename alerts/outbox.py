"""The durable outbox: what to send to whom, queued in the database before anything is sent.

Every message is an :class:`~store.models.AlertDelivery` row whose ``idempotency_key`` is the
SHA-256 of (installation id, violation id, kind, escalation stage, recipient, target reference); the
column is unique, so a retry, a crash or a re-run can never queue the same message twice.

Partner-facing messages (formal notices, penalty steps) pass one gate, :func:`notice_refusal`,
both when they are queued and again when they are sent: a finding whose mode is not ``map`` or
``maximum``, or that is a deviation or an anomaly, is REFUSED whatever the caller. The refusal is
recorded (a ``refused`` row and an audit entry) and :class:`~pricewarden.errors.NoticeRefused` is
raised to a caller who asked for the notice explicitly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.render import deadline, render, violation_context
from alerts.routing import (
    ACTIONABLE_MODES,
    LEVEL_NAMES,
    Recipient,
    RoutingTable,
    load_routing,
    route,
    severity_rank,
)
from pricewarden.errors import AccessDenied, DeliveryError, NotFoundError, NoticeRefused
from store._types import utcnow
from store.audit import audit
from store.installation import installation_id
from store.models import AlertDelivery, DeliveryStatus, Partner, User, Violation, ViolationStatus
from store.secrets import target_ref

LIVE = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value, DeliveryStatus.SENT.value)
OPEN = (ViolationStatus.OPEN.value, ViolationStatus.ACKNOWLEDGED.value)
LEVEL_ZH = ("渠道经理", "区域后备负责人", "品牌经理")


def idempotency_key(violation_id: int | None, kind: str, stage: str, recipient: str, ref: str, *,
                    installation: str) -> str:
    """SHA-256 of what makes a message unique: installation, violation, kind, escalation stage, recipient, target.

    ``installation`` (:func:`store.installation.installation_id`) keeps two installations from ever
    sending one receiver the same key for their own violation 1.
    """
    raw = "\x1f".join([installation, "" if violation_id is None else str(violation_id), kind, stage, recipient,
                       ref])
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class EnqueueReport:
    """What :func:`enqueue_for_violations` did."""

    queued: int = 0
    already_queued: int = 0
    to_digest: int = 0
    rate_limited: int = 0
    no_target: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    escalated: int = 0
    held: list[int] = field(default_factory=list)  # violations whose partner notice waits for a confirmed price

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return dict(self.__dict__)


HELD = "held:"  # how a refusal that only waits for a confirmed price begins (detection.confirm.hold_reason)


def notice_refusal(violation: Violation) -> str | None:
    """Why a partner-facing notice or penalty for ``violation`` is not allowed, or ``None`` when it is."""
    if violation.kind != "violation" or violation.mode not in ACTIONABLE_MODES:
        return (f"refused: violation {violation.id} is a {violation.kind} in a '{violation.mode}' scope; only "
                "violations in map or maximum scopes allow a notice or penalty to a partner")
    from detection.confirm import hold_reason

    return hold_reason(violation)  # a price read by heuristics: confirmed first


def _settings() -> Any:
    from pricewarden.settings import get_settings

    return get_settings()


def _insert(session: Session, row: AlertDelivery) -> bool:
    """Add ``row`` unless its idempotency key exists; True when it was added."""
    if session.scalar(select(AlertDelivery.id).where(AlertDelivery.idempotency_key == row.idempotency_key)):
        return False
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another process queued the same key between our check and insert
        return False
    return True


def _already_told(session: Session, violation_id: int, user_id: int) -> bool:
    """True when the user was alerted (or digested) about the violation, or is about to be."""
    if session.scalar(select(AlertDelivery.id).where(
            AlertDelivery.violation_id == violation_id, AlertDelivery.recipient_user_id == user_id,
            AlertDelivery.kind.in_(("alert", "info", "escalation")), AlertDelivery.status.in_(LIVE)).limit(1)):
        return True
    digests = session.scalars(select(AlertDelivery.covers).where(
        AlertDelivery.kind == "digest", AlertDelivery.recipient_user_id == user_id, AlertDelivery.status.in_(LIVE)))
    return any(violation_id in (covers or []) for covers in digests)


def _recent_immediate(session: Session, user_id: int, now: datetime) -> int:
    """Violations the user got an immediate alert about in the hour before ``now``."""
    return session.scalar(select(func.count(func.distinct(AlertDelivery.violation_id))).where(
        AlertDelivery.recipient_user_id == user_id, AlertDelivery.kind.in_(("alert", "info")),
        AlertDelivery.status.in_(LIVE), AlertDelivery.created_at > now - timedelta(hours=1),
        AlertDelivery.created_at <= now)) or 0


def _queue_for_user(
    session: Session, violation: Violation, recipient: Recipient, *, kind: str, stage: str, now: datetime,
    table: RoutingTable, report: EnqueueReport, extra: dict[str, Any] | None = None,
) -> None:
    settings = _settings()
    user = session.get(User, recipient.user_id)
    if user is None:
        return
    urls = list(user.notification_urls or [])
    if not urls:
        report.no_target.append(f"{user.username}: no notification URLs; nothing queued for violation {violation.id}")
        return
    zone = table.zone_for(user.username, violation.region, settings.timezone)
    context = violation_context(session, violation, zone=zone, review_base_url=settings.alerts.review_base_url,
                                locale=user.locale)
    context.update(why=recipient.why, escalated=kind == "escalation", penalty=stage.startswith("penalty"),
                   level_name=LEVEL_NAMES[recipient.level], level_name_zh=LEVEL_ZH[recipient.level],
                   sla_hours=f"{table.sla_for(violation.severity, settings.alerts.ack_sla_hours):g}", **(extra or {}))
    template = "info" if kind == "info" else "alert"
    for index, url in enumerate(urls):
        ref = target_ref(index, url)
        key = idempotency_key(violation.id, kind, stage, f"user:{user.id}", ref, installation=installation_id(session))
        message = render(template, user.locale, {**context, "key": key})
        row = AlertDelivery(
            idempotency_key=key, kind=kind, violation_id=violation.id, recipient_user_id=user.id,
            recipient_label=user.username, target_ref=ref, escalation_step=violation.escalation_step,
            locale=user.locale or "en", subject=message.subject, body_text=message.text, body_html=message.html,
            attachments=[violation.screenshot_sha256] if violation.screenshot_sha256 else [],
            status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=now, created_at=now,
        )
        if _insert(session, row):
            report.queued += 1
        else:
            report.already_queued += 1


def _record_refusal(
    session: Session, violation: Violation, *, kind: str, stage: str, reason: str, actor: str, now: datetime,
) -> None:
    """Record a refused partner-facing message: a ``refused`` outbox row and an audit entry."""
    key = idempotency_key(violation.id, kind, stage, f"partner:{violation.partner_id or '-'}", "",
                          installation=installation_id(session))
    _insert(session, AlertDelivery(
        idempotency_key=key, kind=kind, violation_id=violation.id, recipient_partner_id=violation.partner_id,
        recipient_label=f"partner {violation.partner_id or '-'}", target_ref="",
        escalation_step=violation.escalation_step,
        status=DeliveryStatus.REFUSED.value, refusal_reason=reason, attempts=0, created_at=now,
    ))
    audit(session, actor=actor, action=f"alerts.{kind}_refused", entity_type="violation", entity_id=violation.id,
          after={"kind": kind, "stage": stage, "mode": violation.mode, "finding": violation.kind}, reason=reason)


def queue_notice(
    session: Session, violation: Violation, *, actor: str, now: datetime | None = None,
    table: RoutingTable | None = None,
) -> list[AlertDelivery]:
    """Queue the formal notice to the partner about ``violation``, or refuse it (recorded) and raise."""
    now = now or utcnow()
    stage = f"notice:{violation.escalation_step or 'manual'}"
    reason = notice_refusal(violation)
    if reason is not None:
        _record_refusal(session, violation, kind="notice", stage=stage, reason=reason, actor=actor, now=now)
        # Committed before raising, so that no caller can lose the record of a refusal by rolling back.
        session.commit()
        raise NoticeRefused(reason)
    partner = session.get(Partner, violation.partner_id) if violation.partner_id else None
    if partner is None:
        reason = f"refused: violation {violation.id} has no partner (seller is no partner): there is nobody to notify"
        _record_refusal(session, violation, kind="notice", stage=stage, reason=reason, actor=actor, now=now)
        # Committed before raising, so that no caller can lose the record of a refusal by rolling back.
        session.commit()
        raise NoticeRefused(reason)
    urls = list(partner.notice_urls or [])
    if not urls:
        raise DeliveryError(f"partner {partner.code} has no notice_urls: add one to partners.csv to send notices")
    settings = _settings()
    table = table if table is not None else load_routing()
    zone = table.zone_for(None, violation.region, settings.timezone)
    context = violation_context(session, violation, zone=zone, review_base_url=settings.alerts.review_base_url,
                                locale=partner.locale)
    context.update(step=violation.escalation_step or "formal notice",
                   deadline=deadline(now, settings.alerts.notice_deadline_days, zone))
    rows: list[AlertDelivery] = []
    for index, url in enumerate(urls):
        ref = target_ref(index, url)
        key = idempotency_key(violation.id, "notice", stage, f"partner:{partner.id}", ref,
                              installation=installation_id(session))
        message = render("notice", partner.locale, {**context, "key": key})
        row = AlertDelivery(
            idempotency_key=key, kind="notice", violation_id=violation.id, recipient_partner_id=partner.id,
            recipient_label=f"partner {partner.code}", target_ref=ref, escalation_step=violation.escalation_step,
            locale=partner.locale or "en", subject=message.subject, body_text=message.text, body_html=message.html,
            attachments=[violation.screenshot_sha256] if violation.screenshot_sha256 else [],
            status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=now, created_at=now,
        )
        if _insert(session, row):
            rows.append(row)
    if rows:
        audit(session, actor=actor, action="alerts.notice_queued", entity_type="violation", entity_id=violation.id,
              after={"partner": partner.code, "stage": stage, "targets": [r.target_ref for r in rows],
                     "deadline": context["deadline"], "subject": rows[0].subject})
    session.flush()
    return rows


def approve_notice(session: Session, violation_id: int, actor: str, now: datetime | None = None) -> list[AlertDelivery]:
    """A manager approves the formal notice to the partner; raises NoticeRefused when the mode forbids it."""
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFoundError(f"no violation {violation_id}")
    from store.access import check_partner, is_manager

    user = session.scalar(select(User).where(User.username == actor))
    if user is None or not is_manager(user):
        raise AccessDenied(f"{actor!r} is not an active manager: only managers may approve a notice")
    check_partner(session, user, violation.partner_id)  # a channel manager: only for its own partners
    return queue_notice(session, violation, actor=actor, now=now)


def enqueue_for_violations(
    session: Session, violations: list[Violation], now: datetime | None = None, table: RoutingTable | None = None,
) -> EnqueueReport:
    """Queue the alerts, information messages and ladder notices that ``violations`` call for.

    Severity at or above ``alerts.immediate_severity`` alerts at once (within the per-recipient hourly
    rate limit); the rest wait for the daily digest. A penalty step brings in the brand manager at
    once. A ladder step with ``notify_partner`` queues the formal notice, through the refusal gate
    (a refusal is recorded and reported here, not raised, so one finding cannot stop a batch).
    """
    now = now or utcnow()
    settings = _settings()
    table = table if table is not None else load_routing()
    report = EnqueueReport()
    threshold = severity_rank(settings.alerts.immediate_severity)
    for violation in violations:
        if violation.status not in OPEN:
            continue
        plan = route(session, violation, table)
        step = plan.step
        stage = f"step:{violation.escalation_step or '-'}"
        immediate = severity_rank(violation.severity) >= threshold
        brought = {r.user_id for r in plan.brought_in}
        for recipient in plan.recipients(0):
            penalty = recipient.user_id in brought
            if not immediate and not penalty:
                report.to_digest += 1
                continue
            if not penalty and _already_told(session, violation.id, recipient.user_id):
                report.already_queued += 1
                continue
            limit = settings.alerts.rate_limit_per_hour
            if not penalty and _recent_immediate(session, recipient.user_id, now) >= limit:
                report.rate_limited += 1  # left for the digest
                continue
            _queue_for_user(session, violation, recipient, kind=plan.kind,
                            stage=f"penalty:{step.name}" if penalty and step else stage,
                            now=now, table=table, report=report)
        if step is not None and (step.penalty or step.notify_partner):
            reason = notice_refusal(violation)
            if reason is not None and reason.startswith(HELD):
                report.held.append(violation.id)  # queued when the price is confirmed (detection.confirm)
            elif reason is not None:
                kind = "penalty" if step.penalty else "notice"
                _record_refusal(session, violation, kind=kind, stage=f"{kind}:{step.name}", reason=reason,
                                actor="pricewarden", now=now)
                report.refused.append(reason)
            elif step.notify_partner:
                try:
                    queue_notice(session, violation, actor="policy", now=now, table=table)
                except DeliveryError as exc:
                    report.no_target.append(str(exc))
    session.flush()
    return report


def escalate_due(session: Session, now: datetime | None = None, table: RoutingTable | None = None) -> EnqueueReport:
    """Escalate open, unacknowledged violations whose alert outlived the SLA of their severity."""
    now = now or utcnow()
    settings = _settings()
    table = table if table is not None else load_routing()
    report = EnqueueReport()
    firsts = session.execute(
        select(AlertDelivery.violation_id, func.min(AlertDelivery.created_at))
        .join(Violation, Violation.id == AlertDelivery.violation_id)
        .where(Violation.status == ViolationStatus.OPEN.value, Violation.kind == "violation",
               AlertDelivery.kind == "alert", AlertDelivery.status.in_(LIVE),
               # a snoozed violation does not escalate until its snooze ends
               or_(Violation.snoozed_until.is_(None), Violation.snoozed_until <= now))
        .group_by(AlertDelivery.violation_id)).all()
    for violation_id, first in firsts:
        violation = session.get(Violation, violation_id)
        if violation is None:
            continue
        plan = route(session, violation, table)
        hours = table.sla_for(violation.severity, settings.alerts.ack_sla_hours)
        level = min(len(plan.levels) - 1, int((now - first) / timedelta(hours=hours)))
        for k in range(1, level + 1):
            for recipient in plan.levels[k]:
                before = report.queued
                _queue_for_user(session, violation, recipient, kind="escalation",
                                stage=f"sla:{k}:{violation.escalation_step or '-'}", now=now, table=table,
                                report=report)
                report.escalated += report.queued - before
    session.flush()
    return report


def cancel_for_violation(session: Session, violation_id: int, reason: str) -> int:
    """Refuse every queued message about a resolved or dismissed violation; returns how many."""
    rows = session.scalars(select(AlertDelivery).where(
        AlertDelivery.violation_id == violation_id, AlertDelivery.status == DeliveryStatus.QUEUED.value)).all()
    for row in rows:
        row.status = DeliveryStatus.REFUSED.value
        row.refusal_reason = reason
        row.next_attempt_at = None
    session.flush()
    return len(rows)
