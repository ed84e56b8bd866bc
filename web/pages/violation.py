"""One violation: its numbers, the rule and why, the evidence (checked), the price history, the timeline,
and one small view per action (acknowledge, dismiss, resolve, reopen, assign, snooze, partner notice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from detection import confirm, lifecycle
from detection.queries import violation_dict
from pricewarden.errors import DeliveryError, InvalidTransition, NoticeRefused
from store import Evidence, User, Violation, utcnow
from store.access import get_violation_for_user, sees_violation
from web.auth import MANAGERS, db, require
from web.charts import violation_history
from web.evidence import EvidenceCheck, evidence_store, read_checked
from web.labels import label
from web.render import flash, page, translator, zone_of
from web.timeline import explain, timeline

router = APIRouter()
Manager = Annotated[User, Depends(require(*MANAGERS))]
Db = Annotated[Session, Depends(db, scope="function")]
Reason = Annotated[str, Form(max_length=2000)]


def _checks(request: Request, session: Session, v: Violation) -> list[EvidenceCheck]:
    store = evidence_store(request.app.state)
    found = []
    for sha, kind in ((v.screenshot_sha256, "screenshot"), (v.html_sha256, "html")):
        if sha:
            check, _data = read_checked(store, session.get(Evidence, sha), sha, kind)
            found.append(check)
    return found


def assignable(session: Session, v: Violation) -> list[User]:
    """Active managers who see ``v`` and so may take it."""
    users = session.scalars(select(User).where(User.active.is_(True), User.role.in_([str(r) for r in MANAGERS]))
                            .order_by(User.username))
    return [u for u in users if sees_violation(session, u, v)]


def notice_state(session: Session, v: Violation) -> str | None:
    """Why no partner notice can be sent for ``v``, or ``None`` when the control is offered."""
    from alerts import notice_refusal
    from alerts.outbox import HELD

    refusal = notice_refusal(v)
    if refusal is not None:
        return "unconfirmed" if refusal.startswith(HELD) else "mode"
    if v.partner is None:
        return "no_partner"
    if not v.partner.notice_urls:
        return "no_address"
    return None


def _show(request: Request, session: Session, user: User, v: Violation, *, error: str | None = None,
          status_code: int = 200) -> Response:
    _ = translator(request)
    zone = zone_of(request)
    checks = _checks(request, session, v)
    now = utcnow()
    return page(request, "violation/page.html", {
        "v": v, "d": violation_dict(v), "checks": checks, "label": lambda code: label(_, code),
        "explain": explain(session, v), "timeline": timeline(session, v, _, zone),
        "actions": sorted(lifecycle.MANUAL_TRANSITIONS.get(v.status, frozenset())),
        "reopenable": v.status in (lifecycle.RESOLVED, lifecycle.DISMISSED),
        "snoozed": v.snoozed_until is not None and v.snoozed_until > now,
        "snooze_max": request.app.state.settings.web.snooze_max_days,
        "assignees": assignable(session, v), "notice": notice_state(session, v), "error": error,
        "screenshot": next((c for c in checks if c.kind == "screenshot"), None),
        "archive": next((c for c in checks if c.kind == "html"), None),
        "confirmation": (v.details or {}).get("confirmation"), "waiting": v.confirmation in confirm.WAITING,
    }, status_code=status_code)


@router.get("/violations/{violation_id}")
def violation_page(request: Request, violation_id: int, user: Manager, session: Db) -> Response:
    """The violation, if the user may see it (404 otherwise, as if it did not exist)."""
    v = get_violation_for_user(session, user, violation_id)
    return _show(request, session, user, v)


@router.get("/violations/{violation_id}/history.json")
def history(request: Request, violation_id: int, user: Manager, session: Db) -> Response:
    """The price-history chart's series: this listing, the limit as it changed, the other sellers."""
    from policies import load_versions

    v = get_violation_for_user(session, user, violation_id)
    return JSONResponse(violation_history(session, v, load_versions(session)))


def _act(request: Request, session: Session, user: User, violation_id: int,
         change: Callable[[Violation], Any], done: str, *, nested: bool = True) -> Response:
    """Run ``change`` on the violation; on success back to its page with ``done``, else the page with why.

    ``nested=False`` for changes that commit a record of their own before failing (a refused notice).
    """
    v = get_violation_for_user(session, user, violation_id)
    try:
        if nested:
            with session.begin_nested():
                change(v)
        else:
            change(v)
    except (InvalidTransition, NoticeRefused, DeliveryError) as exc:
        session.refresh(v)
        return _show(request, session, user, v, error=_message(request, exc), status_code=409)
    flash(request, "ok", done)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/violations/{violation_id}", status_code=303)


def _message(request: Request, exc: Exception) -> str:
    _ = translator(request)
    text = str(exc)
    if isinstance(exc, NoticeRefused):
        return _("The notice was refused: %(why)s", why=text)
    if "needs a reason" in text:
        return _("A reason is needed. Nothing was changed.")
    if "is not allowed" in text or "only a resolved or dismissed" in text or "only an open or acknowledged" in text:
        return _("This violation is already %(status)s: nothing was changed. Reload the page to see its current "
                 "state.", status=label(_, text.split(": ", 1)[-1].split(" ")[0]) if ": " in text else "")
    return _("Nothing was changed: %(why)s", why=text)


