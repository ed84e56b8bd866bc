"""Policy distribution: the prices in force for one partner, the XLSX sheet, sending a new version to the
partners whose prices it changes, and their acknowledgement of receipt.

Worded by mode, as the law requires (docs/portal.md):

- ``map``: the brand's *unilateral* advertised-price policy; the partner is asked to acknowledge
  *receipt* (who, when, the version's SHA-256), never to agree to anything;
- ``maximum``: the price cap, sent for information;
- ``recommended``: information only, nothing asked;
- ``observe``: never shown to a partner and never sent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import NoRuleError, NotFoundError, PolicyError
from store import (
    AlertDelivery,
    DeliveryStatus,
    Partner,
    PolicyReceipt,
    PolicyVersion,
    Product,
    User,
    audit,
    installation_id,
    utcnow,
)

SHOWN_MODES = ("map", "maximum", "recommended")  # observe: never shown or sent to a partner


@dataclass(frozen=True)
class PriceRow:
    """The price in force for one SKU in one region of the partner."""

    sku: str
    title: str
    region: str
    scope: str
    mode: str
    currency: str
    floor: Decimal | None  # map: after promotions and exemptions
    base_map: Decimal | None
    msrp: Decimal | None
    max_discount_pct: Decimal | None
    recommended: Decimal | None
    maximum: Decimal | None
    tier_override: bool
    promotions: tuple[str, ...] = ()
    exemptions: tuple[str, ...] = ()

    def key(self) -> tuple[str, str]:
        """What identifies the row across versions: SKU and region."""
        return self.sku, self.region

    def values(self) -> tuple[Any, ...]:
        """What a partner is told about: a change in any of these is a change of its prices."""
        return (self.mode, self.currency, self.floor, self.base_map, self.msrp, self.max_discount_pct,
                self.recommended, self.maximum)

    def main(self) -> Decimal | None:
        """The one number of the row: the floor (map), the cap (maximum) or the recommended price."""
        return {"map": self.floor, "maximum": self.maximum, "recommended": self.recommended}.get(self.mode)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (amounts as strings) for JSON and the receipts."""
        out: dict[str, Any] = {}
        for name in ("sku", "title", "region", "scope", "mode", "currency", "floor", "base_map", "msrp",
                     "max_discount_pct", "recommended", "maximum", "tier_override"):
            value = getattr(self, name)
            out[name] = str(value) if isinstance(value, Decimal) else value
        out["promotions"], out["exemptions"] = list(self.promotions), list(self.exemptions)
        return out


@dataclass(frozen=True)
class Window:
    """A promotion or exemption that applies to the partner, with its dates."""

    kind: str  # promotion | exemption
    name: str
    scope: str | None
    price: Decimal
    start: datetime
    end: datetime
    targets: str


