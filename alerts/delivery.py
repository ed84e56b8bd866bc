"""Sending the outbox through Apprise: claim, send, record; retries with exponential backoff.

Delivery guarantee: AT-LEAST-ONCE, made exactly-once at the receiver by the idempotency key.
A row is marked ``sending`` and committed *before* Apprise is called, and ``sent`` after. If the
process dies in between, nobody can know whether the receiver got the message; after the lease
(``alerts.sending_lease_seconds``) the row is sent again with the SAME key. The key travels with
every message: as the ``X-PriceWarden-Key`` header for webhooks (``json://``, ``form://``,
``xml://``) and e-mail (``mailto://``), and in the body footer for every service, so a receiver
drops a key it has already seen. Losing an alert is never acceptable; a duplicate that the
receiver can recognise is.

Apprise reports failure by returning ``False``; its log output during the call is captured as the
error text, with every part of the Apprise URL (which holds tokens and passwords) redacted.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from alerts.outbox import notice_refusal
from pricewarden.errors import PriceWardenError
from pricewarden.redaction import REDACTED, redact_notification_text
from store._types import utcnow
from store.audit import audit
from store.models import AlertDelivery, DeliveryStatus, Partner, User, Violation, ViolationStatus
from store.secrets import redact_apprise_url, target_ref

log = logging.getLogger(__name__)
KEY_HEADER = "X-PriceWarden-Key"
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
CRASH_HOOK = "PRICEWARDEN_TEST_CRASH_AFTER_SEND"  # tests only: SIGKILL between send and record


@dataclass
class DeliveryReport:
    """What one :func:`deliver_due` pass did, by outbox row id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)  # found in 'sending' past the lease: sent again
    errors: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return dict(self.__dict__)

    def summary(self) -> str:
        """One line for people."""
        return (f"sent {len(self.sent)}, retrying {len(self.retrying)}, failed {len(self.failed)}, "
                f"refused {len(self.refused)}, recovered after a crash {len(self.recovered)}")


def secret_parts(url: str) -> list[str]:
    """Every piece of an Apprise URL that may be a secret (whole URL, user, password, path, query values)."""
    parts: set[str] = {url}
    try:
        split = urlsplit(url)
    except ValueError:
        return [url]
    for piece in (split.username, split.password, split.netloc.rpartition("@")[0] or None, split.fragment or None):
        if piece:
            parts.update({piece, unquote(piece)})
    for segment in split.path.split("/"):
        if len(segment) >= 3:
            parts.update({segment, unquote(segment)})
    for _name, value in parse_qsl(split.query, keep_blank_values=False):
        if len(value) >= 3:
            parts.add(value)
    return sorted(parts, key=len, reverse=True)


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``**********`` and every URL in it cut to scheme and host."""
    return redact_notification_text(text, secrets)


_REQUEST_LINE = re.compile(r'"([A-Z]+) \S+ (HTTP/[\d.]+)"')


class _Redact(logging.Filter):
    """Rewrites Apprise's log records so that no handler, ours or the root's, ever sees a secret."""

    def __init__(self, secrets: list[str], *, collect: bool = True) -> None:
        super().__init__()
        self.secrets = secrets
        self.collect = collect  # keep Apprise's warnings as the error text of the send in progress
        self.lines: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact_text(record.getMessage(), self.secrets)
        if record.name.startswith("urllib3"):
            # The request line names the path, where notification services keep their tokens.
            message = _REQUEST_LINE.sub(rf'"\1 {REDACTED} \2"', message)
        record.msg, record.args = message, None
        if self.collect and record.levelno >= logging.WARNING and record.name.startswith("apprise"):
            self.lines.append(message)
        return True


# Apprise logs the URLs it loads and sends to, with parts of passwords and tokens ("h...2", "****",
# tokens in paths), at any time, not only while we send: every record of its logger and of
# urllib3's request log is rewritten, for good, as soon as alerts are imported.
_ALWAYS = _Redact([], collect=False)
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_ALWAYS)


# Loggers that may print a URL during a send (urllib3 logs the request path, where tokens live).
_NOISY = ("apprise", "urllib3", "requests", "requests_oauthlib")


@contextmanager
def _captured(secrets: list[str]) -> Iterator[_Redact]:
    # A logger's filters see only records created on that very logger, so every child gets one.
    names = {n for n in logging.root.manager.loggerDict if n.split(".")[0] in _NOISY}
    names.update(_NOISY, ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"))
    loggers = [logging.getLogger(name) for name in sorted(names)]
    flt = _Redact(secrets)
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield flt
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


def with_key(url: str, key: str) -> str:
    """The Apprise URL with the idempotency key as an ``X-PriceWarden-Key`` header, where the service has headers."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in HEADER_SCHEMES:
        return url
    return f"{url}{'&' if '?' in url else '?'}+{KEY_HEADER}={key}"