def _transition(name: str) -> Callable[..., Response]:
    def view(request: Request, violation_id: int, user: Manager, session: Db, reason: Reason = "") -> Response:
        _ = translator(request)
        action = getattr(lifecycle, name)
        v = get_violation_for_user(session, user, violation_id)
        target = {"acknowledge": lifecycle.ACK, "dismiss": lifecycle.DISMISSED, "resolve": lifecycle.RESOLVED,
                  "reopen": lifecycle.OPEN}[name]
        if v.status == target:  # a double submit, or someone else was quicker
            return _show(request, session, user, v, status_code=409, error=_(
                "This violation is already %(status)s: nothing was changed.", status=label(_, v.status)))
        if name in ("dismiss", "reopen") and not reason.strip():
            return _show(request, session, user, v, status_code=400,
                         error=_("A reason is needed. Nothing was changed."))
        done = {"acknowledge": _("Acknowledged."), "dismiss": _("Dismissed as a false positive."),
                "resolve": _("Resolved."), "reopen": _("Reopened.")}[name]
        return _act(request, session, user, violation_id,
                    lambda v: action(session, v.id, user, reason=reason.strip() or None), done)

    view.__name__ = f"violation_{name}"
    view.__doc__ = f"{name.title()} the violation (audited)."
    return view


for _name in ("acknowledge", "dismiss", "resolve", "reopen"):
    router.add_api_route(f"/violations/{{violation_id}}/{_name}", _transition(_name), methods=["POST"],
                         name=f"violation_{_name}")


@router.post("/violations/{violation_id}/assign")
def assign(request: Request, violation_id: int, user: Manager, session: Db,
           assignee: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Give the follow-up to a manager who sees the violation (empty: nobody)."""
    _ = translator(request)
    v = get_violation_for_user(session, user, violation_id)
    who = None
    if assignee:
        who = next((u for u in assignable(session, v) if u.username == assignee), None)
        if who is None:
            return _show(request, session, user, v, status_code=400, error=_(
                "%(name)s cannot take this violation. Nothing was changed.", name=assignee))
    done = _("Assigned to %(name)s.", name=who.display_name or who.username) if who else _("Unassigned.")
    return _act(request, session, user, violation_id, lambda v: lifecycle.assign(session, v.id, user, who), done)


@router.post("/violations/{violation_id}/snooze")
def snooze(request: Request, violation_id: int, user: Manager, session: Db,
           days: Annotated[str, Form(max_length=10)] = "", reason: Reason = "") -> Response:
    """Snooze for a number of days (bounded by ``web.snooze_max_days``); 0 ends the snooze."""
    _ = translator(request)
    v = get_violation_for_user(session, user, violation_id)
    limit = request.app.state.settings.web.snooze_max_days
    if not days.isdigit() or int(days) > limit:
        return _show(request, session, user, v, status_code=400, error=_(
            "Snooze for 1 to %(max)s days (0 ends a snooze). Nothing was changed.", max=limit))
    count = int(days)
    until: datetime | None = utcnow() + timedelta(days=count) if count else None
    done = _.ngettext("Snoozed for %(num)s day.", "Snoozed for %(num)s days.", count) if count else _("Snooze ended.")
    return _act(request, session, user, violation_id,
                lambda v: lifecycle.snooze(session, v.id, user, until, max_days=limit, reason=reason.strip() or None),
                done)


@router.post("/violations/{violation_id}/confirm")
def confirm_price(request: Request, violation_id: int, user: Manager, session: Db, reason: Reason = "") -> Response:
    """A manager confirms the price read (after looking at the evidence): partner-facing messages may follow."""
    _ = translator(request)
    v = get_violation_for_user(session, user, violation_id)
    if v.confirmation not in confirm.WAITING:
        return _show(request, session, user, v, status_code=409, error=_(
            "This price does not wait for a confirmation: nothing was changed."))
    return _act(request, session, user, violation_id,
                lambda v: confirm.confirm_by_person(session, v.id, user, reason.strip() or None),
                _("Price confirmed. The partner may now be told."))


@router.post("/violations/{violation_id}/notice")
def send_notice(request: Request, violation_id: int, user: Manager, session: Db) -> Response:
    """Queue the formal notice to the partner, where the scope's mode allows it (refused and recorded otherwise)."""
    from alerts import approve_notice

    _ = translator(request)
    queued: list[Any] = []

    def change(v: Violation) -> None:
        queued.extend(approve_notice(session, v.id, user.username))

    response = _act(request, session, user, violation_id, change, _("The notice to the partner is queued."),
                    nested=False)
    if response.status_code == 303 and not queued:
        request.scope["session"]["flash"] = [["info", _(
            "This notice was already queued for the partner; it is not sent twice.")]]
    return response


__all__ = ["router"]
