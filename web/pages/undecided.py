"""The queue of undecided pages: each page whose price the cascade could not single out, with its
candidates; one click picks the right one, which becomes a price rule of the site (data in its
profile) that the next crawl uses.

Admins and brand managers see every page; a channel manager the pages of the partners they see
(:mod:`store.access`). A page leaves the queue when a person picks its price (or says none is right, with a reason)
or when a later crawl of the same listing decided it.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from pricewarden.errors import NotFoundError
from store import Evidence, Observation, Source, User, utcnow
from store.access import partner_filter
from store.audit import audit
from web.auth import MANAGERS, db, require
from web.evidence import evidence_store, read_checked
from web.i18n import N_
from web.render import NavItem, flash, page, translator

router = APIRouter()
NAV = [NavItem(N_("Undecided"), "/undecided", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
LIMIT = 200  # pages shown at once (the oldest wait for the next look)


def _pending(session: Session, user: User) -> Any:
    """Undecided observations nobody acted on, the latest of their listing, in the user's scope."""
    o = Observation
    later = aliased(Observation)
    newer = (select(later.id).where(later.listing_id == o.listing_id, later.source == Source.CRAWL.value,
                                    later.observed_at > o.observed_at).exists())
    return (select(o).where(o.undecided.is_(True), o.review.is_(None), ~newer)
            .where(partner_filter(session, user, o.partner_id)))


def _get(session: Session, user: User, observation_id: int) -> Observation:
    """The undecided observation ``observation_id`` if ``user`` may see it (``NotFoundError`` otherwise)."""
    found = session.scalars(select(Observation).where(Observation.id == observation_id, Observation.undecided.is_(True))
                            .where(partner_filter(session, user, Observation.partner_id))).first()
    if found is None:
        raise NotFoundError(f"no undecided page {observation_id}")
    return found


def _site_clause(site: str) -> Any:
    escaped = site.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(Observation.url.like(f"http://{escaped}/%", escape="\\"),
               Observation.url.like(f"https://{escaped}/%", escape="\\"))


def _items(rows: list[Observation]) -> list[dict[str, Any]]:
    items = []
    for obs in rows:
        undecided = (obs.details or {}).get("undecided") or {}
        items.append({"obs": obs, "reason": undecided.get("reason", ""),
                      "candidates": list(enumerate(undecided.get("candidates") or []))})
    return items


def _show(request: Request, session: Session, user: User, *, site: str | None = None, error: str | None = None,
          status_code: int = 200) -> Response:
    query = _pending(session, user)
    if site:
        query = query.where(_site_clause(site))
    rows = list(session.scalars(query.order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(LIMIT)))
    return page(request, "undecided/list.html", {"items": _items(rows), "site": site or "", "error": error},
                status_code=status_code)


@router.get("/undecided")
def undecided_list(request: Request, user: Manager, session: Db, site: str | None = None) -> Response:
    """The undecided pages the user may see, newest first (``site``: one site's pages only)."""
    return _show(request, session, user, site=(site or "").strip().lower()[:255] or None)


@router.get("/undecided/{observation_id}/screenshot")
def undecided_screenshot(request: Request, observation_id: int, user: Manager, session: Db) -> Response:
    """The page's screenshot when it was rendered, verified against its SHA-256."""
    from web.pages.evidence import _refused

    obs = _get(session, user, observation_id)
    if not obs.screenshot_sha256:
        return _refused(request, "missing")
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, obs.screenshot_sha256),
                               obs.screenshot_sha256, "screenshot")
    if data is None:
        return _refused(request, check.status)
    return Response(data, media_type="image/png", headers={"cache-control": "private, max-age=3600"})


def _reread(html: bytes, obs: Observation, profile: Any, undecided_below: float) -> Decimal | None:
    from crawlers.extract import extract

    return extract(html, obs.url or "", profile=profile, undecided_below=undecided_below).price


