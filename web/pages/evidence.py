"""A violation's evidence, each blob checked against its SHA-256 before it is served.

The archived HTML is served from its own path with ``Content-Security-Policy: sandbox`` and no
script source, so the page shows as it was captured but nothing in it runs or reaches the app.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from store import Evidence, User
from store.access import get_violation_for_user
from web.auth import MANAGERS, db, require
from web.evidence import evidence_store, read_checked
from web.render import page, translator

router = APIRouter()
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db)]
# The archived page: no script, no network, no forms, no plugins; framed only by the app itself.
ARCHIVE_CSP = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
               "frame-ancestors 'self'")


def _blob(request: Request, session: Session, user: User, violation_id: int, kind: str) -> tuple[bytes | None, str]:
    v = get_violation_for_user(session, user, violation_id)
    sha = v.screenshot_sha256 if kind == "screenshot" else v.html_sha256
    if not sha:
        return None, "missing"
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, sha), sha, kind)
    return data, check.status


def _refused(request: Request, status: str) -> Response:
    _ = translator(request)
    if status == "mismatch":
        return page(request, "error.html", {"status": 409, "title": _("Evidence does not match its SHA-256"),
                                            "detail": _("The stored bytes were changed after capture; they are not "
                                                        "shown. Restore the evidence store from a backup.")},
                    status_code=409)
    return page(request, "error.html", {"status": 404, "title": _("Not found"),
                                        "detail": _("There is nothing at this address.")}, status_code=404)


@router.get("/violations/{violation_id}/screenshot")
def screenshot(request: Request, violation_id: int, user: Manager, session: Db) -> Response:
    """The screenshot, verified against its SHA-256."""
    data, status = _blob(request, session, user, violation_id, "screenshot")
    if data is None:
        return _refused(request, status)
    return Response(data, media_type="image/png", headers={"cache-control": "private, max-age=3600"})


@router.get("/violations/{violation_id}/archive")
def archive(request: Request, violation_id: int, user: Manager, session: Db) -> Response:
    """The archived HTML as captured, sandboxed (verified against its SHA-256)."""
    data, status = _blob(request, session, user, violation_id, "html")
    if data is None:
        return _refused(request, status)
    return Response(data, media_type="text/html", headers={
        "content-security-policy": ARCHIVE_CSP, "x-frame-options": "SAMEORIGIN", "cache-control": "private"})


@router.get("/violations/{violation_id}/responses/{response_id}/screenshot")
def response_screenshot(request: Request, violation_id: int, response_id: int, user: Manager, session: Db) -> Response:
    """A screenshot the partner attached to its response on the violation's timeline."""
    from store import PartnerResponse

    v = get_violation_for_user(session, user, violation_id)
    found = session.get(PartnerResponse, response_id)
    sha = found.screenshot_sha256 if found is not None and found.violation_id == v.id else None
    if not sha:
        return _refused(request, "missing")
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, sha), sha, "screenshot")
    if data is None:
        return _refused(request, check.status)
    media = check.content_type if check.content_type.startswith("image/") else "image/png"
    return Response(data, media_type=media, headers={"cache-control": "private, max-age=3600"})


__all__ = ["router"]
