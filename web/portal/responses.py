"""A partner's response to one of its violations: ``corrected`` or ``dispute``, a comment, a screenshot.

:func:`respond` records it (``partner_responses``, the audit log, hence the violation's timeline),
alerts the responsible channel manager through the alert outbox, and queues the re-crawl of its listing
(:mod:`web.portal.jobs`, in the same transaction), which :func:`recrawl_response` runs: the crawl takes
seconds, the caller wakes a worker rather than waiting.
Only violations the partner may see (:func:`store.access.get_violation_for_user`: its own, in map or
maximum scopes) can be answered.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts.outbox import _insert, idempotency_key
from pricewarden.errors import InvalidTransition
from store import (
    AlertDelivery,
    DeliveryStatus,
    EvidenceStore,
    PartnerResponse,
    User,
    Violation,
    audit,
    installation_id,
    session_scope,
    utcnow,
)
from store.access import get_violation_for_user
from store.secrets import target_ref
from web.portal.jobs import check_partner_share, enqueue
from web.portal.recrawl import crawl_listing
from web.portal.uploads import Image

ACTIONS = ("corrected", "dispute")
MAX_COMMENT = 2000
OPEN = ("open", "acknowledged")


def respond(session: Session, user: User, violation_id: int, action: str, comment: str, *,
            screenshot: Image | None = None, evidence: EvidenceStore | None = None,
            settings: Any = None) -> PartnerResponse:
    """Record ``user``'s (a partner account) response to violation ``violation_id``.

    Raises :class:`~pricewarden.errors.NotFoundError` outside the partner's scope,
    :class:`~pricewarden.errors.InvalidTransition` for an unknown action, a dispute without a
    comment, or a violation that is no longer open, and :class:`~pricewarden.errors.PortalLimit` beyond the
    partner's share of the portal's crawls (:func:`web.portal.jobs.check_partner_share`).
    """
    v = get_violation_for_user(session, user, violation_id)
    if action not in ACTIONS:
        raise InvalidTransition(f"response {action!r} is not one of {', '.join(ACTIONS)}")
    comment = comment.strip()[:MAX_COMMENT]
    if action == "dispute" and not comment:
        raise InvalidTransition("a dispute needs a comment saying why")
    if v.status not in OPEN:
        raise InvalidTransition(f"violation {v.id} is {v.status}: only an open or acknowledged one can be answered")
    check_partner_share(session, v.partner_id if v.partner_id is not None else -1, settings, violation_id=v.id)
    sha = None
    if screenshot is not None:
        store = evidence or EvidenceStore.from_settings()
        sha = store.put(session, screenshot.data, kind="screenshot", content_type=screenshot.content_type,
                        compress=False)
    now = utcnow()
    response = PartnerResponse(violation_id=v.id, partner_id=v.partner_id, user_id=user.id, username=user.username,
                               action=action, comment=comment, screenshot_sha256=sha, created_at=now,
                               recrawl_status="queued" if v.listing_id else "none")
    session.add(response)
    session.flush()
    if response.recrawl_status == "queued":
        enqueue(session, "recrawl", response.id)  # committed with the response: a restart cannot lose it
    audit(session, actor=user.username, action=f"violation.partner_{action}", entity_type="violation",
          entity_id=v.id, after={"response": response.id, "action": action, "screenshot": sha,
                                 "partner": v.partner.code if v.partner else None}, reason=comment or None)
    alert_manager(session, v, response)
    return response


def _recipients(session: Session, v: Violation) -> list[User]:
    """The responsible channel manager (else the routing's first level: fallback or brand managers)."""
    from alerts.routing import route

    try:
        chosen = route(session, v).recipients(0)
    except Exception:  # a broken routing file must not lose the partner's response; the manager still sees it
        chosen = []
    users = [session.get(User, r.user_id) for r in chosen]
    return [u for u in users if u is not None and u.active]


def alert_manager(session: Session, v: Violation, response: PartnerResponse) -> int:
    """Queue a message about ``response`` to the violation's channel manager(s); the number queued."""
    from pricewarden.settings import get_settings

    base = get_settings().alerts.review_base_url.rstrip("/")
    link = f"{base}/violations/{v.id}"
    partner = v.partner.name if v.partner else "?"
    sku = v.product.sku if v.product else "?"
    queued = 0
    for user in _recipients(session, v):
        zh = (user.locale or "").lower().startswith("zh")
        if zh:
            what = "已更正价格" if response.action == "corrected" else "提出异议"
            subject = f"[PriceWarden] 合作伙伴 {partner} 对违规 {v.id}（{sku}）{what}"
            text = f"合作伙伴 {partner} 对违规 {v.id}（{sku}）{what}。\n说明：{response.comment or '（无）'}\n" \
                   f"已立即重新抓取该页面。\n{link}\n"
        else:
            what = "says the price is corrected" if response.action == "corrected" else "disputes the violation"
            subject = f"[PriceWarden] Partner {partner} {what}: violation {v.id} ({sku})"
            text = f"Partner {partner} {what} {v.id} ({sku}).\nComment: {response.comment or '(none)'}\n" \
                   f"The page is being re-crawled now.\n{link}\n"
        html = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line)
        for index, url in enumerate(user.notification_urls or []):
            ref = target_ref(index, str(url))
            key = idempotency_key(v.id, "response", f"response:{response.id}", f"user:{user.id}", ref,
                                  installation=installation_id(session))
            row = AlertDelivery(
                idempotency_key=key, kind="response", violation_id=v.id, recipient_user_id=user.id,
                recipient_label=user.username, target_ref=ref, locale=user.locale or "en", subject=subject,
                body_text=text, body_html=html, attachments=[response.screenshot_sha256] if response.screenshot_sha256
                else [], status=DeliveryStatus.QUEUED.value, attempts=0, next_attempt_at=response.created_at,
                created_at=response.created_at)
            queued += int(_insert(session, row))
    return queued


