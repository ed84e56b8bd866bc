"""The partner portal: a partner account's own listings and prices with their evidence, its violations in map
and maximum scopes with the notices it received, and its response to each (corrected / dispute).

Every route is for partner accounts only (``require(Role.PARTNER)``) and loads every object through
:mod:`web.portal` / :mod:`store.access`: another partner's anything, or anything of a ``recommended`` or
``observe`` scope, answers 404 exactly as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from pricewarden.errors import InvalidTransition, PortalLimit, UploadRefused
from store import Evidence, Role, User, Violation
from store.access import get_violation_for_user
from web.auth import db, require
from web.evidence import evidence_store, read_checked
from web.i18n import N_, Translator
from web.labels import label
from web.pages.evidence import ARCHIVE_CSP
from web.portal import jobs_of
from web.portal.listings import (
    get_listing_for_user,
    get_observation_for_user,
    listing_observations,
    notices_of,
    partner_listings,
    partner_violations,
    responses_of,
    violation_observations,
)
from web.portal.policy import receipts_for
from web.portal.responses import ACTIONS, respond
from web.portal.uploads import MAX_SCREENSHOT_BYTES, check_screenshot
from web.render import NavItem, flash, page, translator

router = APIRouter()
PARTNER = (Role.PARTNER.value,)
NAV = [NavItem(N_("My standing"), "/portal", PARTNER)]
PartnerUser = Annotated[User, Depends(require(*PARTNER))]
Db = Annotated[Session, Depends(db, scope="function")]


async def read_upload(upload: UploadFile | None, limit: int) -> tuple[str, bytes] | None:
    """The name and bytes of an optional upload, reading at most ``limit + 1`` bytes (more is refused later)."""
    if upload is None or not upload.filename:
        return None
    data = await upload.read(limit + 1)
    return upload.filename[:200], data


def serve_blob(request: Request, session: Session, sha: str | None, kind: str) -> Response:
    """Evidence ``sha`` checked against its SHA-256: an image, or archived HTML served sandboxed; else 404/409."""
    from web.pages.evidence import _refused

    if not sha:
        return _refused(request, "missing")
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, sha), sha, kind)
    if data is None:
        return _refused(request, check.status)
    if kind == "html":
        return Response(data, media_type="text/html", headers={
            "content-security-policy": ARCHIVE_CSP, "x-frame-options": "SAMEORIGIN", "cache-control": "private"})
    media = check.content_type if check.content_type.startswith("image/") else "image/png"
    return Response(data, media_type=media, headers={"cache-control": "private, max-age=3600"})


@router.get("/portal")
def portal_home(request: Request, user: PartnerUser, session: Db) -> Response:
    """The partner's standing: its listings with the latest price, its violations, policies awaiting receipt."""
    pending = [r for r in receipts_for(session, user.partner_id or -1) if r.ask_ack and r.acknowledged_at is None]
    return page(request, "portal/home.html", {
        "partner": user.partner, "listings": partner_listings(session, user),
        "violations": partner_violations(session, user), "pending": pending,
        "label": lambda code: label(translator(request), code),
    })


@router.get("/portal/listings/{listing_id}")
def portal_listing(request: Request, listing_id: int, user: PartnerUser, session: Db) -> Response:
    """One of the partner's listings: every price observed there, with its evidence."""
    listing = get_listing_for_user(session, user, listing_id)
    return page(request, "portal/listing.html", {"listing": listing,
                                                 "observations": listing_observations(session, listing)})


@router.get("/portal/observations/{observation_id}/screenshot")
def observation_screenshot(request: Request, observation_id: int, user: PartnerUser, session: Db) -> Response:
    """The screenshot taken when the partner's price was read, verified against its SHA-256."""
    observation = get_observation_for_user(session, user, observation_id)
    return serve_blob(request, session, observation.screenshot_sha256, "screenshot")


@router.get("/portal/observations/{observation_id}/archive")
def observation_archive(request: Request, observation_id: int, user: PartnerUser, session: Db) -> Response:
    """The partner's page as archived, sandboxed (its scripts never run), verified against its SHA-256."""
    observation = get_observation_for_user(session, user, observation_id)
    return serve_blob(request, session, observation.html_sha256, "html")


