"""The violations list: filters, sort, paging and text search in the URL; bulk actions; CSV and XLSX exports."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from detection import lifecycle
from detection.review import (
    CONFIRMATIONS,
    KINDS,
    SORTS,
    STATUSES,
    FilterProblem,
    ViolationQuery,
    iter_violations,
    known_regions,
    known_rules,
    known_steps,
    parse_query,
    search_violations,
)
from pricewarden.errors import AccessDenied, InvalidTransition, NotFoundError
from store import Partner, Tier, User
from store.access import partner_filter
from web.auth import MANAGERS, db, require
from web.exports import to_csv, to_xlsx
from web.i18n import N_, Translator
from web.labels import label
from web.render import ENV, NavItem, flash, page, translator

router = APIRouter()
NAV = [NavItem(N_("Violations"), "/violations", MANAGERS)]
EXPORT_LIMIT = 100_000
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]


def _query(request: Request, session: Session, user: User) -> tuple[ViolationQuery, list[FilterProblem]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return parse_query(session, user, params, per_page=request.app.state.settings.web.page_size)


def problem_text(_: Translator, problem: FilterProblem) -> str:
    """One line saying which filter value was not understood and what is allowed."""
    if problem.allowed and len(problem.allowed) <= 20:
        return _("Filter %(param)s: “%(value)s” is not known (allowed: %(allowed)s); it was ignored.",
                 param=problem.param, value=problem.value, allowed=", ".join(problem.allowed))
    return _("Filter %(param)s: “%(value)s” is not known; it was ignored.", param=problem.param, value=problem.value)


@lru_cache(maxsize=16)
def partner_options(partners: tuple[tuple[str, str], ...], chosen: tuple[str, ...]) -> Markup:
    """The partner filter's ``<option>``s: a thousand partners are most of the page's escaping, and they change
    rarely, so each (partners, choice) is rendered once per process (the key is the rows themselves, read each
    time: a renamed partner is a new key)."""
    html = ENV.get_template("violations/_partner_options.html").render(partners=partners, chosen=chosen)
    return Markup(html)  # noqa: S704 -- rendered by the autoescaping environment: every value in it is escaped


@router.get("/violations")
def violations_list(request: Request, user: Manager, session: Db) -> Response:
    """Violations the user may see, narrowed by the URL's filters."""
    _ = translator(request)
    query, problems = _query(request, session, user)
    result = search_violations(session, user, query, problems)
    partner_stmt = select(Partner.code, Partner.name).where(partner_filter(session, user, Partner.id)).order_by(
        Partner.code)
    options = {
        "status": STATUSES, "kind": KINDS, "confirmation": CONFIRMATIONS, "rule": known_rules(),
        "severity": lifecycle.SEVERITIES,
        "tier": tuple(t.value for t in Tier), "region": known_regions(session), "step": known_steps(session),
    }
    partners = tuple((str(code), str(name)) for code, name in session.execute(partner_stmt))
    return page(request, "violations/list.html", {
        "result": result, "query": result.query, "problems": [problem_text(_, p) for p in problems],
        "options": options, "partner_options": partner_options(partners, result.query.partner), "sorts": SORTS,
        "label": lambda code: label(_, code), "qs": lambda **changes: urlencode(result.query.params(**changes)),
        "export_qs": urlencode(result.query.params(page=1)),
    })


def _export(request: Request, session: Session, user: User) -> list:  # type: ignore[type-arg]
    query, _problems = _query(request, session, user)
    return list(iter_violations(session, user, query, EXPORT_LIMIT))


@router.get("/violations/export.csv")
def export_csv(request: Request, user: Manager, session: Db, sep: str = "comma") -> Response:
    """The filtered list as CSV; ``sep=semicolon`` for spreadsheets in comma-decimal locales."""
    semicolon = sep == "semicolon"
    data = to_csv(_export(request, session, user), semicolon=semicolon)
    name = "violations-semicolon.csv" if semicolon else "violations.csv"
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/violations/export.xlsx")
def export_xlsx(request: Request, user: Manager, session: Db) -> Response:
    """The filtered list as an XLSX workbook."""
    data = to_xlsx(_export(request, session, user))
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": 'attachment; filename="violations.xlsx"'})


@router.post("/violations/bulk")
def bulk(request: Request, user: Manager, session: Db,
         action: Annotated[str, Form(max_length=20)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
         ids: Annotated[list[int] | None, Form()] = None, back: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Acknowledge or dismiss the ticked violations (dismissing needs a reason); each change audited."""
    _ = translator(request)
    root = request.scope.get("root_path", "")
    target = root + "/violations" + (("?" + back) if back and not back.startswith(("/", "?")) else "")
    chosen = sorted(set(ids or []))[:500]
    if action not in ("acknowledge", "dismiss"):
        flash(request, "error", _("Choose acknowledge or dismiss."))
    elif not chosen:
        flash(request, "error", _("Tick at least one violation."))
    elif action == "dismiss" and not reason.strip():
        flash(request, "error", _("Dismissing needs a reason. Nothing was changed."))
    else:
        done, skipped = [], []
        act = lifecycle.acknowledge if action == "acknowledge" else lifecycle.dismiss
        for violation_id in chosen:
            try:
                with session.begin_nested():
                    act(session, violation_id, user, reason=reason.strip() or None)
                done.append(violation_id)
            except (InvalidTransition, AccessDenied, NotFoundError):
                skipped.append(violation_id)
        if done:
            message = (_.ngettext("%(num)s violation acknowledged.", "%(num)s violations acknowledged.", len(done))
                       if action == "acknowledge" else
                       _.ngettext("%(num)s violation dismissed.", "%(num)s violations dismissed.", len(done)))
            flash(request, "ok", message)
        if skipped:
            flash(request, "error", _("Left unchanged (already in that state, or not allowed): %(ids)s",
                                      ids=", ".join(f"#{i}" for i in skipped)))
    return RedirectResponse(target, status_code=303)


__all__ = ["NAV", "router"]
