"""Complaints (价格投诉与反馈): a partner reports another seller's price; the page is crawled at once.

:func:`file_complaint` checks the URL against the network policy (http(s), no private or metadata
address unless allowed) and records the complaint with its job (:mod:`web.portal.jobs`);
:func:`run_complaint` (the job) reads the page as a
product page in a crawl process (:func:`crawlers.discovery.crawl_pages`), matches it to the catalog
(:func:`crawlers.discovery.record`: GTIN, MPN, title; an unknown page becomes a discovered listing that
later crawls watch), crawls that listing like any other (:func:`web.portal.recrawl.crawl_listing`,
evidence and detection included) and records the outcome:

- ``violation``: an open violation on that listing (linked for the brand);
- ``compliant``: a price was read and nothing is in breach;
- ``not_our_product``: the page is a product page, but not one of the brand's;
- ``unreadable``: refused by the network policy, a crawl failure, or no product page.

The complaining partner is shown the outcome, the URL it gave and the price as shown on the page: what
anyone can see there, never which partner the seller is, nor the violation.
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pricewarden.errors import NotFoundError, RefusedError
from store import (
    Complaint,
    EvidenceStore,
    Listing,
    Observation,
    User,
    Violation,
    audit,
    session_scope,
    utcnow,
)
from web.portal.jobs import check_partner_share, enqueue
from web.portal.recrawl import crawl_budget, crawl_listing
from web.portal.uploads import Image

OUTCOMES = ("violation", "compliant", "not_our_product", "unreadable")
MAX_URL = 2000
MAX_COMMENT = 2000


def check_url(url: str, settings: Any = None) -> str:
    """``url`` stripped, if the network policy lets it be fetched (scheme, IP literal); else :class:`RefusedError`."""
    from crawlers.network import NetworkPolicy

    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise RefusedError(f"a URL of 1 to {MAX_URL} characters is needed", url=url[:100])
    NetworkPolicy.from_settings(settings).target(url)
    return url


def file_complaint(session: Session, user: User, url: str, comment: str, *, screenshot: Image | None = None,
                   evidence: EvidenceStore | None = None, settings: Any = None) -> Complaint:
    """Record a complaint by ``user`` (a partner account) about the price at ``url`` (audited).

    Raises :class:`RefusedError` when the network policy refuses the URL, and
    :class:`~pricewarden.errors.PortalLimit` beyond the partner's share of the portal's crawls
    (:func:`web.portal.jobs.check_partner_share`); nothing is stored then.
    """
    from crawlers.network import display_url

    if user.partner_id is None:
        raise NotFoundError("this account belongs to no partner")
    url = check_url(url, settings)
    check_partner_share(session, user.partner_id, settings)
    sha = None
    if screenshot is not None:
        store = evidence or EvidenceStore.from_settings()
        sha = store.put(session, screenshot.data, kind="screenshot", content_type=screenshot.content_type,
                        compress=False)
    complaint = Complaint(partner_id=user.partner_id, user_id=user.id, username=user.username, url=url,
                          comment=comment.strip()[:MAX_COMMENT], screenshot_sha256=sha, status="queued",
                          created_at=utcnow())
    session.add(complaint)
    session.flush()
    enqueue(session, "complaint", complaint.id)  # committed with the complaint: a restart cannot lose it
    # The URL as display_url shows it: a password or a token in it stays in the complaint, out of the log.
    audit(session, actor=user.username, action="complaint.filed", entity_type="complaint", entity_id=complaint.id,
          after={"status": "queued", "url": display_url(url), "screenshot": sha}, reason=complaint.comment or None)
    return complaint


def _refused_address(url: str) -> str | None:
    """Why the network policy refuses every address ``url``'s host resolves to, or ``None``."""
    from urllib.parse import urlsplit

    from crawlers.network import NetworkPolicy

    policy = NetworkPolicy.from_settings()
    try:
        _scheme, host, port = policy.target(url)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except RefusedError as exc:
        return str(exc)
    except OSError as exc:
        return f"{urlsplit(url).hostname}: {exc.strerror or exc}"
    reasons = [policy.refusal(host, str(info[4][0]), port) for info in infos]
    if reasons and all(reasons):
        return f"refused by the network policy: {reasons[0]}"
    return None


