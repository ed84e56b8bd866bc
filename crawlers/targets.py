"""What to crawl: the active listings of the store or a listing file, split into shards by site.

A :class:`Target` is one page to fetch with everything the pipeline needs to file what it finds
(listing, product, partner ids). A site always lands in the same shard (a stable hash of its
host:port) so that one process owns that site's politeness: its concurrency, delays and robots.txt.
"""

from __future__ import annotations

import copy
import csv
import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pricewarden.errors import ConfigError

LISTING_COLUMNS = ("url", "sku", "partner", "seller_id", "profile", "region")


@dataclass(slots=True)
class Target:
    """One page to crawl and how to file its prices."""

    url: str
    sku: str | None = None
    partner: str | None = None
    seller_id: str | None = None
    profile: str | None = None
    region: str | None = None
    listing_id: int | None = None
    product_id: int | None = None
    partner_id: int | None = None
    kind: str = "product"  # product | discovery (a search/category page)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def site(self) -> str:
        """The site as host[:port], lower case (the same as ``Listing.site``)."""
        return site_of(self.url)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, to cross a process boundary; what ``dataclasses.asdict`` gives, without its walk.

        Every page's item carries its target so: ``asdict`` deep-copies it field by field (~90 µs a page
        on a loaded core, 15 times this); only ``extra`` can hold anything to copy.
        """
        data = {name: getattr(self, name) for name in _TARGET_FIELDS}
        data["extra"] = copy.deepcopy(self.extra) if self.extra else {}
        return data


_TARGET_FIELDS = tuple(f.name for f in fields(Target))


def site_of(url: str) -> str:
    """host[:port] of ``url`` in lower case."""
    return urlsplit(url).netloc.lower()


def shard_of(site: str, shards: int) -> int:
    """The shard (0..shards-1) that owns ``site``; stable across processes and runs."""
    return zlib.crc32(site.encode()) % max(shards, 1)


def split_sites(targets: Iterable[Target], shards: int, site_limit: int) -> dict[str, int]:
    """Sites too big for one shard, each with the number of shards that share it.

    A site with more listings than a shard's fair share is split over up to ``min(shards,
    site_limit)`` shards (at least one connection each within the per-site limit); a limit of 1
    cannot be shared.
    """
    counts: dict[str, int] = {}
    for target in targets:
        counts[target.site] = counts.get(target.site, 0) + 1
    fair = sum(counts.values()) / max(shards, 1)
    if shards <= 1 or site_limit <= 1 or not fair:
        return {}
    split = {site: min(shards, site_limit, n, math.ceil(n / fair)) for site, n in counts.items() if n > fair}
    return {site: parts for site, parts in split.items() if parts > 1}


def place_sites(targets: Iterable[Target], shards: int, split: dict[str, int] | None = None) -> dict[str, int]:
    """The shard each site starts at, balancing listings over the shards.

    The biggest site first, each to the shard(s) with the fewest listings so far; a site shared by
    ``split[site]`` shards counts its share on each of them. A hash alone (:func:`shard_of`) can put
    most sites in one shard when there are few sites, leaving the other shards idle; ties go to the
    hash's shard, so the placement is stable while the listings are.
    """
    counts: dict[str, int] = {}
    for target in targets:
        counts[target.site] = counts.get(target.site, 0) + 1
    shards = max(shards, 1)
    load = [0.0] * shards
    placement: dict[str, int] = {}
    for site, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        parts = min(max((split or {}).get(site, 1), 1), shards)
        home = shard_of(site, shards)

        def cost(base: int, parts: int = parts) -> float:
            return max(load[(base + k) % shards] for k in range(parts))

        base = min(range(shards), key=lambda b: (cost(b), b != home, b))
        for k in range(parts):
            load[(base + k) % shards] += n / parts
        placement[site] = base
    return placement


def shard_for(target: Target, shards: int, split: dict[str, int] | None = None,
              placement: dict[str, int] | None = None) -> int:
    """The shard that crawls ``target``: its site's (``placement[site]``, else :func:`shard_of`), or, for a
    site shared by ``split[site]`` shards, one of the shards from there on, by listing id (stable across runs)."""
    base = (placement or {}).get(target.site, shard_of(target.site, shards)) % max(shards, 1)
    parts = (split or {}).get(target.site, 1)
    if parts <= 1:
        return base
    key = target.listing_id if target.listing_id is not None else zlib.crc32(target.url.encode())
    return (base + key % parts) % max(shards, 1)


def split_shards(targets: Iterable[Target], shards: int,
                 cost: Callable[[Target], float] | None = None) -> list[list[Target]]:
    """Targets grouped into ``shards`` crawl processes, each site whole in one of them; empty ones dropped.

    Sites go to the least-loaded process, the costliest site first (``cost`` of a target: 1 by
    default; a page the browser renders costs far more than a static one), so that one process
    does not crawl while the other idles. Which machine crawls a site is :func:`shard_of`'s business.
    """
    return [plan.targets for plan in plan_shards(targets, shards, cost=cost)]


@dataclass
class ShardPlan:
    """One crawl process's share: its targets, and how many connections it may open to each site it
    shares with other processes (``site_concurrency``; sites it has whole use the per-site limit)."""

    targets: list[Target] = field(default_factory=list)
    site_concurrency: dict[str, int] = field(default_factory=dict)
    load: float = 0.0


def plan_shards(targets: Iterable[Target], shards: int, cost: Callable[[Target], float] | None = None,
                site_limit: int = 1, site_limits: dict[str, int] | None = None) -> list[ShardPlan]:
    """Targets dealt to ``shards`` crawl processes by cost; a site too big for one process is shared.

    A site whose pages cost more than one process's fair share is split by listing over up to
    ``min(shards, site_limit)`` processes when its connection limit allows (``site_limit``, the
    per-site concurrency, is at least 2): each part may open ``site_limit // parts`` connections, so
    the site never gets more than ``site_limit`` at once from this machine however it is split. The
    parts go to different processes. Other sites stay whole (one process owns their politeness).
    ``site_limits`` lowers the limit of some sites (those another machine crawls too). Empty
    processes are dropped.
    """
    weigh = cost or (lambda _t: 1.0)
    count = max(shards, 1)
    sites = [(sum(weigh(t) for t in members), site, members) for site, members in by_site(targets).items()]
    fair = sum(c for c, _s, _m in sites) / count
    pieces: list[tuple[float, str, list[Target], int | None]] = []
    for site_cost, site, members in sites:
        limit = (site_limits or {}).get(site, site_limit)
        parts = 1
        if count > 1 and limit > 1 and fair > 0 and site_cost > fair:
            parts = min(count, limit, len(members), math.ceil(site_cost / fair))
        if parts == 1:
            pieces.append((site_cost, site, members, limit if site in (site_limits or {}) else None))
            continue
        for part in range(parts):
            share = members[part::parts]
            pieces.append((sum(weigh(t) for t in share), site, share, limit // parts))
    pieces.sort(key=lambda item: (-item[0], item[1]))
    plans = [ShardPlan() for _ in range(count)]
    for piece_cost, site, members, connections in pieces:
        # A site's parts go to different processes (each part's connections are counted once).
        free = [p for p in plans if site not in p.site_concurrency] or plans
        lightest = min(free, key=lambda p: p.load)
        lightest.targets.extend(members)
        lightest.load += piece_cost
        if connections is not None:
            lightest.site_concurrency[site] = connections
    return [plan for plan in plans if plan.targets]


def by_site(targets: Iterable[Target]) -> dict[str, list[Target]]:
    """Targets grouped by site (host:port), sites and targets in their first-seen order."""
    groups: dict[str, list[Target]] = {}
    for target in targets:
        groups.setdefault(target.site, []).append(target)
    return groups


def read_listing_file(path: Path) -> list[Target]:
    """Targets from a CSV with columns url,sku,partner,seller_id,profile,region (only url is required)."""
    if not path.is_file():
        raise ConfigError(f"listing file {path} does not exist")
    targets: list[Target] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "url" not in reader.fieldnames:
            raise ConfigError(f"{path}: a listing file needs a header with at least a 'url' column")
        for line, row in enumerate(reader, start=2):
            url = (row.get("url") or "").strip()
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"{path}:{line}: {url!r} is not an http(s) URL")
            values: dict[str, Any] = {col: (row.get(col) or "").strip() or None for col in LISTING_COLUMNS[1:]}
            targets.append(Target(url=url, **values))
    return targets


def resolve_ids(session: Any, targets: list[Target]) -> list[Target]:
    """Fill listing, product and partner ids from the store (by URL, SKU and partner code)."""
    from sqlalchemy import select

    from store.models import Listing, Partner, Product

    urls = [t.url for t in targets]
    listings = {row.url: row for row in session.scalars(select(Listing).where(Listing.url.in_(urls)))}
    skus = {t.sku for t in targets if t.sku}
    products = dict(session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())
    codes = {t.partner for t in targets if t.partner}
    partners = dict(session.execute(select(Partner.code, Partner.id).where(Partner.code.in_(codes))).all())
    for target in targets:
        listing = listings.get(target.url)
        if listing is not None:
            target.listing_id = listing.id
            target.product_id = target.product_id or listing.product_id
            target.partner_id = target.partner_id or listing.partner_id
            target.seller_id = target.seller_id or listing.seller_id
            target.profile = target.profile or listing.profile
            target.region = target.region or listing.region
        if target.sku and target.product_id is None:
            target.product_id = products.get(target.sku)
        if target.partner and target.partner_id is None:
            target.partner_id = partners.get(target.partner)
    return targets


def active_listings(session: Any, site: str | None = None) -> list[Target]:
    """Targets for every active listing in the store (optionally of one site)."""
    from sqlalchemy import select

    from store.models import Listing, Partner, Product

    query = (
        select(Listing, Product.sku, Partner.code)
        .outerjoin(Product, Listing.product_id == Product.id)
        .outerjoin(Partner, Listing.partner_id == Partner.id)
        .where(Listing.active.is_(True))
        .order_by(Listing.id)
    )
    if site:
        query = query.where(Listing.site == site.lower())
    return [
        Target(
            url=listing.url, sku=sku, partner=code, seller_id=listing.seller_id, profile=listing.profile,
            region=listing.region, listing_id=listing.id, product_id=listing.product_id,
            partner_id=listing.partner_id,
        )
        for listing, sku, code in session.execute(query)
    ]
