"""Policy distribution: the prices in force for the partner (page, XLSX and PDF), the versions sent to it and the
acknowledgement of receipt (map scopes only); for the brand, who acknowledged which version and when.

Wording follows each scope's mode: in ``map`` the brand's unilateral advertised-price policy, whose
receipt (never agreement) is acknowledged; in ``maximum`` a cap; in ``recommended`` information only;
``observe`` scopes are never shown to a partner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from pricewarden.errors import ExportError, NotFoundError
from store import User
from store.access import visible_partner_ids
from web.auth import MANAGERS, db, require
from web.i18n import N_
from web.labels import label
from web.pages.portal import PARTNER
from web.portal.pdf import html_to_pdf
from web.portal.policy import acknowledge, all_receipts, prices_in_force, receipts_for, sheet_xlsx
from web.render import NavItem, flash, page, render_html, translator

router = APIRouter()
NAV = [NavItem(N_("Prices in force"), "/portal/policy", PARTNER),
       NavItem(N_("Policy receipts"), "/policy/receipts", MANAGERS)]
PartnerUser = Annotated[User, Depends(require(*PARTNER))]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]


def _partner(user: User) -> object:
    if user.partner is None:
        raise NotFoundError("this account belongs to no partner")
    return user.partner


@router.get("/portal/policy")
def policy_page(request: Request, user: PartnerUser, session: Db) -> Response:
    """The prices in force for the partner now, the promotions and exemptions, the versions sent to it."""
    partner = _partner(user)
    sheet = prices_in_force(session, partner)  # type: ignore[arg-type]
    _ = translator(request)
    return page(request, "portal/policy.html", {
        "sheet": sheet, "receipts": receipts_for(session, user.partner_id or -1),
        "label": lambda code: label(_, code)})


@router.get("/portal/policy.xlsx")
def policy_xlsx(request: Request, user: PartnerUser, session: Db) -> Response:
    """The same sheet as an XLSX workbook (text cells typed as text)."""
    partner = _partner(user)
    sheet = prices_in_force(session, partner)  # type: ignore[arg-type]
    _ = translator(request)
    labels = {
        "sheet": _("Prices in force"), "title": _("Prices in force for %(partner)s", partner=sheet.partner),
        "version": _("Policy version"), "sha256": "SHA-256", "effective_from": _("In force from"),
        "tier": _("Tier"), "regions": _("Regions"),
        "note": _("MAP: the brand's unilateral minimum advertised price policy (not an agreement). Maximum: the "
                  "price cap. Recommended: for information only; you set your own prices."),
        "sku": _("SKU"), "product": _("Product"), "region": _("Region"), "mode": _("Mode"),
        "currency": _("Currency"), "price": _("Price"), "base_map": _("MAP before promotions"), "msrp": _("MSRP"),
        "max_discount_pct": _("Maximum discount %"), "windows": _("Promotions and exemptions"),
        "promotion": _("promotion"), "exemption": _("exemption"),
        "mode_map": label(_, "map"), "mode_maximum": label(_, "maximum"), "mode_recommended": label(_, "recommended"),
    }
    data = sheet_xlsx(sheet, labels)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="{sheet.partner}-prices-in-force.xlsx"'})


@router.get("/portal/policy.pdf")
def policy_pdf(request: Request, user: PartnerUser, session: Db) -> Response:
    """The same sheet printed to PDF by Chromium (the page's own table, in the partner's language)."""
    partner = _partner(user)
    sheet = prices_in_force(session, partner)  # type: ignore[arg-type]
    _ = translator(request)
    html = render_html(request, "portal/policy_print.html", {
        "sheet": sheet, "partner_name": getattr(partner, "name", sheet.partner), "label": lambda code: label(_, code)})
    session.commit()  # nothing more to read: end the transaction before Chromium starts
    try:
        data = html_to_pdf(html)
    except ExportError as exc:
        return page(request, "error.html", {"status": 503, "title": _("The PDF could not be made"),
                                            "detail": str(exc)}, status_code=503, headers={"Retry-After": "30"})
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{sheet.partner}-prices-in-force.pdf"'})


@router.post("/portal/policy/acknowledge")
def policy_acknowledge(request: Request, user: PartnerUser, session: Db,
                       version: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Acknowledge receipt of a version sent to the partner (map scopes): who, when and its SHA-256 are recorded."""
    _ = translator(request)
    if not version.isdigit():
        raise NotFoundError(f"no policy version {version!r}")
    receipt = acknowledge(session, user, int(version))
    session.commit()  # before the redirect: the request's own commit comes after the response is sent
    flash(request, "ok", _("Receipt of policy version %(version)s acknowledged.", version=receipt.version))
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/portal/policy", status_code=303)


@router.get("/policy/receipts")
def policy_receipts(request: Request, user: Manager, session: Db) -> Response:
    """For the brand: every version sent to a partner, whether receipt was asked and acknowledged, by whom."""
    _ = translator(request)
    return page(request, "portal/receipts.html", {
        "receipts": all_receipts(session, visible_partner_ids(session, user)), "label": lambda code: label(_, code)})


__all__ = ["router"]
