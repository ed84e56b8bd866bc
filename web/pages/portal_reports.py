"""Price reports in the partner portal: upload a CSV/XLSX through the same importer as ``pricewarden report
import`` (:func:`crawlers.reports.import_file`), the receipt on the spot (every rejected row with its reason),
the partner's template, past batches and their receipts."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import InvalidIdentifier, NotFoundError, ReportImportError
from store import ReportRejection, User
from web.auth import db, require
from web.evidence import evidence_store, read_checked
from web.i18n import N_
from web.pages.portal import PARTNER
from web.portal.listings import get_batch_for_user, partner_batches
from web.render import NavItem, flash, page, translator

router = APIRouter()
NAV = [NavItem(N_("Report prices"), "/portal/reports", PARTNER)]
PartnerUser = Annotated[User, Depends(require(*PARTNER))]
Db = Annotated[Session, Depends(db)]
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".json")
SHOWN_REJECTIONS = 1000


def _name(filename: str) -> str:
    """A safe base name for the uploaded file (the importer names the batch after it)."""
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:120]
    return base or "report.csv"


def _form(request: Request, session: Session, user: User, *, error: str | None = None,
          status_code: int = 200) -> Response:
    settings = request.app.state.settings
    return page(request, "portal/reports.html", {
        "batches": partner_batches(session, user), "error": error, "max_mb": settings.reports.max_file_mb,
        "suffixes": ", ".join(SUFFIXES)}, status_code=status_code)


@router.get("/portal/reports")
def reports(request: Request, user: PartnerUser, session: Db) -> Response:
    """The upload form, the template and the partner's past batches."""
    return _form(request, session, user)


@router.post("/portal/reports")
async def upload_report(request: Request, user: PartnerUser, session: Db,
                        report: Annotated[UploadFile | None, File()] = None) -> Response:
    """Import the uploaded report for the partner; then its receipt (a file already sent changes nothing)."""
    from crawlers.reports import import_file

    _ = translator(request)
    limit = request.app.state.settings.reports.max_file_mb << 20
    if report is None or not report.filename:
        return _form(request, session, user, status_code=400, error=_("Choose a file to upload."))
    name = _name(report.filename)
    if not name.lower().endswith(SUFFIXES):
        return _form(request, session, user, status_code=400, error=_(
            "%(file)s: only CSV, TSV, XLSX or JSON files are read. Nothing was imported.", file=name))
    partner = user.partner
    if partner is None:
        raise NotFoundError("this account belongs to no partner")
    with tempfile.TemporaryDirectory(prefix="pw-upload-") as folder:
        path = Path(folder) / name
        size = 0
        with path.open("wb") as handle:
            while chunk := await report.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    return _form(request, session, user, status_code=413, error=_(
                        "%(file)s is larger than %(mb)s MB. Nothing was imported.", file=name,
                        mb=limit >> 20))
                handle.write(chunk)
        try:
            result = import_file(path, partner.code, engine=request.app.state.engine, submitted_by=user.username)
        except (ReportImportError, InvalidIdentifier) as exc:
            return _form(request, session, user, status_code=400, error=_(
                "The file could not be read: %(why)s. Nothing was imported.", why=str(exc)))
    if result.duplicate:
        flash(request, "info", _("This file was already imported as batch %(id)s: nothing changed.",
                                 id=result.batch_id))
    else:
        flash(request, "ok", _("Imported: %(accepted)s rows accepted, %(rejected)s rejected of %(total)s.",
                               accepted=result.rows_accepted, rejected=result.rows_rejected, total=result.rows_total))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/portal/reports/{result.batch_id}", status_code=303)


@router.get("/portal/reports/template.xlsx")
def template(request: Request, user: PartnerUser, session: Db) -> Response:
    """The partner's report template (columns, an example row, instructions in its language)."""
    from crawlers.reports import write_template

    partner = user.partner
    if partner is None:
        raise NotFoundError("this account belongs to no partner")
    with tempfile.TemporaryDirectory(prefix="pw-template-") as folder:
        path = Path(folder) / f"{partner.code}-price-report.xlsx"
        write_template(partner.code, "xlsx", path)
        data = path.read_bytes()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="{partner.code}-price-report.xlsx"'})


@router.get("/portal/reports/{batch_id}")
def batch(request: Request, batch_id: int, user: PartnerUser, session: Db) -> Response:
    """A batch's receipt: its counts and every rejected row with the column and the reason."""
    found = get_batch_for_user(session, user, batch_id)
    rejections = list(session.scalars(select(ReportRejection).where(ReportRejection.batch_id == found.id)
                                      .order_by(ReportRejection.row_number).limit(SHOWN_REJECTIONS)))
    return page(request, "portal/batch.html", {"batch": found, "rejections": rejections,
                                               "shown": SHOWN_REJECTIONS})


@router.get("/portal/reports/{batch_id}/receipt.csv")
def receipt(request: Request, batch_id: int, user: PartnerUser, session: Db) -> Response:
    """The batch's receipt file (every row, accepted or rejected), verified against its SHA-256."""
    from store import Evidence
    from web.pages.evidence import _refused

    found = get_batch_for_user(session, user, batch_id)
    sha = found.receipt_sha256
    if not sha:
        return _refused(request, "missing")
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, sha), sha, "receipt")
    if data is None:
        return _refused(request, check.status)
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="receipt-batch{found.id}.csv"'})


__all__ = ["router"]