@dataclass
class PolicySheet:
    """What the partner is shown: the version in force, its rows, windows and the versions to come."""

    partner: str
    at: datetime
    version: int | None = None
    name: str = ""
    sha256: str = ""
    effective_from: datetime | None = None
    timezone: str = "UTC"
    tier: str = ""
    regions: list[str] = field(default_factory=list)
    rows: list[PriceRow] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    upcoming: list[tuple[int, datetime]] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API (``GET /api/v1/policy``)."""
        return {
            "partner": self.partner, "at": self.at.isoformat(), "version": self.version, "name": self.name,
            "sha256": self.sha256, "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "timezone": self.timezone, "tier": self.tier, "regions": self.regions, "modes": self.modes,
            "prices": [r.as_dict() for r in self.rows],
            "windows": [{"kind": w.kind, "name": w.name, "scope": w.scope, "price": str(w.price),
                         "start": w.start.isoformat(), "end": w.end.isoformat(), "targets": w.targets}
                        for w in self.windows],
            "upcoming": [{"version": v, "effective_from": at.isoformat()} for v, at in self.upcoming],
        }


def _authorised(partner: Partner, product: Product) -> bool:
    allowed = {str(s) for s in partner.authorised_skus or ()}
    return not allowed or product.sku in allowed or (product.category or "") in allowed


def price_rows(versions: list[Any], partner: Partner, products: list[Product], at: datetime) -> list[PriceRow]:
    """The prices in force for ``partner`` at ``at`` under ``versions``, observe scopes left out (pure)."""
    from policies import resolve

    rows: list[PriceRow] = []
    for product in products:
        if not _authorised(partner, product):
            continue
        for region in sorted(str(r) for r in partner.regions or ()):
            try:
                rule = resolve(versions, sku=product.sku, category=product.category, partner_code=partner.code,
                               tier=partner.tier, region=region, at=at)
            except (NoRuleError, PolicyError):
                continue
            if rule.mode not in SHOWN_MODES:
                continue
            rows.append(PriceRow(
                product.sku, product.title, region, rule.scope, rule.mode, rule.currency, rule.floor, rule.base_map,
                rule.msrp, rule.max_discount_pct, rule.recommended, rule.maximum, rule.tier_override,
                tuple(rule.promotions), tuple(rule.exemptions)))
    return rows


def _windows(policy: Any, partner: Partner, scopes: set[str], at: datetime) -> list[Window]:
    found: list[Window] = []
    for promo in policy.promotions:
        if promo.scope in scopes and promo.end > at and (promo.tiers is None or partner.tier in promo.tiers):
            found.append(Window("promotion", promo.name, promo.scope, promo.price, promo.start, promo.end,
                                ", ".join([*promo.skus, *promo.categories])))
    for ex in policy.exemptions:
        if ex.partner == partner.code and ex.end > at and (ex.scope is None or ex.scope in scopes):
            found.append(Window("exemption", ex.reason, ex.scope, ex.floor, ex.start, ex.end,
                                ", ".join([*ex.skus, *ex.categories])))
    return sorted(found, key=lambda w: (w.start, w.name))


def prices_in_force(session: Session, partner: Partner, at: datetime | None = None) -> PolicySheet:
    """The policy sheet of ``partner`` at ``at`` (default now): what the portal page, the XLSX and the API show."""
    from policies import load_versions, version_in_force

    at = at or utcnow()
    versions = load_versions(session)
    sheet = PolicySheet(partner.code, at, tier=partner.tier, regions=sorted(str(r) for r in partner.regions or ()))
    chosen = version_in_force(versions, at)
    if chosen is None:
        return sheet
    row = session.scalars(select(PolicyVersion).where(PolicyVersion.version == chosen.version)).one()
    products = list(session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku)))
    sheet.version, sheet.name, sheet.sha256 = chosen.version, chosen.policy.name, row.source_sha256
    sheet.effective_from, sheet.timezone = chosen.effective_from, chosen.policy.timezone
    sheet.rows = price_rows(versions, partner, products, at)
    scopes = {r.scope for r in sheet.rows}
    sheet.windows = _windows(chosen.policy, partner, scopes, at)
    sheet.modes = sorted({r.mode for r in sheet.rows})
    sheet.upcoming = [(v.version, v.effective_from) for v in versions if v.effective_from > at]
    return sheet


def sheet_xlsx(sheet: PolicySheet, labels: dict[str, str]) -> bytes:
    """The sheet as an XLSX workbook (every text cell typed as text, so no cell is ever run as a formula, and
    cleared of the control characters an XML file cannot hold: a product title with a stray ``\x07`` must not
    break the download).

    ``labels`` holds the translated column titles and words (keys as in :data:`XLSX_KEYS`).
    """
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = _cells([labels["sheet"]])[0][:31]
    ws.append(_cells([labels["title"]]))
    ws.append(_cells([labels["version"], sheet.version, sheet.name, labels["sha256"], sheet.sha256]))
    ws.append(_cells([labels["effective_from"], sheet.effective_from.isoformat() if sheet.effective_from else "",
                      labels["tier"], sheet.tier, labels["regions"], ", ".join(sheet.regions)]))
    ws.append(_cells([labels["note"]]))
    ws.append([])
    ws.append(_cells([labels[k] for k in ("sku", "product", "region", "mode", "currency", "price", "base_map",
                                          "msrp", "max_discount_pct", "windows")]))
    for r in sheet.rows:
        ws.append(_cells([r.sku, r.title, r.region, labels.get(f"mode_{r.mode}", r.mode), r.currency,
                          _num(r.main()), _num(r.base_map), _num(r.msrp), _num(r.max_discount_pct),
                          ", ".join([*r.promotions, *r.exemptions])]))
    if sheet.windows:
        ws.append([])
        ws.append(_cells([labels["windows"]]))
        for w in sheet.windows:
            ws.append(_cells([labels.get(w.kind, w.kind), w.name, w.scope or "", _num(w.price),
                              w.start.isoformat(), w.end.isoformat(), w.targets]))
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # typed text: "=1+1" stays the characters "=1+1"
    for column, width in zip("ABCDEFGHIJ", (16, 40, 10, 16, 10, 14, 14, 14, 18, 40), strict=True):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cells(values: list[Any]) -> list[Any]:
    """``values`` with every text cleared of the control characters an XML file cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]


def _num(value: Decimal | None) -> float | str:
    # Shown as a number a spreadsheet can sum; the exact Decimal stays in the store and the page.
    return "" if value is None else float(value)


