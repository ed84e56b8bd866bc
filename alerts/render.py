"""Alert, information, notice and digest messages rendered from Jinja2 templates, in English or Chinese.

Templates live in ``alerts/templates/<lang>/<kind>.txt.j2`` and ``<kind>.html.j2`` (plain text and
HTML bodies), with the subject lines as macros in ``<lang>/subjects.txt.j2``. A recipient whose
locale starts with ``zh`` reads Chinese; everyone else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from store.models import Partner, Product, Violation

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("alert", "info", "notice", "digest")
SEVERITY_ZH = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}
LEVEL_ZH = ("渠道经理", "区域后备负责人", "品牌经理")
RULE_EN = {"map": "minimum advertised price", "maximum": "maximum price", "recommended": "recommended price"}
CLAUSE = {"map": ("the minimum advertised price is", "最低标示价格为"),
          "maximum": ("the maximum price is", "最高价格为")}
POLICY_KIND = {"map": ("minimum advertised price policy", "最低标示价格政策"),
               "maximum": ("maximum price policy", "最高价格政策")}


@dataclass(frozen=True)
class Message:
    """A rendered message: subject line, plain-text body and HTML body."""

    subject: str
    text: str
    html: str


def language(locale: str | None) -> str:
    """``zh`` for any Chinese locale (``zh``, ``zh_CN``, ``zh-Hant``...), else ``en``."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def render(kind: str, locale: str | None, context: dict[str, Any]) -> Message:
    """Render message ``kind`` (alert, info, notice, digest) in the recipient's language."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    lang = language(locale)
    env = _env()
    subject = str(getattr(env.get_template(f"{lang}/subjects.txt.j2").module, kind)(context)).strip()
    full = {**context, "lang": lang, "subject": subject}
    text = env.get_template(f"{lang}/{kind}.txt.j2").render(full)
    html = env.get_template(f"{lang}/{kind}.html.j2").render(full)
    return Message(" ".join(subject.split()), text, html)


def money(amount: Decimal | None, currency: str | None) -> str:
    """``USD 1,299.00``: two decimals unless the amount carries more (never rounded away)."""
    if amount is None:
        return "?"
    places = max(2, -int(amount.normalize().as_tuple().exponent))
    return f"{currency or ''} {amount:,.{places}f}".strip()


def instant(when: datetime | None, zone: ZoneInfo) -> str:
    """An instant in the reader's time zone, with the zone named: ``2026-03-02 09:15 (America/New_York)``."""
    if when is None:
        return "?"
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def hold_reason(violation: Violation) -> str | None:
    """Why the partner may not be told of ``violation`` yet (detection.confirm), or None."""
    from detection.confirm import hold_reason as why

    return why(violation)


def violation_context(
    session: Session, violation: Violation, *, zone: ZoneInfo, review_base_url: str, locale: str | None,
) -> dict[str, Any]:
    """The facts every message about ``violation`` may show, formatted for one reader."""
    lang = language(locale)
    product = session.get(Product, violation.product_id) if violation.product_id else None
    partner = session.get(Partner, violation.partner_id) if violation.partner_id else None
    seller = (f"{partner.name} ({partner.code})" if partner
              else violation.seller_name or violation.seller_id or "unknown seller")
    gap = "?" if violation.gap_pct is None else f"{violation.gap_pct:.1f} %"
    below = violation.mode != "maximum"
    if lang == "zh":
        headline = "价格低于建议零售价" if below else "价格偏离参考价格"
    else:
        headline = "price below the recommended retail price" if below else "price away from the reference price"
    if violation.kind == "anomaly":
        headline = "异常价格变动，供审阅" if lang == "zh" else "unusual price movement, for review"
    return {
        "violation_id": violation.id,
        "kind": violation.kind,
        "mode": violation.mode,
        "severity": violation.severity,
        "severity_zh": SEVERITY_ZH.get(violation.severity, violation.severity),
        "seller": seller,
        "partner": partner.name if partner else seller,
        "brand": (product.brand if product and product.brand else "The brand" if lang == "en" else "品牌方"),
        "product": product.title if product and product.title else (product.sku if product else "?"),
        "sku": product.sku if product else "?",
        "observed": money(violation.observed_price, violation.currency),
        "allowed": money(violation.allowed_price, violation.currency),
        "gap_pct": gap,
        "rule": violation.rule if lang == "zh" else RULE_EN.get(violation.rule, violation.rule),
        "rule_ref": violation.rule_ref or violation.rule,
        "policy_version": violation.policy_version if violation.policy_version is not None else "?",
        "url": violation.url or "?",
        "seen_at": instant(violation.last_seen_at, zone),
        "escalation_step": violation.escalation_step,
        "review_url": f"{review_base_url.rstrip('/')}/violations/{violation.id}",
        "html_sha256": violation.html_sha256,
        "screenshot_sha256": violation.screenshot_sha256,
        "info_headline": headline,
        # A price read by heuristics, not confirmed yet: managers are told so (the partner is told nothing).
        "unconfirmed": hold_reason(violation) is not None,
        "clause": CLAUSE.get(violation.mode, ("the price set by the policy is", ""))[0],
        "clause_zh": CLAUSE.get(violation.mode, ("", "政策规定的价格为"))[1],
        "policy_kind": POLICY_KIND.get(violation.mode, ("price policy", ""))[0],
        "policy_kind_zh": POLICY_KIND.get(violation.mode, ("", "价格政策"))[1],
    }


def deadline(now: datetime, days: int, zone: ZoneInfo) -> str:
    """The compliance deadline ``days`` after ``now``, as a date and time in ``zone``."""
    return instant(now + timedelta(days=days), zone)