@router.post("/undecided/{observation_id}/pick")
def pick(request: Request, observation_id: int, user: Manager, session: Db,
         candidate: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Pick candidate ``candidate`` as the page's price: a rule of the site, checked on the page, then audited."""
    from crawlers.extract.rules import NoRuleFound, derive_rule
    from crawlers.profiles import Profile, add_price_rule, find_profile, load_profiles

    _ = translator(request)
    obs = _get(session, user, observation_id)
    if obs.review is not None:
        return _show(request, session, user, status_code=409, error=_(
            "This page was already reviewed (%(review)s): nothing was changed.", review=obs.review))
    candidates = ((obs.details or {}).get("undecided") or {}).get("candidates") or []
    if not candidate.isdigit() or int(candidate) >= len(candidates):
        return _show(request, session, user, status_code=400, error=_("Pick one of the page's prices. Nothing was "
                                                                      "changed."))
    chosen = candidates[int(candidate)]
    try:
        amount = Decimal(str(chosen.get("price")))
    except InvalidOperation:
        return _show(request, session, user, status_code=400, error=_("Pick one of the page's prices. Nothing was "
                                                                      "changed."))
    data = None
    if obs.html_sha256:
        _check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, obs.html_sha256),
                                    obs.html_sha256, "html")
    if data is None:
        return _show(request, session, user, status_code=409, error=_(
            "The page's HTML is not in the evidence store (or no longer matches its SHA-256): no rule can be made "
            "from it. Nothing was changed."))
    settings = request.app.state.settings
    folder = settings.profiles_dir
    profile = find_profile(load_profiles(folder), obs.url or "")
    now = utcnow()
    try:
        rule = derive_rule(data, obs.url or "", amount, str(chosen.get("rawText") or ""), profile=profile,
                           by=user.username, at=now.isoformat(timespec="seconds"))
    except NoRuleFound:
        rule = None
    # The rule must decide this very page with the picked price before it is kept.
    trial = dataclasses.replace(profile or Profile(name="trial"), price_rules=(
        *(profile.price_rules if profile else ()), *([rule] if rule else [])))
    if rule is None or _reread(data, obs, trial, settings.crawl.undecided_below) != amount:
        return _show(request, session, user, status_code=409, error=_(
            "No selector reads exactly %(amount)s on this page, so no rule was made. Nothing was changed; add a "
            "price selector to the site's profile instead.", amount=str(amount)))
    path = add_price_rule(obs.url or "", rule, folder)
    review = {"picked": int(candidate), "price": str(amount), "selector": rule.selector, "profile": path.name,
              "by": user.username, "at": now.isoformat(timespec="seconds")}
    for row in _same_page(session, obs):
        row.review = "picked"
        row.details = {**(row.details or {}), "review": review}
    audit(session, actor=user.username, action="undecided.pick", entity_type="observation", entity_id=obs.id,
          before={"review": None}, after=review, reason=f"{obs.url}: {chosen.get('rawText')} is the price")
    # Committed before the redirect: the browser asks for the queue as soon as it has the answer.
    session.commit()
    flash(request, "ok", _("Rule saved for %(site)s: %(selector)s reads %(amount)s. The next crawl uses it.",
                           site=(obs.url or "").split("/")[2] if obs.url and "//" in obs.url else "",
                           selector=rule.selector, amount=str(amount)))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/undecided", status_code=303)


@router.post("/undecided/{observation_id}/dismiss")
def dismiss(request: Request, observation_id: int, user: Manager, session: Db,
            reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """None of the candidates is the price (a reason is needed): the page leaves the queue, audited, no rule made."""
    _ = translator(request)
    obs = _get(session, user, observation_id)
    if obs.review is not None:
        return _show(request, session, user, status_code=409, error=_(
            "This page was already reviewed (%(review)s): nothing was changed.", review=obs.review))
    if not reason.strip():
        return _show(request, session, user, status_code=400, error=_("A reason is needed. Nothing was changed."))
    review = {"dismissed": True, "reason": reason.strip(), "by": user.username,
              "at": utcnow().isoformat(timespec="seconds")}
    for row in _same_page(session, obs):
        row.review = "dismissed"
        row.details = {**(row.details or {}), "review": review}
    audit(session, actor=user.username, action="undecided.dismiss", entity_type="observation", entity_id=obs.id,
          before={"review": None}, after={"review": "dismissed"}, reason=reason.strip())
    session.commit()  # before the redirect (as for a pick)
    flash(request, "ok", _("Dismissed: none of the page's prices is the price. No rule was made."))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/undecided", status_code=303)


def _same_page(session: Session, obs: Observation) -> set[Observation]:
    """``obs`` and the other undecided readings of its listing nobody acted on."""
    others = session.scalars(select(Observation).where(
        Observation.undecided.is_(True), Observation.review.is_(None),
        Observation.listing_id == obs.listing_id if obs.listing_id is not None else Observation.id == obs.id))
    return {obs, *others}


__all__ = ["NAV", "router"]