def backoff(attempts: int, first: float, longest: float) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures: doubling, capped."""
    return timedelta(seconds=min(longest, first * 2 ** max(0, attempts - 1)))


def _target_url(session: Session, row: AlertDelivery) -> str | None:
    urls: list[Any] = []
    if row.recipient_user_id is not None:
        user = session.get(User, row.recipient_user_id)
        urls = list(user.notification_urls or []) if user else []
    elif row.recipient_partner_id is not None:
        partner = session.get(Partner, row.recipient_partner_id)
        urls = list(partner.notice_urls or []) if partner else []
    for index, url in enumerate(urls):
        if target_ref(index, str(url)) == row.target_ref:
            return str(url)
    return None


def _gate(session: Session, row: AlertDelivery) -> str | None:
    """Why ``row`` must not be sent any more (refused), or ``None``."""
    if row.kind == "webhook":
        # An event says what happened: a resolved violation's "resolved" event is still sent.
        from alerts.webhooks import webhook_refusal

        return webhook_refusal(session, row)
    if row.violation_id is None:
        return None
    violation = session.get(Violation, row.violation_id)
    if violation is None:
        return "refused: the violation no longer exists"
    if row.kind in ("notice", "penalty") or row.recipient_partner_id is not None:
        reason = notice_refusal(violation)
        if reason is not None:
            return reason
    if violation.status in (ViolationStatus.RESOLVED.value, ViolationStatus.DISMISSED.value):
        return f"cancelled: violation {violation.id} was {violation.status} before delivery"
    if row.kind == "escalation" and violation.status == ViolationStatus.ACKNOWLEDGED.value:
        return f"cancelled: violation {violation.id} was acknowledged; escalation stopped"
    return None


def _attachments(row: AlertDelivery, folder: str) -> tuple[list[str], list[str]]:
    """Files (in ``folder``) holding the row's evidence, and notes for evidence that cannot be read.

    Files, not Apprise memory attachments: several plugins (form://) re-open ``attachment.path``.
    """
    if not row.attachments:
        return [], []
    from store.evidence import EvidenceStore

    store = EvidenceStore.from_settings()
    found: list[str] = []
    notes: list[str] = []
    for sha in row.attachments:
        try:
            data = store.get(str(sha))
        except PriceWardenError as exc:
            # An alert without its screenshot beats a lost alert; the text says the evidence is missing.
            notes.append(f"(screenshot {sha} could not be attached: {exc})")
            continue
        png = data[:8] == b"\x89PNG\r\n\x1a\n"
        path = os.path.join(folder, f"screenshot-{str(sha)[:12]}.png" if png else f"evidence-{str(sha)[:12]}.bin")
        with open(path, "wb") as handle:
            handle.write(data)
        found.append(path)
    return found, notes


def _send(url: str, row: AlertDelivery) -> tuple[bool, str | None]:
    """Send one row to one Apprise URL; (ok, redacted error text)."""
    import apprise

    secrets = secret_parts(url)
    target = with_key(url, row.idempotency_key)
    secrets = sorted({*secrets, *secret_parts(target)}, key=len, reverse=True)
    with _captured(secrets) as capture, tempfile.TemporaryDirectory(prefix="pw-alert-") as folder:
        client = apprise.Apprise()
        if not client.add(target):
            return False, f"not a valid Apprise URL ({redact_apprise_url(url)})"
        attach, notes = _attachments(row, folder)
        html = client[0].notify_format == apprise.NotifyFormat.HTML
        body = row.body_html if html and row.body_html else row.body_text
        if notes:
            body += ("<p>" + "<br>".join(notes) + "</p>") if html else "\n" + "\n".join(notes) + "\n"
        ok = bool(client.notify(
            body=body, title=row.subject,
            body_format=apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT,
            attach=apprise.AppriseAttachment(list(attach)) if attach else None,
        ))
    if os.environ.get(CRASH_HOOK) == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    if ok:
        return True, None
    error = "; ".join(capture.lines[-3:]) or "Apprise reported failure"
    return False, redact_text(error, secrets)[:1000]


def _claim(session: Session, row: AlertDelivery, now: datetime, lease: float) -> bool:
    """Mark the row ``sending`` (one more attempt, lease until now + lease) if nobody else did; commit."""
    result = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == row.id, AlertDelivery.status == row.status, AlertDelivery.attempts == row.attempts)
        .values(status=DeliveryStatus.SENDING.value, attempts=row.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease))
        .execution_options(synchronize_session=False))
    session.commit()
    session.refresh(row)
    return bool(getattr(result, "rowcount", 0) == 1)


def deliver_due(session: Session, now: datetime | None = None, *, ids: list[int] | None = None) -> DeliveryReport:
    """Send every queued message that is due, and every message a crashed sender left past its lease.

    A pass without ``ids`` first queues the webhook events that happened since the last one
    (:func:`alerts.webhooks.queue_webhook_events`).

    Commits ``session`` around each message (the outbox must be durable before and after a send).
    """
    from pricewarden.settings import get_settings

    settings = get_settings().alerts
    now = now or utcnow()
    report = DeliveryReport()
    query = select(AlertDelivery).where(or_(
        (AlertDelivery.status == DeliveryStatus.QUEUED.value)
        & (or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now)),
        (AlertDelivery.status == DeliveryStatus.SENDING.value) & (AlertDelivery.next_attempt_at <= now),
    )).order_by(AlertDelivery.id)
    if ids is not None:
        query = query.where(AlertDelivery.id.in_(ids))
    if ids is None:
        from alerts.webhooks import queue_webhook_events

        queue_webhook_events(session, now)
    session.commit()
    for row in list(session.scalars(query)):
        refusal = _gate(session, row)
        if refusal is not None:
            row.status, row.refusal_reason, row.next_attempt_at = DeliveryStatus.REFUSED.value, refusal, None
            if row.kind in ("notice", "penalty"):
                audit(session, actor="pricewarden", action=f"alerts.{row.kind}_refused", entity_type="violation",
                      entity_id=row.violation_id, after={"delivery": row.id}, reason=refusal)
            session.commit()
            report.refused.append(row.id)
            continue
        recovered = row.status == DeliveryStatus.SENDING.value
        if not _claim(session, row, now, settings.sending_lease_seconds):
            continue  # another sender has it
        if recovered:
            report.recovered.append(row.id)
            log.warning("outbox %s: sender died during an earlier attempt; sending again with the same key", row.id)
        url = _target_url(session, row) if row.kind != "webhook" else None
        error: str | None
        if row.kind == "webhook":
            from alerts.webhooks import send_webhook

            ok, error = send_webhook(session, row)
        elif url is None:
            ok, error = False, f"target {row.target_ref} is no longer configured for {row.recipient_label}"
            row.attempts = settings.max_attempts  # retrying cannot help: the URL is gone
        else:
            ok, error = _send(url, row)
        if ok:
            row.status, row.sent_at, row.next_attempt_at = DeliveryStatus.SENT.value, now, None
            row.last_error = "sent again after an interrupted attempt" if recovered else None
            report.sent.append(row.id)
            if row.kind == "notice":
                audit(session, actor="pricewarden", action="alerts.notice_sent", entity_type="violation",
                      entity_id=row.violation_id, after={"delivery": row.id, "target": row.target_ref,
                                                         "key": row.idempotency_key})
        else:
            row.last_error = error
            report.errors[row.id] = error or ""
            if row.attempts >= settings.max_attempts:
                row.status, row.next_attempt_at = DeliveryStatus.FAILED.value, None
                report.failed.append(row.id)
            else:
                row.status = DeliveryStatus.QUEUED.value
                delay = backoff(row.attempts, settings.backoff_seconds, settings.backoff_max_seconds)
                row.next_attempt_at = now + delay
                report.retrying.append(row.id)
        session.commit()
    return report


def retry_failed(session: Session, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Queue failed messages again (attempts reset); returns how many."""
    now = now or utcnow()
    query = select(AlertDelivery).where(AlertDelivery.status == DeliveryStatus.FAILED.value)
    if ids:
        query = query.where(AlertDelivery.id.in_(ids))
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.QUEUED.value, 0, now
    session.commit()
    return len(rows)