def _finish(engine: Engine, complaint_id: int, outcome: str, detail: str = "", **found: Any) -> dict[str, Any]:
    with session_scope(engine) as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            return {"status": "missing"}
        before = {"status": complaint.status}
        complaint.status, complaint.outcome, complaint.detail = "done", outcome, detail[:1000]
        for name, value in found.items():
            setattr(complaint, name, value)
        complaint.finished_at = utcnow()
        audit(session, actor="pricewarden", action="complaint.checked", entity_type="complaint",
              entity_id=complaint.id, before=before, after={"status": "done", "outcome": outcome, **found},
              reason=detail[:500] or None)
        return {"status": "done", "outcome": outcome, **found}


def fail_complaint(engine: Engine, complaint_id: int, detail: str) -> dict[str, Any]:
    """Record that complaint ``complaint_id``'s page could not be checked at all (``detail``: why)."""
    return _finish(engine, complaint_id, "unreadable", detail)


def run_complaint(engine: Engine, complaint_id: int) -> dict[str, Any]:
    """Crawl the page of complaint ``complaint_id`` now, match it to the catalog, judge it, record the outcome
    (run by a claimed job, :mod:`web.portal.jobs`)."""
    from crawlers.discovery import crawl_pages, record

    with session_scope(engine) as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            return {"status": "missing"}
        if complaint.status == "done":  # a job retried after its process stopped just after recording it
            return {"status": "done", "outcome": complaint.outcome}
        complaint.status = "running"
        url = complaint.url
        region = next(iter(sorted(str(r) for r in complaint.partner.regions or ())), None)
        listing_id = session.scalar(select(Listing.id).where(Listing.url == url))
    refused = _refused_address(url)
    if refused is not None:
        return _finish(engine, complaint_id, "unreadable", refused)
    if listing_id is None:
        try:
            pages = crawl_pages([url], max_pages=0, follow=False, timeout=crawl_budget())
        except Exception as exc:  # the crawl process died: the page could not be read
            return _finish(engine, complaint_id, "unreadable", f"the crawl failed: {exc}")
        if not pages:
            return _finish(engine, complaint_id, "unreadable",
                           "no product page with a price could be read at this address")
        with session_scope(engine) as session:
            found = record(session, pages)
            if not found or found[0].listing_id is None:
                return _finish(engine, complaint_id, "not_our_product",
                               f"the page shows {pages[0].get('title') or 'a product'!s:.200}, which is not in the "
                               "brand's catalog")
            listing_id = found[0].listing_id
            listing = session.get(Listing, listing_id)
            if listing is not None and listing.region is None:
                # The market the complaint comes from: without a region no scope (and no rule) applies.
                listing.region = region
    recrawl = crawl_listing(engine, listing_id)
    if not recrawl.ok:
        return _finish(engine, complaint_id, "unreadable", recrawl.failure or "", listing_id=listing_id)
    with session_scope(engine) as session:
        observation = session.get(Observation, recrawl.observation_id)
        shown = observation.raw_text if observation is not None else None
        finding = session.scalars(select(Violation).where(
            Violation.listing_id == listing_id, Violation.status.in_(("open", "acknowledged")))
            .order_by(Violation.kind != "violation", Violation.id.desc()).limit(1)).first()
        violation_id = finding.id if finding is not None else None
        breach = finding is not None and finding.kind == "violation"
    return _finish(engine, complaint_id, "violation" if breach else "compliant", recrawl.failure or "",
                   listing_id=listing_id, observation_id=recrawl.observation_id, violation_id=violation_id,
                   public_price=(shown or "")[:500] or None)


def complaints_of(session: Session, partner_id: int) -> list[Complaint]:
    """A partner's complaints, newest first."""
    return list(session.scalars(select(Complaint).where(Complaint.partner_id == partner_id)
                                .order_by(Complaint.id.desc())))


def get_complaint_for_partner(session: Session, user: User, complaint_id: int) -> Complaint:
    """Complaint ``complaint_id`` if ``user``'s partner filed it; otherwise :class:`NotFoundError`."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or user.partner_id is None or complaint.partner_id != user.partner_id:
        raise NotFoundError(f"complaint {complaint_id} does not exist")
    return complaint


def complaints_for_brand(session: Session, visible: set[int] | None, limit: int = 500) -> list[Complaint]:
    """Complaints the brand side may see: filed by a partner in ``visible`` (``None``: all), newest first."""
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if visible is not None:
        query = query.where(Complaint.partner_id.in_(sorted(visible) or [-1]))
    return list(session.scalars(query))


__all__ = ["OUTCOMES", "check_url", "complaints_for_brand", "complaints_of", "crawl_budget", "fail_complaint",
           "file_complaint", "get_complaint_for_partner", "run_complaint"]
