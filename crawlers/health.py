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
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
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
        if self.kinds.get("stalled"):
            notes.append(f"{self.kinds['stalled']} page(s) not read: their crawl process finished nothing for "
                         "crawl.stall_timeout seconds and was stopped")
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


def crawl_day_rows(session: Session, start: datetime | None, end: datetime | None, zone: Any,
                   read_pages: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Pages per site and calendar day (in ``zone``) in ``[start, end)``: with a price, undecided, failed, and
    failures by kind, counted as :func:`site_health` counts a window but within each day (a page is one URL
    in one crawl run on one day). The rows of ``crawl_days``, and what readers work out when it is stale.

    The observations (a first detection run's rollup reads the whole store) are read as plain columns and
    counted by column: the site worked out once per URL, the day once per instant by pandas, the distinct
    pages found by code, not a set entry per row. ``read_pages``: the crawled rows a detection run read with its
    frame (:func:`detection.frames.observations_frame`) from an instant at or before ``start``, instead of
    reading them again."""
    read = read_pages
    if read is not None and read["from"] is not None and (start is None or read["from"] > start):
        raise ValueError("read_pages: read from a later instant than the days asked for")
    day, url, run, undecided, urls = _crawled_pages(session, start, end, zone) if read is None \
        else _page_columns(read["observed_ns"], read["url"], read["run"], read["undecided"], zone, start, end)
    sites = np.array([site_of(u or "") for u in urls] + [site_of("")], dtype=object)  # URL code -1: none
    site_codes, names = pd.factorize(sites)
    site = site_codes[url]  # one code per site (the URLs of a site share it)
    # Distinct pages (URL, run) per day, the first kept of each (undecided, day, URL, run): a page counts as
    # undecided only when it has no decided observation that day.
    pages = pd.DataFrame({"day": day, "url": url, "run": run, "undecided": undecided, "site": site})
    pages = pages.drop_duplicates(["undecided", "day", "url", "run"])
    decided = pages[~pages["undecided"]]
    waiting = pages[pages["undecided"]]
    waiting = waiting[~_pairs(waiting).isin(_pairs(decided))]
    ok_count = {(names[int(s)], _date(int(d))): int(n) for (s, d), n in decided.groupby(["site", "day"]).size().items()}
    waiting_count = {(names[int(s)], _date(int(d))): int(n)
                     for (s, d), n in waiting.groupby(["site", "day"]).size().items()}
    seen = {(names[int(s)], _date(int(d))) for s, d in pages[["site", "day"]].drop_duplicates().itertuples(index=False)}
    failed: dict[tuple[str, Any], set[tuple[str | None, int | None]]] = defaultdict(set)
    kinds: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    fails = select(CrawlFailure.site, CrawlFailure.url, CrawlFailure.crawl_run_id, CrawlFailure.kind,
                   CrawlFailure.occurred_at)
    if start is not None:
        fails = fails.where(CrawlFailure.occurred_at >= start)
    if end is not None:
        fails = fails.where(CrawlFailure.occurred_at < end)
    failures = session.execute(fails).all()
    # The observed pages of the failures' URLs, as the (site, day, URL, run) a failure is matched against.
    wanted = {u for _, u, _, _, _ in failures}
    url_code = {u: i for i, u in enumerate(urls)}
    codes = [url_code[u] for u in wanted if u in url_code] + ([-1] if None in wanted else [])
    observed = pages[pages["url"].isin(codes)] if failures else pages.iloc[:0]
    crawled = {(str(sites[int(u)]), _date(int(d)), None if int(u) < 0 else urls[int(u)], None if int(r) < 0 else int(r))
               for d, u, r in observed[["day", "url", "run"]].itertuples(index=False)}
    for fail_site, fail_url, run_id, kind, at in failures:
        key = (fail_site, at.astimezone(zone).date())
        kinds[key][kind] += 1
        if (*key, fail_url, run_id) not in crawled:
            failed[key].add((fail_url, run_id))
    return [{"site": s, "day": d, "ok": ok_count.get((s, d), 0), "undecided": waiting_count.get((s, d), 0),
             "failed": len(failed.get((s, d), ())), "kinds": dict(kinds.get((s, d), {}))}
            for s, d in sorted(seen | set(failed) | set(kinds))]


def _pairs(pages: pd.DataFrame) -> pd.MultiIndex:
    """Each page's (day, URL, run)."""
    return pd.MultiIndex.from_frame(pages[["day", "url", "run"]])


def _date(day: int) -> date:
    return EPOCH_DAY + timedelta(days=day)


EPOCH_DAY = date(1970, 1, 1)


def _crawled_pages(session: Session, start: datetime | None, end: datetime | None,
                   zone: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """Crawled observations in ``[start, end)`` as columns: the local day (days since 1970-01-01 in ``zone``),
    a code per URL (-1: none), the crawl run (-1: none), undecided; and the URL of each code.

    Read from the driver's cursor without type processing: instants as integer microseconds computed by
    PostgreSQL, or SQLite's UTC text parsed by column."""
    from detection.frames import instant_column, instants_ns

    o = Observation
    dialect = session.get_bind().dialect.name
    stmt = select(instant_column(o.observed_at, dialect), o.url, o.crawl_run_id, o.undecided) \
        .where(o.source == Source.CRAWL.value)
    if start is not None:
        stmt = stmt.where(o.observed_at >= start)
    if end is not None:
        stmt = stmt.where(o.observed_at < end)
    parts: list[list[Any]] = [[], [], [], []]
    result = session.connection().execute(stmt)
    while chunk := result.cursor.fetchmany(100_000):
        for store, values in zip(parts, zip(*chunk, strict=True), strict=True):
            store.extend(values)
    result.close()
    instants, url_values, runs, undecided = parts
    if not instants:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool), []
    return _page_columns(instants_ns(instants, dialect), url_values, runs, undecided, zone)


def _page_columns(
    ns: Any, url_values: Any, runs: Any, undecided: Any, zone: Any, start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """:func:`_crawled_pages`'s columns from the rows' instants (integer nanoseconds, UTC), URLs, runs and
    undecided flags, narrowed to ``[start, end)``."""
    ns = np.asarray(ns, dtype=np.int64)
    if start is not None or end is not None:
        keep = np.ones(len(ns), dtype=bool)
        if start is not None:
            keep &= ns >= pd.Timestamp(start).value
        if end is not None:
            keep &= ns < pd.Timestamp(end).value
        if not keep.all():
            ns, url_values = ns[keep], np.asarray(url_values, dtype=object)[keep]
            runs, undecided = np.asarray(runs, dtype=object)[keep], np.asarray(undecided, dtype=object)[keep]
    if not len(ns):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool), []
    at = pd.DatetimeIndex(pd.to_datetime(ns, utc=True))
    local = at.tz_convert(zone).tz_localize(None).as_unit("ns").asi8
    day = np.floor_divide(local, 86_400 * 10**9)
    codes, uniques = pd.factorize(pd.Series(url_values, dtype=object), use_na_sentinel=True)
    run = pd.Series(runs, dtype=object).fillna(-1).to_numpy(dtype=np.int64)
    return (np.asarray(day, dtype=np.int64), np.asarray(codes, dtype=np.int64), run,
            np.asarray(undecided, dtype=bool), [str(u) for u in uniques])


def _day_rows(session: Session, days: Any) -> list[dict[str, Any]]:
    """``crawl_days`` rows of ``days`` (a :class:`detection.rollups.Days`): stored, or worked out live."""
    from store.models import CrawlDay
    from store.rollups import rollups_fresh

    if rollups_fresh(session, days.zone.key):
        return [{"site": r.site, "day": r.day, "ok": r.ok, "undecided": r.undecided, "failed": r.failed,
                 "kinds": r.kinds or {}} for r in session.execute(
                    select(CrawlDay.site, CrawlDay.day, CrawlDay.ok, CrawlDay.undecided, CrawlDay.failed,
                           CrawlDay.kinds)
                    .where(CrawlDay.day >= days.first, CrawlDay.day <= days.last))]
    return crawl_day_rows(session, days.start, days.end, days.zone)


def _summed(rows: list[dict[str, Any]]) -> dict[str, SiteHealth]:
    sites: dict[str, SiteHealth] = {}
    for row in rows:
        h = sites.get(row["site"])
        if h is None:
            h = sites[row["site"]] = SiteHealth(site=row["site"])
        h.ok += row["ok"]
        h.undecided += row["undecided"]
        h.failed += row["failed"]
        h.pages += row["ok"] + row["undecided"] + row["failed"]
        for kind, n in (row["kinds"] or {}).items():
            h.kinds[kind] = h.kinds.get(kind, 0) + int(n)
    return sites


def site_health_days(session: Session, days: Any) -> list[SiteHealth]:
    """Crawl health of every site fetched on ``days`` (a :class:`detection.rollups.Days`), compared with as
    many days before: :func:`site_health` by whole days, read from the ``crawl_days`` rollup."""
    earlier = days.before()
    rows = _day_rows(session, type(days)(earlier.first, days.last, days.zone))
    current = _summed([r for r in rows if r["day"] >= days.first])
    previous = _summed([r for r in rows if r["day"] < days.first])
    for site, health in current.items():
        before = previous.get(site)
        if before is not None and before.pages:
            health.previous_rate = before.failure_rate
    return sorted(current.values(), key=lambda h: (-h.failure_rate, h.site))


def failure_rate_days(session: Session, days: Any) -> dict[str, Any]:
    """Each site's failure rate per day of ``days`` (``None`` on a day the site was not fetched), from the
    ``crawl_days`` rollup: failed pages / pages that gave a price, were undecided or failed."""
    cells = {(r["site"], r["day"]): r for r in _day_rows(session, days)}
    dates = days.dates()
    rates: dict[str, list[float | None]] = {}
    for site in sorted({site for site, _day in cells}):
        line: list[float | None] = []
        for day in dates:
            row = cells.get((site, day))
            total = row["ok"] + row["undecided"] + row["failed"] if row else 0
            line.append(round(row["failed"] / total, 4) if row and total else None)
        rates[site] = line
    return {"days": [d.isoformat() for d in dates], "sites": rates}


def site_names(session: Session, sites: list[str], profiles: list[Any] | None = None) -> dict[str, str]:
    """A name people know for each site (host or host:port): the partner whose ``domains`` hold it, else
    the site profile that matches it, else the host itself."""
    from store.models import Partner

    names: dict[str, str] = {}
    # Each domain -> the first partner (in the partners' order) that declares it: a site is named by the first
    # partner holding its host, its host without the port, or a parent domain of it.
    owner: dict[str, tuple[int, str]] = {}
    for order, (name, domains) in enumerate(session.execute(select(Partner.name, Partner.domains))):
        for d in domains or []:
            owner.setdefault(str(d).lower(), (order, name))
    for site in sites:
        host = site.lower()
        bare = host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host
        labels = bare.split(".")
        candidates = {host, bare, *(".".join(labels[i:]) for i in range(1, len(labels)))}
        found = min((owner[d] for d in candidates if d in owner), default=None)
        if found is not None:
            names[site] = found[1]
        else:
            profile = next((p for p in profiles or () if p.matches(f"http://{site}/")), None)
            names[site] = profile.name if profile is not None else site
    return names


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
