"""The daily digest: one message per recipient listing the open findings not alerted before.

Findings below ``alerts.immediate_severity``, and those held back by the per-recipient rate limit,
wait here. A digest row lists the violations it carries in ``covers``, so a violation is digested
once and never alerted again to the same person afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.delivery import DeliveryReport, deliver_due
from alerts.outbox import _already_told, _insert, idempotency_key
from alerts.render import render, violation_context
from alerts.routing import Recipient, RoutingTable, load_routing, route
from store._types import utcnow
from store.installation import installation_id
from store.models import AlertDelivery, DeliveryStatus, User, Violation, ViolationStatus
from store.secrets import target_ref


def queue_digests(session: Session, now: datetime | None = None, table: RoutingTable | None = None) -> list[int]:
    """Queue today's digest for every recipient with open findings not yet alerted; returns the row ids."""
    from pricewarden.settings import get_settings

    settings = get_settings()
    now = now or utcnow()
    table = table if table is not None else load_routing()
    pending: dict[int, tuple[Recipient, list[Violation]]] = {}
    violations = session.scalars(select(Violation).where(Violation.status == ViolationStatus.OPEN.value)
                                 .order_by(Violation.id))
    for violation in violations:
        for recipient in route(session, violation, table).recipients(0):
            if _already_told(session, violation.id, recipient.user_id):
                continue
            pending.setdefault(recipient.user_id, (recipient, []))[1].append(violation)
    created: list[int] = []
    for user_id, (_recipient, items) in pending.items():
        user = session.get(User, user_id)
        if user is None or not user.notification_urls:
            continue
        zone = table.zone_for(user.username, None, settings.timezone)
        day = f"{now.astimezone(zone):%Y-%m-%d}"
        entries: list[dict[str, Any]] = []
        for violation in items:
            entry = violation_context(session, violation, zone=zone, review_base_url=settings.alerts.review_base_url,
                                      locale=user.locale)
            actionable = violation.kind == "violation" and violation.mode in ("map", "maximum")
            entry["kind"] = "alert" if actionable else "info"
            entries.append(entry)
        for index, url in enumerate(user.notification_urls):
            ref = target_ref(index, str(url))
            key = idempotency_key(None, "digest", day, f"user:{user.id}", ref, installation=installation_id(session))
            message = render("digest", user.locale, {"items": entries, "date": day, "key": key,
                                                     "recipient": user.display_name or user.username})
            row = AlertDelivery(
                idempotency_key=key, kind="digest", recipient_user_id=user.id, recipient_label=user.username,
                target_ref=ref, locale=user.locale or "en", subject=message.subject, body_text=message.text,
                body_html=message.html, covers=[v.id for v in items], status=DeliveryStatus.QUEUED.value,
                attempts=0, next_attempt_at=now, created_at=now,
            )
            if _insert(session, row):
                session.flush()
                created.append(row.id)
    session.commit()
    return created


def send_digests(session: Session, now: datetime | None = None, table: RoutingTable | None = None) -> DeliveryReport:
    """Queue the daily digests and deliver everything due."""
    now = now or utcnow()
    queue_digests(session, now, table)
    return deliver_due(session, now)
