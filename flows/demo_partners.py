"""The demo's partner loop (issue 20): policy sent and acknowledged, a report by API, a complaint.

Each step calls the product's own code, as a partner's action would:

- :func:`distribute` sends the published versions to the partners whose prices they change
  (``web.portal.policy.distribute_policy``, what ``pricewarden policy publish`` does), through the
  alert outbox, so the messages reach the demo's receiver with the first day's alerts;
- :func:`api_report`: a partner that reports by API (not through the inbox) gets a token
  (``web.api.tokens.create_token``) and POSTs its prices of the day to ``/api/v1/reports`` on the
  review app, served by uvicorn on 127.0.0.1 for the call; the answer is the receipt. One row is a
  house-brand item of the shop's own, which the brand does not sell: the receipt rejects it by name;
- :func:`complaint`: a partner's account complains about another seller's page that breaks the floor
  on the sandbox storefronts (``web.portal.complaints.file_complaint``) and the page is crawled and
  judged at once (its job drained from the portal's queue, ``web.portal.jobs.drain``);
- :func:`acknowledgement`: a partner's account in a ``map`` scope acknowledges receipt of the newest
  version sent to it (``web.portal.policy.acknowledge``): who, when and the version's SHA-256.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select

API_PARTNER = "P005"  # Sonic Street reports by API; the inbox reporters (demo.reports.REPORTERS) send files
COMPLAINANT = "p001-pricing"  # SoundHub's pricing desk (US, map scope) complains and acknowledges
HOUSE_SKU = "SH-HOUSE-01"  # the shop's own house-brand item, not the brand's: rejected by the receipt


def distribute(versions: list[int], *, actor: str = "demo") -> dict[str, Any]:
    """Send each of ``versions`` to the partners whose prices it changes; what was sent."""
    from store.db import session_scope
    from web.portal.policy import distribute_policy

    receipts = messages = 0
    partners: set[str] = set()
    with session_scope() as session:
        for version in versions:
            sent = distribute_policy(session, version, actor=actor)
            receipts += len(sent.receipts)
            messages += sent.messages
        from store import PolicyReceipt

        asked = session.scalars(select(PolicyReceipt).where(PolicyReceipt.ask_ack.is_(True))).all()
        partners = {r.partner.code for r in asked}
    return {"versions": versions, "receipts": receipts, "messages": messages, "asked": len(partners)}


@contextmanager
def served_app() -> Iterator[str]:
    """The review app (``web.app.create_app``) served by uvicorn on a free port of 127.0.0.1; yields its URL."""
    import uvicorn

    from web.app import create_app
    from web.server import bind, url_of

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", access_log=False,
                                           server_header=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-review-app", daemon=True)
    thread.start()
    try:
        # The socket listens already: a request sent before uvicorn runs waits in its backlog.
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def report_rows(world: Any, origins: dict[str, str], day: int, now: datetime) -> list[dict[str, str]]:
    """The API partner's prices on ``day`` at ``now`` (one row per page it lists), then the house-brand row."""
    partner = world.partner_by_code[API_PARTNER]
    stamp = now.replace(second=0, microsecond=0).isoformat()
    rows = []
    for product in world.products:
        listing = world.by_partner_sku.get((API_PARTNER, product.sku))
        if listing is not None:
            rows.append({"sku": product.sku, "price": f"{world.price(partner, product, day):.2f}",
                         "currency": partner.currency, "date": stamp,
                         "channel": origins[listing.family] + listing.path})
    rows.append({"sku": HOUSE_SKU, "price": "49.00", "currency": partner.currency, "date": stamp,
                 "channel": origins[partner.family] + "/"})
    return rows


def api_report(base_url: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    """A token for :data:`API_PARTNER`, then ``POST /api/v1/reports`` with ``rows``; the receipt."""
    import httpx

    from store.db import session_scope
    from web.api.tokens import create_token

    with session_scope() as session:
        _row, token = create_token(session, name="Sonic Street price feed", scopes=["reports:write"],
                                   created_by="admin", partner=API_PARTNER)
    answer = httpx.post(f"{base_url}/api/v1/reports", json=rows, timeout=60.0,
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "demo-api-report-1"})
    answer.raise_for_status()
    receipt = answer.json()
    return {"partner": API_PARTNER, "url": f"{base_url}/api/v1/reports", "status": answer.status_code,
            "id": receipt["id"], "accepted": receipt["rows_accepted"], "rejected": receipt["rows_rejected"],
            "rejections": receipt["rejections"]}


def complaint_target(world: Any, origins: dict[str, str], day: int) -> dict[str, Any] | None:
    """A page of another partner's shop below the US floor (MAP) on ``day``, by the sandbox's truth, or None.

    Pages read from their HTML (not a browser-rendered or cart page), without a planted fault that day.
    """
    complainant = COMPLAINANT.split("-")[0].upper()
    faults = world.faults(day)
    for found in world.truth(day, origins)["violations"]:
        listing = world.by_partner_sku.get((found["partner"], found["sku"]))
        if (found["rule"] == "map" and listing is not None and found["partner"] != complainant
                and listing.family not in ("jsshop", "cartshop") and listing.key not in faults):
            return {"url": found["url"], "partner": found["partner"], "sku": found["sku"], "price": found["price"],
                    "limit": found["limit"]}
    return None


def complaint(engine: Any, url: str, comment: str) -> dict[str, Any]:
    """:data:`COMPLAINANT` complains about the price at ``url``; the page is crawled and judged now."""
    from store import Complaint, User
    from store.db import session_scope
    from web.portal.complaints import file_complaint
    from web.portal.jobs import drain

    with session_scope() as session:
        user = session.scalars(select(User).where(User.username == COMPLAINANT)).one()
        filed = file_complaint(session, user, url, comment)
        complaint_id, partner = filed.id, user.partner.code if user.partner else ""
    drain(engine)  # the portal's job queue: this complaint's crawl (and any other a stopped app left)
    with session_scope() as session:
        row = session.get(Complaint, complaint_id)
        assert row is not None
        return {"id": complaint_id, "by": partner, "url": url, "outcome": row.outcome, "detail": row.detail,
                "violation_id": row.violation_id, "public_price": row.public_price, "status": row.status}


def acknowledgement() -> dict[str, Any]:
    """:data:`COMPLAINANT`'s partner acknowledges receipt of the newest version that asks for it."""
    from store import PolicyReceipt, User
    from store.db import session_scope
    from web.portal.policy import acknowledge

    with session_scope() as session:
        user = session.scalars(select(User).where(User.username == COMPLAINANT)).one()
        waiting = session.scalars(select(PolicyReceipt).where(
            PolicyReceipt.partner_id == user.partner_id, PolicyReceipt.ask_ack.is_(True),
            PolicyReceipt.acknowledged_at.is_(None)).order_by(PolicyReceipt.version.desc())).first()
        if waiting is None:
            return {}
        receipt = acknowledge(session, user, waiting.version)
        return {"partner": receipt.partner.code, "by": receipt.acknowledged_by, "version": receipt.version,
                "at": receipt.acknowledged_at, "sha256": receipt.source_sha256, "modes": list(receipt.modes)}
