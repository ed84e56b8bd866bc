"""Complaints (价格投诉与反馈): a partner reports another seller's price in the portal; the page is crawled at
once; the brand sees each case with its outcome and any violation it found.

The complaining partner sees the outcome, the URL it gave and the price as shown on that page: never
which partner the seller is, nor the violation (:mod:`web.portal.complaints`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from pricewarden.errors import NotFoundError, PortalLimit, RefusedError, UploadRefused
from store import Complaint, User
from store.access import sees_violation, visible_partner_ids
from web.auth import MANAGERS, db, require
from web.evidence import evidence_store
from web.i18n import N_
from web.labels import label
from web.pages.portal import PARTNER, limit_text, read_upload, serve_blob
from web.portal import jobs_of
from web.portal.complaints import (
    complaints_for_brand,
    complaints_of,
    file_complaint,
    get_complaint_for_partner,
)
from web.portal.uploads import MAX_SCREENSHOT_BYTES, check_screenshot
from web.render import NavItem, flash, page, translator

router = APIRouter()
NAV = [NavItem(N_("Complaints"), "/portal/complaints", PARTNER),
       NavItem(N_("Complaints"), "/complaints", MANAGERS)]
PartnerUser = Annotated[User, Depends(require(*PARTNER))]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]


def _list(request: Request, session: Session, user: User, *, error: str | None = None, url: str = "",
          comment: str = "", status_code: int = 200) -> Response:
    _ = translator(request)
    return page(request, "portal/complaints.html", {
        "complaints": complaints_of(session, user.partner_id or -1), "error": error, "url_value": url,
        "comment": comment, "max_mb": MAX_SCREENSHOT_BYTES >> 20, "label": lambda code: label(_, code)},
        status_code=status_code)


@router.get("/portal/complaints")
def complaints(request: Request, user: PartnerUser, session: Db) -> Response:
    """The complaint form and the partner's complaints with their outcomes."""
    return _list(request, session, user)


@router.post("/portal/complaints")
async def file(request: Request, user: PartnerUser, session: Db,
               url: Annotated[str, Form(max_length=2000)] = "", comment: Annotated[str, Form(max_length=2000)] = "",
               screenshot: Annotated[UploadFile | None, File()] = None) -> Response:
    """File a complaint about the price at a URL; the page is crawled at once (the network policy applies)."""
    _ = translator(request)
    upload = await read_upload(screenshot, MAX_SCREENSHOT_BYTES)
    try:
        image = check_screenshot(*upload) if upload is not None else None
        complaint = file_complaint(session, user, url, comment, screenshot=image,
                                   evidence=evidence_store(request.app.state), settings=request.app.state.settings)
    except PortalLimit as exc:
        session.rollback()
        return _list(request, session, user, status_code=429, url=url, comment=comment, error=limit_text(_, exc))
    except UploadRefused as exc:
        return _list(request, session, user, status_code=400, url=url, comment=comment, error=_(
            "The screenshot was not accepted: %(why)s. Nothing was sent.", why=str(exc)))
    except RefusedError as exc:
        return _list(request, session, user, status_code=400, url=url, comment=comment, error=_(
            "This address cannot be checked: %(why)s. Nothing was sent.", why=str(exc)))
    session.commit()  # the complaint and its job, before the worker looks for it
    jobs_of(request.app.state).wake(request.app.state.engine)
    flash(request, "ok", _("Thank you. The page is being checked now; the outcome shows here."))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/portal/complaints/{complaint.id}", status_code=303)


@router.get("/portal/complaints/{complaint_id}")
def complaint_page(request: Request, complaint_id: int, user: PartnerUser, session: Db) -> Response:
    """One of the partner's complaints: the URL, the outcome, the price as shown on the page."""
    _ = translator(request)
    found = get_complaint_for_partner(session, user, complaint_id)
    return page(request, "portal/complaint.html", {"c": found, "label": lambda code: label(_, code)})


def _brand_complaint(session: Session, user: User, complaint_id: int) -> Complaint:
    found = session.get(Complaint, complaint_id)
    visible = visible_partner_ids(session, user)
    if found is None or (visible is not None and found.partner_id not in visible):
        raise NotFoundError(f"complaint {complaint_id} does not exist")
    return found


@router.get("/complaints")
def brand_complaints(request: Request, user: Manager, session: Db) -> Response:
    """For the brand: the complaints of the partners the user sees, with their outcomes."""
    _ = translator(request)
    return page(request, "portal/brand_complaints.html", {
        "complaints": complaints_for_brand(session, visible_partner_ids(session, user)),
        "label": lambda code: label(_, code)})


@router.get("/complaints/{complaint_id}")
def brand_complaint(request: Request, complaint_id: int, user: Manager, session: Db) -> Response:
    """One complaint case: who filed it, the page, the outcome, the violation it found (if the user may see it)."""
    _ = translator(request)
    found = _brand_complaint(session, user, complaint_id)
    violation = None
    if found.violation_id is not None:
        from store import Violation

        candidate = session.get(Violation, found.violation_id)
        violation = candidate if candidate is not None and sees_violation(session, user, candidate) else None
    return page(request, "portal/brand_complaint.html", {"c": found, "violation": violation,
                                                         "label": lambda code: label(_, code)})


@router.get("/complaints/{complaint_id}/screenshot")
def brand_complaint_screenshot(request: Request, complaint_id: int, user: Manager, session: Db) -> Response:
    """The screenshot the partner attached to its complaint."""
    found = _brand_complaint(session, user, complaint_id)
    return serve_blob(request, session, found.screenshot_sha256, "screenshot")


__all__ = ["router"]
