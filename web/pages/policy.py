"""The price policy: published versions with their effective dates, each version's file, a diff of any two
versions, and the explain form (SKU, partner, instant → the rule in force and its chain of reasons), answered
by the same code as ``pricewarden policy explain``."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import NoRuleError, NotFoundError, PolicyError
from store import Partner, PolicyVersion, Product, User, utcnow
from store.access import get_partner_for_user, visible_partner_ids
from web.auth import MANAGERS, db, require
from web.i18n import N_
from web.labels import label
from web.render import NavItem, page, translator

router = APIRouter()
NAV = [NavItem(N_("Policy"), "/policy", MANAGERS)]
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
MAX_TEXT = 100


def _rows(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.version)))


def _in_force(session: Session) -> int | None:
    from policies import load_versions, version_in_force

    versions = load_versions(session)
    current = version_in_force(versions, utcnow()) if versions else None
    return current.version if current is not None else None


def _partners(session: Session, user: User) -> list[tuple[str, str]]:
    ids = visible_partner_ids(session, user)
    stmt = select(Partner.code, Partner.name).order_by(Partner.code)
    if ids is not None:
        stmt = stmt.where(Partner.id.in_(sorted(ids)))
    return [(str(c), str(n)) for c, n in session.execute(stmt)]


def _base(session: Session, user: User) -> dict[str, Any]:
    rows = _rows(session)
    return {"versions": rows, "in_force": _in_force(session), "partners": _partners(session, user)}


@router.get("/policy")
def policy_page(request: Request, user: Manager, session: Db) -> Response:
    """Versions with their effective dates, and the diff and explain forms."""
    return page(request, "policy/index.html", {**_base(session, user), "form": {}})


@router.get("/policy/versions/{version}")
def policy_version(request: Request, version: int, user: Manager, session: Db) -> Response:
    """One version's file exactly as published, with line numbers (``#L12`` links to line 12)."""
    row = session.scalars(select(PolicyVersion).where(PolicyVersion.version == version)).first()
    if row is None:
        raise NotFoundError(f"no policy version {version}")
    return page(request, "policy/version.html", {"row": row, "lines": row.source_text.splitlines()})


def _pick(_: Any, rows: list[PolicyVersion], name: str, raw: str, problems: list[str]) -> PolicyVersion | None:
    if not raw:
        return None
    found = next((r for r in rows if str(r.version) == raw.strip()), None)
    if found is None:
        problems.append(_("Version %(param)s: “%(value)s” is not a published version (published: %(allowed)s).",
                          param=name, value=raw[:20], allowed=", ".join(str(r.version) for r in rows) or "–"))
    return found


@router.get("/policy/diff")
def policy_diff(request: Request, user: Manager, session: Db, a: str = "", b: str = "") -> Response:
    """What changes from version ``a`` to version ``b`` (default: the latest against the one before it):
    rule by rule (stricter, looser, added, removed), and the files line by line."""
    from policies import diff_policies, load_versions

    _ = translator(request)
    rows = _rows(session)
    problems: list[str] = []
    new = _pick(_, rows, "b", b, problems) if b else (rows[-1] if rows else None)
    old = _pick(_, rows, "a", a, problems) if a else next((r for r in reversed(rows) if new is not None
                                                           and r.version < new.version), None)
    changes: list[dict[str, Any]] = []
    text: list[str] = []
    if not problems and (old is None or new is None):
        problems.append(_("A diff needs two published versions."))
    elif not problems and old is not None and new is not None:
        parsed = {v.version: v.policy for v in load_versions(session)}
        changes = [c.as_dict() for c in diff_policies(parsed[old.version], parsed[new.version])]
        text = list(difflib.unified_diff(old.source_text.splitlines(), new.source_text.splitlines(),
                                         f"v{old.version} {old.source_file}", f"v{new.version} {new.source_file}",
                                         lineterm="", n=2))
    return page(request, "policy/diff.html", {
        **_base(session, user), "old": old, "new": new, "changes": changes, "text": text, "problems": problems,
        "form": {"a": a, "b": b},
    }, status_code=400 if problems and (a or b) else 200)


@router.get("/policy/explain")
def policy_explain(request: Request, user: Manager, session: Db, sku: str = "", partner: str = "", at: str = "",
                   region: str = "") -> Response:
    """Which rule applied to a SKU for a partner at an instant, and why (each region of the partner unless one
    is given); a partner outside the user's scope is answered as unknown."""
    from policies import load_versions, resolve
    from policies.cli import parse_instant

    _ = translator(request)
    form = {"sku": sku.strip()[:MAX_TEXT], "partner": partner.strip()[:MAX_TEXT], "at": at.strip()[:40],
            "region": region.strip()[:20]}
    problems: list[str] = []
    results: list[dict[str, Any]] = []
    instant: datetime | None = None
    if form["sku"] or form["partner"]:
        versions = load_versions(session)
        found: Partner | None = None
        if not form["sku"]:
            problems.append(_("Give a SKU."))
        if not form["partner"]:
            problems.append(_("Give a partner."))
        else:
            try:
                found = get_partner_for_user(session, user, form["partner"])
            except NotFoundError:
                problems.append(_("No partner “%(code)s” in your scope.", code=form["partner"]))
        if not versions:
            problems.append(_("No policy version is published yet."))
        try:
            instant = parse_instant(form["at"], versions) if form["at"] else utcnow()
        except PolicyError:
            problems.append(_("“%(value)s” is not an instant: write it as 2026-11-27T00:00 (the policy's zone) or "
                              "with an offset, 2026-11-27T00:00-05:00.", value=form["at"]))
        if not problems and found is not None and instant is not None:
            product = session.scalars(select(Product).where(Product.sku == form["sku"])).first()
            regions = [form["region"]] if form["region"] else [str(r) for r in found.regions or []]
            if not regions:
                problems.append(_("Partner %(code)s has no region: choose one.", code=found.code))
            for r in regions:
                try:
                    rule = resolve(versions, sku=form["sku"], category=product.category if product else None,
                                   partner_code=found.code, tier=found.tier, region=r, at=instant)
                    results.append({"region": r, "rule": rule, "error": None})
                except (NoRuleError, PolicyError) as exc:
                    results.append({"region": r, "rule": None, "error": str(exc)})
    return page(request, "policy/explain.html", {
        **_base(session, user), "form": form, "problems": problems, "results": results, "instant": instant,
        "label": lambda c: label(_, c),
    }, status_code=400 if problems else 200)


__all__ = ["NAV", "router"]
