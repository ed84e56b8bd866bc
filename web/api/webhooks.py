"""``/api/v1/webhooks``: a token subscribes to violation events (see :mod:`alerts.webhooks` for the events,
the signature and the delivery). A subscription sees what its token sees; its secret is shown once."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.webhooks import watermarks
from crawlers.network import NetworkPolicy, display_url
from pricewarden.errors import RefusedError
from store import Webhook, audit
from web.api._deps import ApiProblem, api_token, problems
from web.api.schemas import WebhookCreated, WebhookIn, WebhookOut
from web.api.tokens import Principal
from web.auth import db

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
Db = Annotated[Session, Depends(db, scope="function")]
Reader = Annotated[Principal, Depends(api_token("violations:read"))]
MAX_PER_TOKEN = 10


def _out(hook: Webhook) -> dict[str, Any]:
    return {"id": hook.id, "url": display_url(hook.url), "events": list(hook.events or []), "active": hook.active,
            "created_at": hook.created_at}


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Subscribe to violation events",
             responses=problems(401, 403, 409, 422, 429))
def create_webhook(body: WebhookIn, request: Request, session: Db, principal: Reader) -> dict[str, Any]:
    """Make a subscription; the answer holds its signing secret, shown this once."""
    try:
        NetworkPolicy.from_settings(request.app.state.settings).target(body.url)
    except RefusedError as exc:
        raise ApiProblem(422, "URL refused", str(exc)) from None
    count = len(list(session.scalars(select(Webhook.id).where(Webhook.token_id == principal.token_id,
                                                              Webhook.active.is_(True)))))
    if count >= MAX_PER_TOKEN:
        raise ApiProblem(409, "Too many webhooks", f"a token may have {MAX_PER_TOKEN} subscriptions; delete one first")
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(token_id=principal.token_id, url=body.url.strip(), secret=secret,
                   events=sorted(set(body.events)), created_by=principal.actor, **watermarks(session))
    session.add(hook)
    session.flush()
    audit(session, actor=principal.actor, action="webhook.created", entity_type="webhook", entity_id=hook.id,
          after={"url": display_url(hook.url), "events": hook.events})
    session.commit()
    return {**_out(hook), "secret": secret}


@router.get("/webhooks", response_model=list[WebhookOut], summary="This token's subscriptions",
            responses=problems(401, 403, 429))
def list_webhooks(session: Db, principal: Reader) -> list[dict[str, Any]]:
    """The token's active subscriptions (without their secrets)."""
    return [_out(h) for h in session.scalars(select(Webhook).where(
        Webhook.token_id == principal.token_id, Webhook.active.is_(True)).order_by(Webhook.id))]


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Delete a subscription",
               responses={204: {"description": "Deleted: nothing more is sent to it"},
                          **problems(401, 403, 404, 422, 429)})
def delete_webhook(webhook_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: Db, principal: Reader) -> Response:
    """Stop a subscription; deliveries still queued for it are cancelled."""
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.token_id != principal.token_id or not hook.active:
        raise ApiProblem(404, "Not found", f"no webhook {webhook_id}")
    hook.active = False
    audit(session, actor=principal.actor, action="webhook.deleted", entity_type="webhook", entity_id=hook.id,
          before={"active": True}, after={"active": False})
    session.commit()
    return Response(status_code=204)