# Distribution ------------------------------------------------------------------------------------


@dataclass
class Distribution:
    """What distributing a version did: the receipts made, the messages queued, the partners without a change."""

    version: int
    receipts: list[int] = field(default_factory=list)
    messages: int = 0
    unchanged: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return dict(self.__dict__)


def changes_for(versions: list[Any], new: Any, partner: Partner, products: list[Product]) -> list[dict[str, Any]]:
    """The prices of ``partner`` that version ``new`` changes, at its ``effective_from`` (observe left out)."""
    at = new.effective_from
    before = {r.key(): r for r in price_rows([v for v in versions if v.version != new.version], partner, products, at)}
    after = {r.key(): r for r in price_rows([v for v in versions if v.version <= new.version], partner, products, at)}
    changed = []
    for key in sorted(set(before) | set(after)):
        old, now = before.get(key), after.get(key)
        if old is not None and now is not None and old.values() == now.values():
            continue
        shown = now or old
        assert shown is not None
        changed.append({"sku": key[0], "region": key[1], "mode": shown.mode, "currency": shown.currency,
                        "before": None if old is None else _text(old.main()),
                        "after": None if now is None else _text(now.main())})
    return changed


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def distribute_policy(session: Session, version: int, *, actor: str = "system",
                      now: datetime | None = None) -> Distribution:
    """Send version ``version`` to every partner whose prices it changes (map, maximum, recommended scopes).

    Each such partner gets a :class:`~store.PolicyReceipt` (shown in its portal, where a map change is
    acknowledged) and one message per notice URL through the alert outbox. Sending the same version
    again changes nothing (one receipt per partner and version; idempotency keys in the outbox).
    """
    from policies import load_versions

    now = now or utcnow()
    versions = load_versions(session)
    new = next((v for v in versions if v.version == version), None)
    if new is None:
        raise NotFoundError(f"no policy version {version}")
    row = session.scalars(select(PolicyVersion).where(PolicyVersion.version == version)).one()
    products = list(session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku)))
    report = Distribution(version)
    partners = session.scalars(select(Partner).where(Partner.status == "authorised").order_by(Partner.code))
    for partner in partners:
        changes = changes_for(versions, new, partner, products)
        if not changes:
            report.unchanged.append(partner.code)
            continue
        existing = session.scalars(select(PolicyReceipt).where(PolicyReceipt.partner_id == partner.id,
                                                               PolicyReceipt.version == version)).first()
        if existing is not None:
            continue
        modes = sorted({c["mode"] for c in changes})
        receipt = PolicyReceipt(partner_id=partner.id, version=version, source_sha256=row.source_sha256,
                                modes=modes, changes=changes, ask_ack="map" in modes, notified_at=now)
        session.add(receipt)
        session.flush()
        receipt.messages = _queue_policy_message(session, partner, receipt, new, now)
        if not partner.notice_urls:
            report.no_address.append(partner.code)
        report.receipts.append(receipt.id)
        report.messages += receipt.messages
        audit(session, actor=actor, action="policy.distributed", entity_type="partner", entity_id=partner.code,
              after={"version": version, "sha256": row.source_sha256, "modes": modes, "changes": len(changes),
                     "ask_ack": receipt.ask_ack, "messages": receipt.messages})
    session.flush()
    return report


def policy_message(partner: Partner, receipt: PolicyReceipt, effective: str, link: str) -> tuple[str, str]:
    """Subject and text of the message sending a version to ``partner``, worded by the modes it changes."""
    zh = (partner.locale or "").lower().startswith("zh")
    lines: list[str] = []
    by_mode: dict[str, list[dict[str, Any]]] = {}
    for change in receipt.changes:
        by_mode.setdefault(change["mode"], []).append(change)
    if zh:
        subject = f"[PriceWarden] 价格政策第 {receipt.version} 版，自 {effective} 起生效"
        intro = {"map": "品牌单方面制定的广告价格政策（最低广告价格）。"
                        "本政策由品牌单方面制定，并非协议，也不要求您同意任何条款。",
                 "maximum": "最高转售价格（上限），供您知悉。",
                 "recommended": "建议零售价，仅供参考：您可自行定价，无需任何回复。"}
        for mode in ("map", "maximum", "recommended"):
            if mode in by_mode:
                lines.append(intro[mode])
                lines += [f"  {c['sku']} {c['region']}: {c['before'] or '—'} → {c['after'] or '—'} {c['currency']}"
                          for c in by_mode[mode]]
        if receipt.ask_ack:
            lines.append(f"请在合作伙伴门户中确认已收到本政策（仅确认收到，并非同意）：{link}")
        else:
            lines.append(f"详情见合作伙伴门户：{link}")
    else:
        subject = f"[PriceWarden] Price policy version {receipt.version}, in force from {effective}"
        intro = {"map": "The brand's unilateral advertised-price policy (minimum advertised prices). It is the brand's "
                        "own policy, not an agreement, and asks you to agree to nothing.",
                 "maximum": "Maximum resale prices (the cap), for your information.",
                 "recommended": "Recommended prices, for information only: you set your own prices and nothing is "
                                "asked of you."}
        for mode in ("map", "maximum", "recommended"):
            if mode in by_mode:
                lines.append(intro[mode])
                lines += [f"  {c['sku']} {c['region']}: {c['before'] or '-'} -> {c['after'] or '-'} {c['currency']}"
                          for c in by_mode[mode]]
        if receipt.ask_ack:
            lines.append(f"Please acknowledge receipt of this policy in the partner portal (receipt only, not "
                         f"agreement): {link}")
        else:
            lines.append(f"Details in the partner portal: {link}")
    return subject, "\n".join(lines) + "\n"


