"""Webhooks: violation events turned into signed deliveries through the durable outbox.

:func:`queue_webhook_events` (run by every :func:`alerts.deliver_due` pass) turns what happened since
each subscription's watermarks into outbox rows (``kind="webhook"``): a new violation
(``violation.opened``), a status change in the audit log (``acknowledged``, ``dismissed``,
``resolved`` also when detection resolves it, ``reopened``) and an escalation alert
(``violation.escalated``). Only events about violations the subscription's token may see are
queued (:func:`store.access.sees_violation`, so a partner's hook never hears of the brand's own
analysis); a partner's hook is never told of internal escalations, nor who at the brand acted or
why. The idempotency key is per (subscription, event), so nothing is queued twice.

Each delivery is a POST of the JSON event, signed when it is sent (Stripe's scheme)::

    X-PriceWarden-Timestamp: 1767225600
    X-PriceWarden-Signature: v1=<hex HMAC-SHA256(secret, "1767225600." + body)>
    X-PriceWarden-Key: <the outbox idempotency key; the same on a retry>

sent under the network policy (:func:`crawlers.network.fetch_url`); a failure is retried by the
outbox with its backoff, exactly like an alert.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store._types import utcnow
from store.installation import installation_id
from store.models import AlertDelivery, ApiToken, AuditLog, DeliveryStatus, Partner, Role, User, Violation, Webhook

SIGNATURE_HEADER = "X-PriceWarden-Signature"
TIMESTAMP_HEADER = "X-PriceWarden-Timestamp"
AUDIT_EVENTS = {"violation.acknowledged": "violation.acknowledged", "violation.dismissed": "violation.dismissed",
                "violation.resolved": "violation.resolved", "violation.auto_resolved": "violation.resolved",
                "violation.reopened": "violation.reopened"}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of ``body`` sent at ``timestamp`` (epoch seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """The receiver's check: the signature matches and the timestamp is within ``tolerance`` seconds."""
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature.strip())


def watermarks(session: Session) -> dict[str, int]:
    """Where a new subscription starts: after everything that already happened."""
    return {"after_audit_id": session.scalar(select(func.max(AuditLog.id))) or 0,
            "after_violation_id": session.scalar(select(func.max(Violation.id))) or 0,
            "after_delivery_id": session.scalar(select(func.max(AlertDelivery.id))) or 0}


def _viewer(session: Session, token: ApiToken) -> User | None:
    """The user access checks run for on behalf of ``token`` (None: the token no longer acts)."""
    if token.revoked_at is not None:
        return None
    if token.kind == "integration":
        user = session.get(User, token.user_id) if token.user_id else None
        return user if user is not None and user.active else None
    if token.partner_id is None or session.get(Partner, token.partner_id) is None:
        return None
    return User(id=None, username=f"api:{token.prefix}", role=Role.PARTNER.value, partner_id=token.partner_id,
                active=True, regions=[])


def event_body(event: str, event_id: str, violation: Violation, at: datetime, actor: str | None,
               reason: str | None, partner_view: bool) -> dict[str, Any]:
    """The JSON of one event."""
    return {"id": event_id, "type": event, "created_at": at.isoformat(),
            "actor": "brand" if partner_view and actor not in (None, "detection") else actor,
            "reason": None if partner_view else reason,
            "violation": {"id": violation.id, "kind": violation.kind, "rule": violation.rule, "mode": violation.mode,
                          "status": violation.status, "severity": violation.severity,
                          "sku": violation.product.sku if violation.product else None,
                          "partner": violation.partner.code if violation.partner else None,
                          "observed_price": None if violation.observed_price is None else str(violation.observed_price),
                          "allowed_price": None if violation.allowed_price is None else str(violation.allowed_price),
                          "currency": violation.currency, "url": violation.url,
                          "escalation_step": violation.escalation_step,
                          "href": f"/api/v1/violations/{violation.id}"}}


