"""What every ``/api/v1`` route shares: the token access rule, the rate limit and problem documents.

``Depends(api_token("violations:read"))`` is an API route's access rule (the route table test reads
it like :func:`web.auth.require`): a valid, unrevoked bearer token with that scope, else 401
(``WWW-Authenticate: Bearer``) or 403 (a scope missing, or the token's partner suspended or terminated:
audited as ``api_token.refused``, as is an integration's report for such a partner, :func:`refuse_inactive`);
then the token's fixed-window rate limit (``api.rate_limit_per_minute``, counted in ``api_rate_windows`` so
every worker process agrees), else 429 with ``Retry-After``. Every error is ``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pricewarden.errors import PartnerInactive
from store import ApiRateWindow, ApiToken
from web.api.tokens import Principal, authenticate
from web.auth import audit_refusal, db

WINDOW_SECONDS = 60
PROBLEM = "application/problem+json"


class ApiProblem(Exception):
    """An API error answered as a problem document (RFC 9457)."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.headers, self.extra = status, title, detail, headers or {}, extra


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="A URI naming the kind of problem; about:blank: the status says it.")
    title: str = Field(description="A short summary of the problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="What went wrong with this request, and what to do.")


def problem_response(exc: ApiProblem) -> JSONResponse:
    """The response for ``exc``."""
    body: dict[str, Any] = {"type": "about:blank", "title": exc.title, "status": exc.status}
    if exc.detail:
        body["detail"] = exc.detail
    body.update(exc.extra)
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM, headers=exc.headers)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem documents a route may answer with."""
    texts = {400: "The request cannot be read", 401: "No valid API token (missing, unknown or revoked)",
             403: "The token lacks the scope this route needs, or its partner is suspended or terminated",
             404: "Not found, or outside the token's scope",
             409: "A request with this Idempotency-Key is still running, or the change is not allowed now",
             413: "The upload is too large", 415: "The body's media type is not accepted",
             422: "The request is not valid (each problem named), or an Idempotency-Key reused with another body",
             429: "Too many requests for this token: wait Retry-After seconds"}
    return {status: {"description": texts[status], "model": Problem, "content": {PROBLEM: {}}} for status in statuses}


def _count(session: Session, token_id: int, window: int) -> int:
    """Add one request to the token's window and return the window's count (one atomic upsert)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ApiRateWindow).values(token_id=token_id, window=window, count=1)
    upsert = statement.on_conflict_do_update(
        index_elements=["token_id", "window"], set_={"count": ApiRateWindow.count + 1}).returning(ApiRateWindow.count)
    count = int(session.execute(upsert).scalar_one())
    if count == 1:  # first request of a window: forget this token's older windows
        session.execute(delete(ApiRateWindow).where(ApiRateWindow.token_id == token_id,
                                                    ApiRateWindow.window < window - 1))
    return count


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def refuse_inactive(session: Session, exc: PartnerInactive, request: Request, *, prefix: str,
                    token_id: int | None) -> NoReturn:
    """Audit the use of a token for a suspended or terminated partner and answer 403 saying why: the partner's
    own token, or an integration's naming that partner."""
    audit_refusal(session, exc, request, actor=f"api:{prefix}", action="api_token.refused", entity_type="api_token",
                  entity_id=token_id)
    raise ApiProblem(403, f"Partner {exc.status}", str(exc), partner=exc.partner, partner_status=exc.status)


def _refuse_inactive(session: Session, raw: str, exc: PartnerInactive, request: Request) -> NoReturn:
    prefix = raw.strip().split("_")[1]  # authenticate matched the token's format before checking the partner
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix))
    refuse_inactive(session, exc, request, prefix=prefix, token_id=token_id)


def api_token(*scopes: str) -> Callable[..., Principal]:
    """Access rule of an API route: a valid token holding every scope of ``scopes``, within its rate limit."""
    needed = tuple(scopes)

    def dependency(request: Request, session: Session = Depends(db, scope="function")) -> Principal:
        raw = _bearer(request)
        try:
            principal = authenticate(session, raw) if raw else None
        except PartnerInactive as exc:
            _refuse_inactive(session, raw or "", exc, request)
        if principal is None:
            session.commit()  # nothing to keep, but end the read transaction before answering
            raise ApiProblem(401, "Authentication required", "send a valid API token: Authorization: Bearer pwt_...",
                             headers={"WWW-Authenticate": 'Bearer realm="pricewarden"'})
        limit = request.app.state.settings.api.rate_limit_per_minute
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        count = _count(session, principal.token_id, window)
        session.commit()  # the count (and the token's use) hold whatever the route does next
        missing = [s for s in needed if s not in principal.scopes]
        if missing:
            raise ApiProblem(403, "Missing scope", f"this token lacks the scope {missing[0]!r}", scope=missing[0])
        if count > limit:
            retry = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise ApiProblem(429, "Too many requests",
                             f"this token may make {limit} requests a minute (api.rate_limit_per_minute); "
                             f"try again in {retry} s", headers={"Retry-After": str(retry)})
        request.state.principal = principal
        return principal

    dependency.__access__ = ("token", *needed)  # type: ignore[attr-defined]
    dependency.__name__ = f"api_token_{'_'.join(needed) or 'any'}".replace(":", "_")
    return dependency


__all__ = ["PROBLEM", "ApiProblem", "Problem", "api_token", "problem_response", "problems", "refuse_inactive"]
