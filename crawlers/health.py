"""Crawl health per site: pages, failures by kind, the failure rate and how it moved.

A *page* is one fetch of one URL in one crawl run; it succeeded when it produced at least one
observation with a decision (a price, or hidden pricing), was *undecided* when its only observation
is an undecided one (prices, but nothing singled out one: it waits for a person in the review app;
neither a success nor a failure), and failed when it produced a ``CrawlFailure`` and no observation. A page whose
profile stopped matching is a ``profile_broken`` failure (never a price) and is warned about.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawlers.targets import site_of
from store._types import utcnow
from store.models import CrawlFailure, Observation, Source

RATE_RISE = 0.10  # a failure rate this much higher than the previous window is worth a warning


@dataclass
class SiteHealth:
    """One site's crawl health in a window, with the previous window of the same length for comparison."""

    site: str
    pages: int = 0
    ok: int = 0
    failed: int = 0
    undecided: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    previous_rate: float | None = None

    @property
    def failure_rate(self) -> float:
        """Failed pages / pages in the window (0.0 when nothing was fetched)."""
        return self.failed / self.pages if self.pages else 0.0

    @property
    def profile_broken(self) -> int:
        """Pages where the site profile stopped matching."""
        return self.kinds.get("profile_broken", 0)

    @property
    def warnings(self) -> list[str]:
        """Why the operator should look at this site, if at all."""
        notes = []
        if self.profile_broken:
            notes.append(f"profile stopped matching on {self.profile_broken} page(s)")
        if self.undecided:
            notes.append(f"{self.undecided} page(s) undecided: a person picks their price in the review app "
                         "(/undecided)")
        if self.kinds.get("render_skipped"):
            notes.append(f"renders keep failing: {self.kinds['render_skipped']} page(s) not rendered "
                         "(the site is rendered less often until a render gives a price)")
        if self.previous_rate is not None and self.failure_rate - self.previous_rate >= RATE_RISE:
            notes.append(f"failure rate rose from {self.previous_rate:.0%} to {self.failure_rate:.0%}")
        elif self.previous_rate is None and self.pages and self.failure_rate >= 0.5:
            notes.append(f"failure rate {self.failure_rate:.0%}")
        return notes

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"site": self.site, "pages": self.pages, "ok": self.ok, "failed": self.failed,
                "undecided": self.undecided,
                "undecided_rate": round(self.undecided / self.pages, 4) if self.pages else 0.0,
                "failure_rate": round(self.failure_rate, 4), "previous_rate":
                None if self.previous_rate is None else round(self.previous_rate, 4),
                "kinds": dict(self.kinds), "warnings": self.warnings}


def _window(session: Session, start: datetime, end: datetime) -> dict[str, SiteHealth]:
    sites: dict[str, SiteHealth] = {}
    ok_pages: dict[str, set[tuple[str | None, int | None]]] = defaultdict(set)
    undecided_pages: dict[str, set[tuple[str | None, int | None]]] = defaultdict(set)
    obs = session.execute(
        select(Observation.url, Observation.crawl_run_id, Observation.undecided)
        .where(Observation.source == Source.CRAWL.value, Observation.observed_at >= start,
               Observation.observed_at < end)
        .distinct()
    )
    for url, run_id, undecided in obs:
        (undecided_pages if undecided else ok_pages)[site_of(url or "")].add((url, run_id))
    for site, pages in undecided_pages.items():
        pages -= ok_pages.get(site, set())
    failed_pages: dict[str, set[tuple[str, int | None]]] = defaultdict(set)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.execute(
        select(CrawlFailure.site, CrawlFailure.url, CrawlFailure.crawl_run_id, CrawlFailure.kind, func.count())
        .where(CrawlFailure.occurred_at >= start, CrawlFailure.occurred_at < end)
        .group_by(CrawlFailure.site, CrawlFailure.url, CrawlFailure.crawl_run_id, CrawlFailure.kind)
    )
    for site, url, run_id, kind, count in rows:
        kinds[site][kind] += count
        if (url, run_id) not in ok_pages.get(site, set()) and (url, run_id) not in undecided_pages.get(site, set()):
            failed_pages[site].add((url, run_id))
    for site in set(ok_pages) | set(failed_pages) | set(kinds) | set(undecided_pages):
        ok = len(ok_pages.get(site, ()))
        failed = len(failed_pages.get(site, ()))
        waiting = len(undecided_pages.get(site, ()))
        sites[site] = SiteHealth(site=site, pages=ok + failed + waiting, ok=ok, failed=failed, undecided=waiting,
                                 kinds=dict(kinds[site]))
    return sites


def site_health(session: Session, since: datetime, until: datetime | None = None) -> list[SiteHealth]:
    """Crawl health of every site fetched in ``[since, until)``, compared with the window before it."""
    until = until or utcnow()
    current = _window(session, since, until)
    previous = _window(session, since - (until - since), since)
    for site, health in current.items():
        before = previous.get(site)
        if before is not None and before.pages:
            health.previous_rate = before.failure_rate
    return sorted(current.values(), key=lambda h: (-h.failure_rate, h.site))


def browser_summary(session: Session, run_keys: list[str]) -> dict[str, Any] | None:
    """What the browser did in the crawl runs ``run_keys``: pages rendered, failed, skipped, pages/s.

    ``None`` when no page was rendered or skipped. Pages/s adds up each process's own rate (they
    render side by side).
    """
    from store.models import CrawlRun

    total: dict[str, Any] = {"rendered": 0, "failed": 0, "over_budget": 0, "skipped": 0, "pages_per_s": 0.0,
                             "sites_rendered_less": []}
    seen = False
    for stats in session.scalars(select(CrawlRun.stats).where(CrawlRun.run_key.in_(run_keys))):
        browser = (stats or {}).get("browser")
        if not browser:
            continue
        seen = True
        for key in ("rendered", "failed", "over_budget", "skipped"):
            total[key] += browser.get(key) or 0
        total["pages_per_s"] += browser.get("pages_per_s") or 0.0
        total["sites_rendered_less"] += browser.get("sites_rendered_less") or []
    total["pages_per_s"] = round(total["pages_per_s"], 2)
    total["sites_rendered_less"] = sorted(set(total["sites_rendered_less"]))
    return total if seen else None


def browser_line(summary: dict[str, Any]) -> str:
    """One line for people: ``browser: 30 pages rendered at 2.4 pages/s, 3 failed (2 over budget), 5 skipped``."""
    line = (f"browser: {summary['rendered']} page(s) rendered at {summary['pages_per_s']:g} pages/s, "
            f"{summary['failed']} failed ({summary['over_budget']} over the render budget), "
            f"{summary['skipped']} not rendered")
    if summary["sites_rendered_less"]:
        line += f"; rendered less often: {', '.join(summary['sites_rendered_less'])}"
    return line
