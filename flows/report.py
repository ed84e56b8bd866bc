"""The violation report: findings by partner, rule and tier, crawl health, alerts, and the evidence.

:func:`gather` reads one window from the store into plain data (testable without HTML);
:func:`render_html` turns it into one self-contained page; :func:`write_report` writes it under
``<workspace>/reports/`` with the screenshots it shows copied beside it (``<name>-evidence/<sha>.png``),
each read through the evidence store, which verifies its SHA-256, and each SHA-256 quoted in full.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pricewarden.money import minor_units

OPEN = ("open", "acknowledged")


@dataclass
class ReportData:
    """Everything the report shows, as plain data."""

    title: str
    since: datetime
    until: datetime
    generated_at: datetime
    by_partner: list[dict[str, Any]] = field(default_factory=list)  # partner, tier, kind counts
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> kind -> count
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)  # tier -> kind -> count
    findings: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, int] = field(default_factory=dict)  # status -> count
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def gather(session: Any, since: datetime, until: datetime, *, title: str = "Price compliance report",
           now: datetime | None = None) -> ReportData:
    """The report's data for findings seen in [since, until) and crawl health in that window."""
    from store._types import utcnow
    from store.models import AlertDelivery, Partner, Product, Violation

    data = ReportData(title=title, since=since, until=until, generated_at=now or utcnow())
    rows = session.execute(
        select(Violation, Product.sku, Partner.code, Partner.name, Partner.tier)
        .outerjoin(Product, Violation.product_id == Product.id)
        .outerjoin(Partner, Violation.partner_id == Partner.id)
        .where(Violation.last_seen_at >= since, Violation.first_seen_at < until)
        .order_by(Violation.kind, Violation.first_seen_at, Violation.id)).all()
    partners: dict[str, dict[str, Any]] = {}
    for v, sku, code, name, tier in rows:
        who = code or (f"seller {v.seller_name or v.seller_id}" if (v.seller_name or v.seller_id) else "unknown")
        entry = partners.setdefault(who, {"partner": who, "name": name or v.seller_name or "", "tier": tier or "-",
                                          "violation": 0, "deviation": 0, "anomaly": 0})
        entry[v.kind] = entry.get(v.kind, 0) + 1
        data.by_rule.setdefault(v.rule, Counter())[v.kind] += 1
        data.by_tier.setdefault(tier or "-", Counter())[v.kind] += 1
        data.findings.append({
            "id": v.id, "kind": v.kind, "rule": v.rule, "mode": v.mode, "status": v.status, "severity": v.severity,
            "sku": sku, "partner": who, "tier": tier or "-", "region": v.region, "seller": v.seller_name,
            "price": v.observed_price, "allowed": v.allowed_price, "currency": v.currency, "gap_pct": v.gap_pct,
            "raw_text": v.raw_text, "url": v.url, "policy_version": v.policy_version, "rule_ref": v.rule_ref,
            "first_seen_at": v.first_seen_at, "last_seen_at": v.last_seen_at, "occurrences": v.occurrences,
            "repeat": v.repeat_number, "escalation": v.escalation_step,
            "html_sha256": v.html_sha256, "screenshot_sha256": v.screenshot_sha256,
        })
    data.by_partner = sorted(partners.values(), key=lambda e: (-e["violation"], e["partner"]))
    data.by_rule = {k: dict(v) for k, v in sorted(data.by_rule.items())}
    data.by_tier = {k: dict(v) for k, v in sorted(data.by_tier.items())}
    kinds = Counter(f["kind"] for f in data.findings)
    data.totals = {"violations": kinds.get("violation", 0), "deviations": kinds.get("deviation", 0),
                   "anomalies": kinds.get("anomaly", 0),
                   "open": sum(1 for f in data.findings if f["status"] in OPEN)}
    alert_rows = session.execute(
        select(AlertDelivery.status, AlertDelivery.kind, func.count())
        .where(AlertDelivery.created_at >= since, AlertDelivery.created_at < until)
        .group_by(AlertDelivery.status, AlertDelivery.kind)).all()
    for status, kind, count in alert_rows:
        data.alerts[status] = data.alerts.get(status, 0) + count
        data.alerts_by_kind[kind] = data.alerts_by_kind.get(kind, 0) + count
    try:
        from crawlers.health import site_health

        data.health = [h.as_dict() for h in site_health(session, since, until)]
    except ImportError:  # crawl health not available: the report says so
        data.health = []
    return data


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ d.title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
.violation{color:#a00}.deviation{color:#a60}.anomaly{color:#06a}code{font-size:.8rem;word-break:break-all}
.finding{border:1px solid #ddd;padding:.75rem;margin:1rem 0}.finding img{max-width:420px;border:1px solid #999}
.warn{color:#a00}
</style></head><body>
<h1>{{ d.title }}</h1>
<p>Window {{ d.since|when }} to {{ d.until|when }}; generated {{ d.generated_at|when }}.
{{ d.totals.violations }} violations, {{ d.totals.deviations }} deviations (recorded only: recommended-price
markets), {{ d.totals.anomalies }} anomalies; {{ d.totals.open }} still open.</p>
<h2>By partner</h2>
<table><tr><th>partner</th><th>name</th><th>tier</th><th>violations</th><th>deviations</th><th>anomalies</th></tr>
{% for p in d.by_partner %}<tr><td>{{ p.partner }}</td><td>{{ p.name }}</td><td>{{ p.tier }}</td>
<td>{{ p.violation }}</td><td>{{ p.deviation }}</td><td>{{ p.anomaly }}</td></tr>{% endfor %}</table>
<h2>By rule</h2>
<table><tr><th>rule</th><th>violations</th><th>deviations</th><th>anomalies</th></tr>
{% for rule, c in d.by_rule.items() %}<tr><td>{{ rule }}</td><td>{{ c.get('violation', 0) }}</td>
<td>{{ c.get('deviation', 0) }}</td><td>{{ c.get('anomaly', 0) }}</td></tr>{% endfor %}</table>
<h2>By tier</h2>
<table><tr><th>tier</th><th>violations</th><th>deviations</th><th>anomalies</th></tr>
{% for tier, c in d.by_tier.items() %}<tr><td>{{ tier }}</td><td>{{ c.get('violation', 0) }}</td>
<td>{{ c.get('deviation', 0) }}</td><td>{{ c.get('anomaly', 0) }}</td></tr>{% endfor %}</table>
<h2>Alerts</h2>
<table><tr><th>status</th><th>messages</th></tr>
{% for s, n in d.alerts.items() %}<tr><td>{{ s }}</td><td>{{ n }}</td></tr>{% endfor %}</table>
<h2>Crawl health</h2>
{% if d.health %}<table><tr><th>site</th><th>pages</th><th>ok</th><th>failed</th><th>failure rate</th>
<th>failures by kind</th><th>warnings</th></tr>
{% for h in d.health %}<tr><td>{{ h.site }}</td><td>{{ h.pages }}</td><td>{{ h.ok }}</td><td>{{ h.failed }}</td>
<td>{{ '%.0f%%'|format(h.failure_rate * 100) }}</td>
<td>{% for k, n in h.kinds.items() %}{{ k }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}</td>
<td class="warn">{{ h.warnings|join('; ') }}</td></tr>{% endfor %}</table>
{% else %}<p>No crawl in this window.</p>{% endif %}
<h2>Findings with evidence</h2>
{% for f in d.findings %}<div class="finding" id="v{{ f.id }}">
<h3 class="{{ f.kind }}">#{{ f.id }} {{ f.kind }}: {{ f.rule }} ({{ f.mode }}), {{ f.sku }} at {{ f.partner }}
(tier {{ f.tier }}, {{ f.region or '-' }}), {{ f.status }}, {{ f.severity }}</h3>
{% if f.rule == 'partner_misreport' %}<p>Reported <b>{{ f.allowed|money(f.currency) }}</b>, shop showed
<b>{{ f.price|money(f.currency) }}</b>{% if f.raw_text %} (shown as "{{ f.raw_text }}"){% endif %}{% if f.url %}
on <a href="{{ f.url }}">the page</a>{% endif %}.
{% else %}<p>Advertised <b>{{ f.price|money(f.currency) }}</b>
{%- if f.raw_text %} (shown as "{{ f.raw_text }}"){% endif %};
allowed {{ f.allowed|money(f.currency) }}{% if f.gap_pct is not none %}, gap {{ f.gap_pct }}%{% endif %}.{% endif %}
Policy v{{ f.policy_version }}: {{ f.rule_ref or '-' }}. Seen {{ f.first_seen_at|when }} to {{ f.last_seen_at|when }}
({{ f.occurrences }}x{% if f.repeat > 1 %}, repeat {{ f.repeat }}{% endif %}{% if f.escalation %},
escalation: {{ f.escalation }}{% endif %}).</p>
<p>Page: {% if f.url %}<a href="{{ f.url }}">{{ f.url }}</a>{% else %}-{% endif %}<br>
HTML snapshot SHA-256: <code>{{ f.html_sha256 or 'none' }}</code><br>
Screenshot SHA-256: <code>{{ f.screenshot_sha256 or 'none' }}</code></p>
{% if f.screenshot_file %}<a href="{{ f.screenshot_file }}"><img src="{{ f.screenshot_file }}"
alt="screenshot of {{ f.url }}"></a>{% endif %}
</div>{% endfor %}
</body></html>
"""


def render_html(data: ReportData) -> str:
    """The report as one HTML page (autoescaped: page text and URLs come from partners' sites)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    env.filters["when"] = lambda v: "-" if v is None else f"{v:%Y-%m-%d %H:%M} UTC"
    env.filters["money"] = lambda v, cur: "-" if v is None else f"{_amount(v, cur)} {cur or ''}".strip()
    return env.from_string(_TEMPLATE).render(d=data)


def write_report(data: ReportData, folder: Path, name: str, *, evidence: Any = None,
                 max_screenshots: int = 200) -> Path:
    """Write ``<folder>/<name>.html`` and the screenshots it shows (verified on read) beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = folder / f"{name}-evidence"
    copied = 0
    for finding in data.findings:
        sha = finding.get("screenshot_sha256")
        if not sha or evidence is None or copied >= max_screenshots:
            continue
        target = shots / f"{sha}.png"
        if not target.exists():
            shots.mkdir(parents=True, exist_ok=True)
            target.write_bytes(evidence.get(sha))  # get() checks the bytes against the SHA-256
        finding["screenshot_file"] = f"{shots.name}/{target.name}"
        copied += 1
    path = folder / f"{name}.html"
    path.write_text(render_html(data), encoding="utf-8")
    return path


def _amount(value: Any, currency: str | None) -> Decimal:
    """An amount with its currency's minor unit of places, and no fewer than it needs (PostgreSQL's
    NUMERIC reads back ``180.0000``; a price of ``0.1234`` keeps its four places)."""
    amount = Decimal(str(value))
    needed = -int(amount.normalize().as_tuple().exponent)
    places = max(minor_units(currency) if currency else 2, needed, 0)
    return amount.quantize(Decimal(1).scaleb(-places))
