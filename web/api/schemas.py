"""The API's response bodies, as pydantic models: the OpenAPI document is generated from them, and
schemathesis checks every answer against it. Amounts are decimal strings (never floats); instants ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

EVENTS = ("violation.opened", "violation.escalated", "violation.acknowledged", "violation.dismissed",
          "violation.resolved", "violation.reopened")
Event = Literal["violation.opened", "violation.escalated", "violation.acknowledged", "violation.dismissed",
                "violation.resolved", "violation.reopened"]


class Rejection(BaseModel):
    """A row of a report that was not stored, and why."""

    row: int = Field(description="Row number (the header is row 1; in a JSON payload the first object is row 2).")
    column: str | None = Field(description="The column at fault, when one is.")
    reason: str


class Receipt(BaseModel):
    """What an import did: every row accepted or rejected, with the reason."""

    id: int = Field(description="The batch id (GET /api/v1/reports/{id}).")
    partner: str
    file_name: str
    file_sha256: str = Field(description="SHA-256 of the file (or of the canonical JSON of the rows).")
    format: str
    received_at: datetime
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    receipt_sha256: str | None = Field(description="SHA-256 of the stored receipt (CSV of every row).")
    duplicate: bool = Field(description="True when this exact report was already imported: nothing was stored again.")
    ignored_columns: list[str] = Field(default_factory=list)
    rejections: list[Rejection] = Field(description="The rejected rows (the first 1,000).")


class PolicyItem(BaseModel):
    """The price in force for one SKU in one of the partner's regions."""

    sku: str
    title: str
    region: str
    scope: str
    mode: Literal["map", "recommended", "maximum"]
    wording: str = Field(description="What the price means for the partner in this scope's mode.")
    currency: str
    minimum_advertised_price: str | None = Field(description="map: the advertised-price floor in force now "
                                                 "(after promotions and exemptions).")
    regular_minimum_advertised_price: str | None = Field(description="map: the floor without promotions.")
    msrp: str | None
    recommended_price: str | None = Field(description="recommended: information only.")
    maximum_price: str | None = Field(description="maximum: the highest resale price.")
    promotions: list[str]
    exemptions: list[str]
    rule: str = Field(description="The clause of the policy that applies.")


class PolicyOut(BaseModel):
    """The prices in force for the token's partner at an instant."""

    partner: str
    at: datetime
    version: int | None = Field(description="The policy version in force (None: none is).")
    policy: str | None
    effective_from: datetime | None
    sha256: str | None = Field(description="SHA-256 of the published policy file.")
    items: list[PolicyItem]


class EvidenceLink(BaseModel):
    """A piece of evidence, addressed by the SHA-256 of its bytes."""

    kind: Literal["screenshot", "html"]
    sha256: str
    href: str = Field(description="Where the API serves it (checked against its SHA-256 when served).")


class ViolationOut(BaseModel):
    """A violation (for a brand integration also a deviation or an anomaly)."""

    id: int
    kind: str
    rule: str
    mode: str
    status: Literal["open", "acknowledged", "resolved", "dismissed"]
    severity: str
    sku: str | None
    partner: str | None
    seller_id: str | None
    seller_name: str | None
    region: str | None
    observed_price: str | None
    allowed_price: str | None
    currency: str | None
    gap: str | None
    gap_pct: str | None
    policy_version: int | None
    rule_ref: str | None
    url: str | None
    price_as_shown: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    occurrences: int
    repeat_number: int
    escalation_step: str | None


class ViolationDetail(ViolationOut):
    """A violation with its evidence."""

    status_reason: str | None = Field(description="Why it was dismissed, resolved or reopened (brand tokens only).")
    evidence: list[EvidenceLink]


class ViolationPage(BaseModel):
    """One page of violations in (updated_at, id) order; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[ViolationOut]
    next_cursor: str | None = Field(description="Pass it back as `cursor` for what comes after this page (later "
                                    "changes included: keep polling with it); None only when nothing matched and "
                                    "no cursor was given.")


class ActionIn(BaseModel):
    """An action on a violation."""

    reason: str | None = Field(None, max_length=2000, description="Why (required to dismiss).")


class WebhookIn(BaseModel):
    """A webhook subscription to make."""

    url: str = Field(max_length=2000,
                     description="http(s) URL that receives the events (checked by the network policy).")
    events: list[Event] = Field(default_factory=lambda: list(EVENTS),  # type: ignore[arg-type]
                                min_length=1, max_length=len(EVENTS))


class WebhookOut(BaseModel):
    """A webhook subscription (its secret is shown only when it is made)."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    """A new subscription with its signing secret: keep it, it is not shown again."""

    secret: str = Field(description="Signs every delivery: HMAC-SHA256 over '<timestamp>.<body>'.")


__all__ = ["EVENTS", "ActionIn", "EvidenceLink", "PolicyItem", "PolicyOut", "Receipt", "Rejection",
           "ViolationDetail", "ViolationOut", "ViolationPage", "WebhookCreated", "WebhookIn", "WebhookOut"]
