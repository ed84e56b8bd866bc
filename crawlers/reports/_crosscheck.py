"""Cross-check partner-reported prices against what the web showed: misreports.

:func:`find_misreports` is pure (plain records in, findings out, no I/O); :func:`cross_check` is the
thin store adapter that loads observations and calls it. Detection turns each :class:`Misreport`
into a violation of rule ``misreport``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

REPORTED_SOURCES = ("partner_report", "feed")
SAME_CRAWL = timedelta(hours=1)  # observations this close to the nearest one belong to the same crawl
WEB_SOURCE = "crawl"


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One observation as the cross-check sees it."""

    id: int
    partner_id: int
    product_id: int
    observed_at: datetime
    price: Decimal
    currency: str
    source: str = WEB_SOURCE
    # Where the price was: the page URL of a web observation; the channel a report row names (its
    # own-site URL or path), if any.
    channel: str | None = None


def same_channel(reported: str | None, url: str | None) -> bool:
    """True when a report row's channel (a URL, or a path on the partner's site) names page ``url``."""
    if not reported or not url:
        return False
    want = reported.strip().rstrip("/")
    if want.startswith(("http://", "https://")):
        return url.rstrip("/") == want
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path.rstrip("/") == want or parts.path.rstrip("/") == want


@dataclass(frozen=True, slots=True)
class Misreport:
    """A reported price that differs from the nearest web price of the same partner and SKU.

    ``diff_pct`` is (reported - web) / web * 100: positive when the partner reported more than
    shoppers were shown (the usual case: a compliant report over a lower advertised price).
    """

    partner_id: int
    product_id: int
    reported_observation_id: int
    web_observation_id: int
    reported_price: Decimal
    observed_price: Decimal
    currency: str
    reported_at: datetime
    observed_at: datetime
    diff_pct: Decimal
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data (Decimals and instants left for the JSON encoder)."""
        return asdict(self)


def find_misreports(
    reported: Iterable[PricePoint],
    web: Iterable[PricePoint],
    *,
    window_hours: float,
    tolerance_pct: float,
) -> list[Misreport]:
    """Compare each reported price with the web observation of the same partner, SKU and currency
    nearest in time, within ``window_hours`` either side; a difference above ``tolerance_pct``
    percent of the web price is a misreport. A report row that names its channel (the page on the
    partner's site) is compared with that page only, when it was crawled in the window: a partner
    may price its marketplace offer differently from its own shop. Reports with no web price in the
    window are skipped (nothing to compare with). Output is ordered by report instant, then
    observation id.
    """
    window = timedelta(hours=window_hours)
    tolerance = Decimal(str(tolerance_pct))
    series: dict[tuple[int, int, str], list[PricePoint]] = {}
    for point in web:
        series.setdefault((point.partner_id, point.product_id, point.currency), []).append(point)
    times: dict[tuple[int, int, str], list[datetime]] = {}
    for key, points in series.items():
        points.sort(key=lambda p: (p.observed_at, p.id))
        times[key] = [p.observed_at for p in points]
    found: list[Misreport] = []
    for report in reported:
        key = (report.partner_id, report.product_id, report.currency)
        if key not in series:
            continue
        points, at = series[key], times[key]
        i = bisect.bisect_left(at, report.observed_at)
        candidates = [points[j] for j in (i - 1, i) if 0 <= j < len(points)]
        candidates = [p for p in candidates if abs(p.observed_at - report.observed_at) <= window]
        if candidates and report.channel:
            # The named page, if it was crawled as near in time as the nearest page (the same crawl,
            # give or take an hour): not a later day's page when that day's own page failed.
            nearest_gap = min(abs(p.observed_at - report.observed_at) for p in candidates) + SAME_CRAWL
            lo = bisect.bisect_left(at, report.observed_at - nearest_gap)
            hi = bisect.bisect_right(at, report.observed_at + nearest_gap)
            named = [p for p in points[lo:hi] if same_channel(report.channel, p.channel)]
            candidates = named or candidates
        if not candidates:
            continue
        nearest = min(candidates, key=lambda p: (abs(p.observed_at - report.observed_at), p.id))
        if nearest.price <= 0:
            continue
        diff = (report.price - nearest.price) / nearest.price * 100
        if abs(diff) > tolerance:
            found.append(Misreport(
                report.partner_id, report.product_id, report.id, nearest.id, report.price, nearest.price,
                report.currency, report.observed_at, nearest.observed_at, diff.quantize(Decimal("0.01")),
                report.source,
            ))
    found.sort(key=lambda m: (m.reported_at, m.reported_observation_id))
    return found


def cross_check(
    session: Any,
    window_hours: float | None = None,
    tolerance_pct: float | None = None,
    *,
    since: datetime | None = None,
    partner_id: int | None = None,
) -> list[Misreport]:
    """Load reported and web observations from the store and run :func:`find_misreports`.

    Defaults come from ``detection.misreport_window_hours`` and ``detection.misreport_tolerance_pct``;
    ``since`` limits the reports examined (web observations are loaded from ``since - window``).
    """
    from sqlalchemy import select

    from pricewarden.settings import get_settings
    from store.models import Observation

    detection = get_settings().detection
    hours = float(window_hours if window_hours is not None else detection.misreport_window_hours)
    tolerance = tolerance_pct if tolerance_pct is not None else detection.misreport_tolerance_pct

    def load(sources: tuple[str, ...], start: datetime | None) -> list[PricePoint]:
        query = select(Observation.id, Observation.partner_id, Observation.product_id, Observation.observed_at,
                       Observation.price, Observation.currency, Observation.source, Observation.url,
                       Observation.details).where(
            Observation.source.in_(sources), Observation.price.is_not(None), Observation.currency.is_not(None),
            Observation.partner_id.is_not(None), Observation.product_id.is_not(None))
        if start is not None:
            query = query.where(Observation.observed_at >= start)
        if partner_id is not None:
            query = query.where(Observation.partner_id == partner_id)
        points = []
        for id_, partner, product, at, price, currency, source, url, details in session.execute(query):
            channel = url if url else (details or {}).get("channel") if isinstance(details, dict) else None
            points.append(PricePoint(id_, partner, product, at, price, currency, source, channel=channel))
        return points

    reported = load(REPORTED_SOURCES, since)
    web = load((WEB_SOURCE,), since - timedelta(hours=hours) if since else None)
    return find_misreports(reported, web, window_hours=hours, tolerance_pct=tolerance)
