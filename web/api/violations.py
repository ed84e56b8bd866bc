"""``/api/v1/violations``: listed by cursor, read with evidence links, and acted on by brand integrations.

A partner token sees its own violations in map and maximum scopes only (:func:`store.access.sees_violation`);
an integration token sees what its manager sees. The list is ordered by (``updated_at``, ``id``): a
violation that changes moves to the end, so an integration that keeps its last cursor (or ``since``)
sees every change once. Actions go through :mod:`detection.lifecycle`, audited under the token's manager.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from detection import lifecycle
from pricewarden.errors import AccessDenied, InvalidTransition, NotFoundError
from store import Evidence, Role, Violation
from store.access import get_violation_for_user, partner_filter, sees_violation
from web.api._deps import ApiProblem, api_token, problems
from web.api.schemas import ActionIn, ViolationDetail, ViolationPage
from web.api.tokens import Principal
from web.auth import db
from web.evidence import evidence_store, read_checked

router = APIRouter(prefix="/api/v1", tags=["violations"])
Db = Annotated[Session, Depends(db, scope="function")]
ViolationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Reader = Annotated[Principal, Depends(api_token("violations:read"))]
Writer = Annotated[Principal, Depends(api_token("violations:write"))]


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def violation_out(v: Violation, principal: Principal, *, detail: bool = False) -> dict[str, Any]:
    """``v`` as the API shows it to ``principal``."""
    out: dict[str, Any] = {
        "id": v.id, "kind": v.kind, "rule": v.rule, "mode": v.mode, "status": v.status, "severity": v.severity,
        "sku": v.product.sku if v.product else None, "partner": v.partner.code if v.partner else None,
        "seller_id": v.seller_id, "seller_name": v.seller_name, "region": v.region,
        "observed_price": _money(v.observed_price), "allowed_price": _money(v.allowed_price), "currency": v.currency,
        "gap": _money(v.gap), "gap_pct": _money(v.gap_pct), "policy_version": v.policy_version,
        "rule_ref": v.rule_ref, "url": v.url, "price_as_shown": v.raw_text, "first_seen_at": v.first_seen_at,
        "last_seen_at": v.last_seen_at, "resolved_at": v.resolved_at, "updated_at": v.updated_at,
        "occurrences": v.occurrences, "repeat_number": v.repeat_number, "escalation_step": v.escalation_step,
    }
    if detail:
        out["status_reason"] = v.status_reason if principal.kind == "integration" else None
        out["evidence"] = [{"kind": kind, "sha256": sha, "href": f"/api/v1/violations/{v.id}/evidence/{kind}"}
                           for kind, sha in (("screenshot", v.screenshot_sha256), ("html", v.html_sha256)) if sha]
    return out


def _cursor(updated_at: datetime, violation_id: int) -> str:
    raw = json.dumps([updated_at.astimezone(UTC).isoformat(), violation_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(text: str) -> tuple[datetime, int]:
    try:
        at, vid = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None or not isinstance(vid, int) or isinstance(vid, bool):
            raise ValueError
        return instant, vid
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ApiProblem(422, "Invalid request", "cursor: not a cursor this API gave (pass next_cursor back as is)",
                         ) from None


@router.get("/violations", response_model=ViolationPage, summary="Violations, paged by cursor",
            responses=problems(401, 403, 422, 429))
def list_violations(
    session: Db, principal: Reader,
    since: Annotated[datetime | None, Query(description="Only violations changed at or after this instant "
                                                        "(ISO 8601 with offset).")] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    status: Annotated[Literal["open", "acknowledged", "resolved", "dismissed"] | None, Query()] = None,
) -> dict[str, Any]:
    """The violations the token may see, oldest change first."""
    user = principal.user
    query = select(Violation).where(partner_filter(session, user, Violation.partner_id))
    if user.role == Role.PARTNER:
        # Never the brand's own analysis: violations only, only where the mode allows telling the partner.
        query = query.where(Violation.kind == "violation", Violation.mode.in_(("map", "maximum")))
    if status is not None:
        query = query.where(Violation.status == status)
    if since is not None:
        if since.tzinfo is None:
            raise ApiProblem(422, "Invalid request", "since: give an offset (2026-05-02T00:00:00Z)")
        query = query.where(Violation.updated_at >= since)
    if cursor is not None:
        at, vid = _uncursor(cursor)
        query = query.where(or_(Violation.updated_at > at, and_(Violation.updated_at == at, Violation.id > vid)))
    query = query.options(joinedload(Violation.product), joinedload(Violation.partner))
    rows = list(session.scalars(query.order_by(Violation.updated_at, Violation.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    # The WHERE clause above is store.access's rule; a partner's rows are checked once more, row by row
    # (cheap for a partner: its scope is its own id, no query).
    items = [violation_out(v, principal) for v in rows
             if user.role != Role.PARTNER or sees_violation(session, user, v)]
    last = rows[-1] if rows else None
    # The last page still hands back a cursor: the integration polls with it and sees later changes only.
    next_cursor = _cursor(last.updated_at, last.id) if last is not None else cursor
    return {"items": items, "next_cursor": next_cursor if (more or last is not None or cursor) else None}


def _visible(session: Session, principal: Principal, violation_id: int) -> Violation:
    try:
        return get_violation_for_user(session, principal.user, violation_id)
    except NotFoundError:
        raise ApiProblem(404, "Not found", f"no violation {violation_id}") from None


@router.get("/violations/{violation_id}", response_model=ViolationDetail, summary="One violation with its evidence",
            responses=problems(401, 403, 404, 422, 429))
def get_violation(violation_id: ViolationId, session: Db, principal: Reader) -> dict[str, Any]:
    """One violation the token may see, with links to its evidence."""
    return violation_out(_visible(session, principal, violation_id), principal, detail=True)


@router.get("/violations/{violation_id}/evidence/{kind}", summary="A violation's evidence, checked",
            responses={200: {"description": "The stored bytes (they match their SHA-256)", "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "text/html": {"schema": {"type": "string"}}}},
                **problems(401, 403, 404, 409, 422, 429)})
def get_evidence(violation_id: ViolationId, kind: Literal["screenshot", "html"], request: Request, session: Db,
                 principal: Reader) -> Response:
    """The screenshot or archived HTML, served only when its bytes still hash to its SHA-256."""
    v = _visible(session, principal, violation_id)
    sha = v.screenshot_sha256 if kind == "screenshot" else v.html_sha256
    if not sha:
        raise ApiProblem(404, "Not found", f"violation {violation_id} has no {kind}")
    check, data = read_checked(evidence_store(request.app.state), session.get(Evidence, sha), sha, kind)
    if data is None:
        if check.status == "missing":
            raise ApiProblem(404, "Not found", f"the {kind} of violation {violation_id} is missing from the store")
        raise ApiProblem(409, "Evidence does not match", f"the stored {kind} no longer matches its SHA-256 {sha}")
    media = "image/png" if kind == "screenshot" else "text/html"
    name = f"violation-{violation_id}-{kind}.{'png' if kind == 'screenshot' else 'html'}"
    return Response(data, media_type=media, headers={
        "Content-Security-Policy": "sandbox; default-src 'none'", "X-Evidence-SHA256": sha,
        "Content-Disposition": f'attachment; filename="{name}"'})


def _act(action: str, violation_id: int, body: ActionIn | None, session: Session,
         principal: Principal) -> dict[str, Any]:
    _visible(session, principal, violation_id)
    reason = (body.reason or "").strip() if body is not None else ""
    if action == "dismiss" and not reason:
        raise ApiProblem(422, "Reason required", "dismissing a violation needs a reason")
    try:
        v = getattr(lifecycle, action)(session, violation_id, principal.user, reason or f"via API token "
                                       f"{principal.prefix}", token=principal.prefix)
    except InvalidTransition as exc:
        raise ApiProblem(409, "Not allowed now", str(exc)) from None
    except (AccessDenied, NotFoundError):
        raise ApiProblem(404, "Not found", f"no violation {violation_id}") from None
    session.commit()
    return violation_out(v, principal, detail=True)


_ACTION_DOC = {"acknowledge": "Acknowledge an open violation", "dismiss": "Dismiss a violation (reason required)",
               "resolve": "Resolve a violation"}
_Body = Annotated[ActionIn | None, Body()]


@router.post("/violations/{violation_id}/acknowledge", response_model=ViolationDetail,
             summary=_ACTION_DOC["acknowledge"], responses=problems(401, 403, 404, 409, 422, 429))
def acknowledge(violation_id: ViolationId, session: Db, principal: Writer, body: _Body = None) -> dict[str, Any]:
    """Acknowledge (audited under the token's manager)."""
    return _act("acknowledge", violation_id, body, session, principal)


@router.post("/violations/{violation_id}/dismiss", response_model=ViolationDetail,
             summary=_ACTION_DOC["dismiss"], responses=problems(401, 403, 404, 409, 422, 429))
def dismiss(violation_id: ViolationId, session: Db, principal: Writer, body: _Body = None) -> dict[str, Any]:
    """Dismiss as a false positive (audited; ``reason`` required)."""
    return _act("dismiss", violation_id, body, session, principal)


@router.post("/violations/{violation_id}/resolve", response_model=ViolationDetail,
             summary=_ACTION_DOC["resolve"], responses=problems(401, 403, 404, 409, 422, 429))
def resolve(violation_id: ViolationId, session: Db, principal: Writer, body: _Body = None) -> dict[str, Any]:
    """Resolve by hand (audited)."""
    return _act("resolve", violation_id, body, session, principal)