def queue_webhook_events(session: Session, now: datetime | None = None) -> int:
    """Queue the deliveries of every active subscription's new events; returns how many were queued."""
    from alerts.outbox import _insert, idempotency_key
    from store.access import sees_violation

    now = now or utcnow()
    queued = 0
    installation = installation_id(session)
    for hook in list(session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id))):
        viewer = _viewer(session, hook.token)
        wanted = set(hook.events or ())
        events: list[tuple[str, str, int, datetime, str | None, str | None]] = []
        for v_id, created in session.execute(select(Violation.id, Violation.created_at)
                                             .where(Violation.id > hook.after_violation_id).order_by(Violation.id)):
            events.append(("violation.opened", f"opened:{v_id}", v_id, created, "detection", None))
            hook.after_violation_id = v_id
        for entry in session.scalars(select(AuditLog).where(AuditLog.id > hook.after_audit_id,
                                                            AuditLog.entity_type == "violation").order_by(AuditLog.id)):
            if entry.action in AUDIT_EVENTS and entry.entity_id.isdigit():
                events.append((AUDIT_EVENTS[entry.action], f"audit:{entry.id}", int(entry.entity_id), entry.at,
                               entry.actor, entry.reason))
            hook.after_audit_id = entry.id
        for row_id, about, stage, created in session.execute(
                select(AlertDelivery.id, AlertDelivery.violation_id, AlertDelivery.escalation_step,
                       AlertDelivery.created_at)
                .where(AlertDelivery.id > hook.after_delivery_id, AlertDelivery.kind == "escalation")
                .order_by(AlertDelivery.id)):
            if about is not None:
                # One event per violation and escalation stage, however many managers were brought in.
                events.append(("violation.escalated", f"escalated:{about}:{stage or '-'}", about, created, None,
                               None))
            hook.after_delivery_id = row_id
        if viewer is None:
            continue
        for event, event_id, v_id, at, actor, reason in events:
            violation = session.get(Violation, v_id)
            if event not in wanted or violation is None or not sees_violation(session, viewer, violation):
                continue
            if event == "violation.escalated" and viewer.role == Role.PARTNER:
                continue  # the brand's internal escalation to its own managers is not the partner's business
            body = event_body(event, event_id, violation, at, actor, reason, viewer.role == Role.PARTNER)
            key = idempotency_key(v_id, "webhook", event_id, f"webhook:{hook.id}", "", installation=installation)
            row = AlertDelivery(
                idempotency_key=key, kind="webhook", violation_id=v_id, webhook_id=hook.id,
                recipient_label=f"webhook {hook.id}", target_ref=f"webhook:{hook.id}", subject=event,
                body_text=json.dumps({**body, "idempotency_key": key}, ensure_ascii=False, sort_keys=True),
                status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=now, created_at=now)
            if _insert(session, row):
                queued += 1
    session.flush()
    return queued


def webhook_refusal(session: Session, row: AlertDelivery) -> str | None:
    """Why a webhook delivery must not be sent any more (its subscription or token is gone), or ``None``."""
    hook = session.get(Webhook, row.webhook_id) if row.webhook_id is not None else None
    if hook is None or not hook.active:
        return "cancelled: the webhook subscription was deleted"
    if _viewer(session, hook.token) is None:
        return "cancelled: the webhook's API token was revoked"
    return None


def send_webhook(session: Session, row: AlertDelivery) -> tuple[bool, str | None]:
    """POST ``row``'s event to its subscription, signed now; (ok, error) as the outbox expects."""
    from crawlers.network import fetch_url
    from pricewarden.errors import FetchError, RefusedError
    from pricewarden.settings import get_settings

    hook = session.get(Webhook, row.webhook_id) if row.webhook_id is not None else None
    if hook is None:
        return False, "the webhook subscription was deleted"
    settings = get_settings()
    body = row.body_text.encode()
    stamp = int(time.time())
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
               SIGNATURE_HEADER: sign(hook.secret, stamp, body), "X-PriceWarden-Key": row.idempotency_key,
               "X-PriceWarden-Event": row.subject}
    try:
        fetch_url(hook.url, lambda _chunk: None, timeout=settings.api.webhook_timeout, max_bytes=1 << 16,
                  user_agent="PriceWarden-Webhook/1", headers=headers, max_redirects=0, method="POST", body=body)
    except (FetchError, RefusedError) as exc:
        return False, str(exc)[:1000]
    return True, None


__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "event_body", "queue_webhook_events", "send_webhook", "sign",
           "verify", "watermarks", "webhook_refusal"]