def _queue_policy_message(session: Session, partner: Partner, receipt: PolicyReceipt, new: Any,
                          now: datetime) -> int:
    from zoneinfo import ZoneInfo

    from alerts.outbox import _insert, idempotency_key
    from pricewarden.settings import get_settings
    from store.secrets import target_ref

    effective = new.effective_from.astimezone(ZoneInfo(new.policy.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    link = get_settings().alerts.review_base_url.rstrip("/") + "/portal/policy"
    subject, text = policy_message(partner, receipt, effective, link)
    html = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines())
    queued = 0
    for index, url in enumerate(partner.notice_urls or []):
        ref = target_ref(index, str(url))
        key = idempotency_key(None, "policy", f"policy:v{receipt.version}", f"partner:{partner.id}", ref,
                              installation=installation_id(session))
        row = AlertDelivery(
            idempotency_key=key, kind="policy", recipient_partner_id=partner.id,
            recipient_label=f"partner {partner.code}", target_ref=ref, locale=partner.locale or "en",
            subject=subject, body_text=text, body_html=html, status=DeliveryStatus.QUEUED.value, attempts=0,
            next_attempt_at=now, created_at=now)
        queued += int(_insert(session, row))
    return queued


def acknowledge(session: Session, user: User, version: int, now: datetime | None = None) -> PolicyReceipt:
    """Record that ``user`` (a partner account) acknowledges *receipt* of version ``version`` (audited).

    Only a receipt that asks for it (a map scope changed) can be acknowledged; a second
    acknowledgement changes nothing and returns the first. Raises :class:`NotFoundError` otherwise.
    """
    receipt = None
    if user.partner_id is not None:
        receipt = session.scalars(select(PolicyReceipt).where(PolicyReceipt.partner_id == user.partner_id,
                                                              PolicyReceipt.version == version)).first()
    if receipt is None or not receipt.ask_ack:
        raise NotFoundError(f"no policy version {version} awaits an acknowledgement from this partner")
    if receipt.acknowledged_at is not None:
        return receipt
    receipt.acknowledged_at = now or utcnow()
    receipt.acknowledged_by = user.username
    audit(session, actor=user.username, action="policy.acknowledged", entity_type="policy_version",
          entity_id=version, before={"acknowledged": False},
          after={"acknowledged": True, "partner": receipt.partner.code, "sha256": receipt.source_sha256,
                 "at": receipt.acknowledged_at.isoformat()},
          reason="acknowledgement of receipt of the brand's unilateral advertised-price policy")
    session.flush()
    return receipt


def receipts_for(session: Session, partner_id: int) -> list[PolicyReceipt]:
    """The versions sent to a partner, newest first."""
    return list(session.scalars(select(PolicyReceipt).where(PolicyReceipt.partner_id == partner_id)
                                .order_by(PolicyReceipt.version.desc())))


def all_receipts(session: Session, visible: set[int] | None, limit: int = 2000) -> list[PolicyReceipt]:
    """The receipts the brand side may see (``visible``: partner ids, ``None`` = all), newest version first."""
    query = select(PolicyReceipt).order_by(PolicyReceipt.version.desc(), PolicyReceipt.partner_id).limit(limit)
    if visible is not None:
        query = query.where(PolicyReceipt.partner_id.in_(sorted(visible) or [-1]))
    return list(session.scalars(query))


__all__ = ["SHOWN_MODES", "Distribution", "PolicySheet", "PriceRow", "Window", "acknowledge", "all_receipts",
           "changes_for", "distribute_policy", "policy_message", "price_rows", "prices_in_force", "receipts_for",
           "sheet_xlsx"]