def recrawl_response(engine: Engine, response_id: int) -> dict[str, Any]:
    """Re-crawl the listing of response ``response_id`` now and record the outcome on the response.

    Run by a claimed job (:mod:`web.portal.jobs`); a response whose outcome is already recorded (a job
    retried after its process stopped just after recording it) is left as it is.
    """
    with session_scope(engine) as session:
        response = session.get(PartnerResponse, response_id)
        if response is None:
            return {"status": "missing"}
        if response.recrawl_status in ("done", "failed", "none"):
            return {"status": response.recrawl_status, "observation_id": response.observation_id}
        v = session.get(Violation, response.violation_id)
        listing_id = v.listing_id if v is not None else None
        if listing_id is None:
            response.recrawl_status = "none"
            return {"status": "none"}
        response.recrawl_status = "running"
    try:
        found = crawl_listing(engine, listing_id)
    except Exception as exc:
        return _record(engine, response_id, None, f"the re-crawl failed: {exc}"[:500])
    return _record(engine, response_id, found.observation_id, found.failure or "", ok=found.ok)


def fail_recrawl(engine: Engine, response_id: int, detail: str) -> dict[str, Any]:
    """Record that the re-crawl of response ``response_id`` failed for good (``detail``: why), on its timeline."""
    return _record(engine, response_id, None, detail)


def _record(engine: Engine, response_id: int, observation_id: int | None, detail: str, *,
            ok: bool = False) -> dict[str, Any]:
    with session_scope(engine) as session:
        response = session.get(PartnerResponse, response_id)
        if response is None:
            return {"status": "missing"}
        if observation_id is not None:
            response.observation_id = observation_id
        before = {"status": response.recrawl_status}
        response.recrawl_status = "done" if ok else "failed"
        response.recrawl_detail = detail
        response.finished_at = utcnow()
        audit(session, actor="pricewarden", action="violation.recrawled", entity_type="violation",
              entity_id=response.violation_id, before=before,
              after={"response": response.id, "status": response.recrawl_status,
                     "observation": response.observation_id},
              reason=response.recrawl_detail or None)
        return {"status": response.recrawl_status, "observation_id": response.observation_id}


__all__ = ["ACTIONS", "alert_manager", "fail_recrawl", "recrawl_response", "respond"]
