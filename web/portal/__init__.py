"""The partner portal's domain: plain functions over the store that the portal pages (``web.pages.portal*``),
the review app and the ``/api/v1`` routes share. Every read is scoped through :mod:`store.access`.

Public API::

    partner_listings(session, user) / partner_violations(session, user) / partner_batches(session, user)
    get_listing_for_user / get_observation_for_user / get_batch_for_user     # NotFoundError outside the scope
    respond(session, user, violation_id, action, comment, screenshot=)      # corrected | dispute
    recrawl_response(engine, response_id) / crawl_listing(engine, listing_id)   # a crawl process of its own
    prices_in_force(session, partner, at=) -> PolicySheet; sheet_xlsx(sheet, labels) -> bytes
    distribute_policy(session, version, actor=) / acknowledge(session, user, version)
    file_complaint(session, user, url, comment, screenshot=) / run_complaint(engine, complaint_id)
    check_screenshot(name, data) -> Image                                   # UploadRefused when too big / not an image
    enqueue(session, kind, target_id) / drain(engine) / Jobs / jobs_of(app.state)   # the durable job queue
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "partner_listings": "listings", "partner_violations": "listings", "partner_batches": "listings",
    "get_listing_for_user": "listings", "get_observation_for_user": "listings", "get_batch_for_user": "listings",
    "listing_observations": "listings", "notices_of": "listings", "responses_of": "listings",
    "violation_observations": "listings",
    "respond": "responses", "recrawl_response": "responses", "alert_manager": "responses",
    "crawl_listing": "recrawl", "Recrawl": "recrawl",
    "prices_in_force": "policy", "sheet_xlsx": "policy", "distribute_policy": "policy", "acknowledge": "policy",
    "PolicySheet": "policy", "receipts_for": "policy", "all_receipts": "policy",
    "file_complaint": "complaints", "run_complaint": "complaints", "check_url": "complaints",
    "complaints_of": "complaints", "complaints_for_brand": "complaints", "get_complaint_for_partner": "complaints",
    "check_screenshot": "uploads", "Image": "uploads",
    "Jobs": "jobs", "jobs_of": "jobs", "enqueue": "jobs", "drain": "jobs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'web.portal' has no attribute {name!r}")
    return getattr(importlib.import_module(f"web.portal.{module}"), name)