def _violation_page(request: Request, session: Session, user: User, v: Violation, *, error: str | None = None,
                    status_code: int = 200) -> Response:
    _ = translator(request)
    return page(request, "portal/violation.html", {
        "v": v, "notices": notices_of(session, v), "responses": responses_of(session, v),
        "observations": violation_observations(session, v), "actions": ACTIONS, "error": error,
        "answerable": v.status in ("open", "acknowledged"), "label": lambda code: label(_, code),
        "max_mb": MAX_SCREENSHOT_BYTES >> 20,
    }, status_code=status_code)


@router.get("/portal/violations/{violation_id}")
def portal_violation(request: Request, violation_id: int, user: PartnerUser, session: Db) -> Response:
    """One of the partner's violations (map or maximum scope): numbers, evidence, notices, responses."""
    v = get_violation_for_user(session, user, violation_id)
    return _violation_page(request, session, user, v)


@router.get("/portal/violations/{violation_id}/screenshot")
def violation_screenshot(request: Request, violation_id: int, user: PartnerUser, session: Db) -> Response:
    """The violation's screenshot, verified against its SHA-256."""
    v = get_violation_for_user(session, user, violation_id)
    return serve_blob(request, session, v.screenshot_sha256, "screenshot")


@router.get("/portal/violations/{violation_id}/archive")
def violation_archive(request: Request, violation_id: int, user: PartnerUser, session: Db) -> Response:
    """The violation's archived page, sandboxed, verified against its SHA-256."""
    v = get_violation_for_user(session, user, violation_id)
    return serve_blob(request, session, v.html_sha256, "html")


@router.get("/portal/responses/{response_id}/screenshot")
def response_screenshot(request: Request, response_id: int, user: PartnerUser, session: Db) -> Response:
    """A screenshot the partner attached to one of its responses."""
    from store import PartnerResponse

    found = session.get(PartnerResponse, response_id)
    v = get_violation_for_user(session, user, found.violation_id if found is not None else -1)
    return serve_blob(request, session, found.screenshot_sha256 if found and found.violation_id == v.id else None,
                      "screenshot")


def limit_text(_: Translator, exc: PortalLimit) -> str:
    """What a partner is told when its response or complaint is beyond its share (``exc.limit`` says which)."""
    if exc.limit == "violation":
        return _("This violation is still being checked after your last response: answer again when the check is "
                 "done. Nothing was sent.")
    if exc.limit == "waiting":
        return _("Several of your pages are still being checked: send this again when they are done. Nothing was "
                 "sent.")
    return _("You sent the most responses and complaints a day allows: send this again tomorrow. Nothing was sent.")


@router.post("/portal/violations/{violation_id}/respond")
async def portal_respond(request: Request, violation_id: int, user: PartnerUser, session: Db,
                         action: Annotated[str, Form(max_length=20)] = "",
                         comment: Annotated[str, Form(max_length=2000)] = "",
                         screenshot: Annotated[UploadFile | None, File()] = None) -> Response:
    """Answer the violation: corrected or dispute, a comment, an optional screenshot; the listing is re-crawled."""
    _ = translator(request)
    v = get_violation_for_user(session, user, violation_id)
    image = None
    upload = await read_upload(screenshot, MAX_SCREENSHOT_BYTES)
    try:
        if upload is not None:
            image = check_screenshot(*upload)
        response = respond(session, user, v.id, action, comment, screenshot=image,
                           evidence=evidence_store(request.app.state), settings=request.app.state.settings)
    except PortalLimit as exc:
        session.rollback()
        return _violation_page(request, session, user, v, status_code=429, error=limit_text(_, exc))
    except UploadRefused as exc:
        return _violation_page(request, session, user, v, status_code=400, error=_(
            "The screenshot was not accepted: %(why)s. Nothing was sent.", why=str(exc)))
    except InvalidTransition as exc:
        text = str(exc)
        if "needs a comment" in text:
            error = _("A dispute needs a comment saying why. Nothing was sent.")
        elif "is not one of" in text:
            error = _("Choose “corrected” or “dispute”. Nothing was sent.")
        else:
            error = _("This violation is no longer open: nothing was sent.")
        return _violation_page(request, session, user, v, status_code=400 if "is not" in text or "needs" in text
                               else 409, error=error)
    session.commit()  # the response and its job, before the worker looks for it
    if response.recrawl_status == "queued":
        jobs_of(request.app.state).wake(request.app.state.engine)
    flash(request, "ok", _("Your response was sent to the brand. The page is being checked again now."))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/portal/violations/{v.id}", status_code=303)


__all__ = ["PARTNER", "limit_text", "read_upload", "router", "serve_blob"]
