"""Turn what the spider saw into rows, and write them in batches that a re-run cannot duplicate.

Each page becomes evidence blobs (the HTML snapshot, a screenshot when rendered), and either
observations (one per price: one per seller offer on a marketplace page; one with no price and
``undecided`` set for a page whose price the cascade could not single out) or a ``CrawlFailure``.
Rows carry natural keys (``obs_key``, ``failure_key``, the evidence SHA-256) and are written with
``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike, so a retried or repeated run
stores nothing twice.

The key's instant is the run's slot (``at``) when the caller gives one (a scheduled monitor run and
its retries), else the fetch instant; ``observed_at`` is always the instant the page was fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select, update

from pricewarden.keys import digest_key
from store.models import Availability, CrawlFailure, CrawlRun, Evidence, Listing, Observation, Partner, Source

_AVAILABILITY = {"InStock": Availability.IN_STOCK.value, "OutOfStock": Availability.OUT_OF_STOCK.value}


def _joined(parts: tuple[object, ...]) -> str:
    return "\x1f".join("" if p is None else str(p) for p in parts)


def natural_key(*parts: object) -> str:
    """SHA-256 hex of the parts joined with a separator that cannot occur in them."""
    return hashlib.sha256(_joined(parts).encode()).hexdigest()


def observation_key(*parts: object) -> bytes:
    """An observation's natural key of the parts, joined as ``natural_key`` joins them: the first 16 bytes of their
    SHA-256 (``pricewarden.keys.digest_key``), which is what ``observations.obs_key`` holds."""
    return digest_key(_joined(parts))


def key_instant(item: dict[str, Any]) -> str:
    """The instant a row's natural key uses: the run slot when given, else the fetch instant."""
    at = item.get("run_at") or item["fetched_at"]
    return at.isoformat() if isinstance(at, datetime) else str(at)


@dataclass
class Batch:
    """Rows of a batch of pages, ready to insert."""

    blobs: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)  # sha -> (data, kind, type)
    observations: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    seen_listings: set[int] = field(default_factory=set)

    def merge(self, other: Batch) -> None:
        """Add ``other``'s rows to this batch."""
        self.blobs.update(other.blobs)
        self.observations.extend(other.observations)
        self.failures.extend(other.failures)
        self.seen_listings.update(other.seen_listings)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def add_item(batch: Batch, item: dict[str, Any], *, run_id: int | None, seller_partners: dict[str, int]) -> None:
    """Add the rows of one spider item (a ``page`` or a ``failure``) to ``batch``."""
    target = item["target"]
    html_sha = None
    if item.get("html"):
        html_sha = _sha(item["html"])
        batch.blobs[html_sha] = (item["html"], "html", "text/html")
    shot_sha = None
    if item.get("screenshot"):
        shot_sha = _sha(item["screenshot"])
        batch.blobs[shot_sha] = (item["screenshot"], "screenshot", "image/png")
    instant = key_instant(item)
    site = target["url"].split("/")[2].lower()
    for failure in item.get("failures", ()):
        batch.failures.append({
            "failure_key": natural_key("failure", target["url"], failure["kind"], instant),
            "listing_id": target.get("listing_id"),
            "site": site,
            "url": target["url"],
            "kind": failure["kind"],
            "status": failure.get("status"),
            "detail": failure.get("detail", "")[:4000],
            "html_sha256": html_sha,
            "crawl_run_id": run_id,
            "occurred_at": item["fetched_at"],
        })
    extraction = item.get("extraction")
    if extraction is None or item.get("failed"):
        return
    if target.get("listing_id"):
        batch.seen_listings.add(target["listing_id"])
    for row in observation_rows(item, extraction, seller_partners):
        row.update(
            obs_key=observation_key(Source.CRAWL.value, target.get("listing_id") or target["url"],
                                    row["seller_id"] or row["seller_name"] or "", instant),
            html_sha256=html_sha, screenshot_sha256=shot_sha, crawl_run_id=run_id,
        )
        batch.observations.append(row)


def as_error(item: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """``item`` as an ``error`` failure: its HTML and screenshot kept as evidence, its extraction dropped."""
    detail = f"storing the page failed: {type(exc).__name__}: {exc}"[:2000]
    safe = {k: v for k, v in item.items() if k not in ("extraction", "cart")}
    return {**safe, "failures": [{"kind": "error", "status": item.get("status"), "detail": detail}]}


def observation_rows(item: dict[str, Any], ex: Any, seller_partners: dict[str, int]) -> list[dict[str, Any]]:
    """One row per price the page shows: each marketplace offer, or the page's own price."""
    target = item["target"]
    details: dict[str, Any] = {
        "final_url": item.get("final_url"),
        "status": item.get("status"),
        "rendered": bool(item.get("rendered")),
        "title": ex.title, "sku": ex.sku, "gtin": ex.gtin, "mpn": ex.mpn,
        "advertised_price": _dec(ex.price), "coupon": ex.coupon,
        "flags": list(ex.flags),
        "candidates": [c.as_dict() for c in ex.candidates[:10]],
    }
    undecided = ex.undecided is not None
    if undecided:
        details["undecided"] = {"reason": ex.undecided, "candidates": [c.as_dict() for c in ex.competing]}
    if item.get("cart"):
        details["cart"] = item["cart"]
    # The effective advertised price (after a visible coupon or instant discount) is what a policy judges.
    price = ex.effective_price if ex.effective_price is not None else ex.price
    base = {
        "source": Source.CRAWL.value,
        "listing_id": target.get("listing_id"),
        "product_id": target.get("product_id"),
        "url": target["url"],
        "observed_at": item["fetched_at"],
        "list_price": ex.regular_price,
        "shipping": ex.shipping,
        "availability": _AVAILABILITY.get(ex.availability or "", Availability.UNKNOWN.value),
        "visibility": ex.price_visibility,
        "method": ex.method,
        "confidence": float(ex.confidence),
        "undecided": undecided,
    }
    offers = [o for o in ex.sellers if o.price is not None or o.seller_id or o.seller_name]
    if not offers:
        visible = ex.price_visibility == "visible"
        return [{
            **base,
            "partner_id": target.get("partner_id"),
            "seller_name": None,
            "seller_id": target.get("seller_id"),
            # Hidden pricing is recorded as such: never a price, whatever the cart says.
            "price": price if visible else None,
            "currency": ex.currency,
            "raw_text": (ex.raw_text or "")[:500] or None,
            "details": details,
        }]
    rows = []
    for offer in offers:
        partner_id = seller_partners.get(offer.seller_id or "")
        if partner_id is None and offer.seller_id and offer.seller_id == target.get("seller_id"):
            partner_id = target.get("partner_id")
        rows.append({
            **base,
            "partner_id": partner_id,
            "seller_name": (offer.seller_name or "")[:200] or None,
            "seller_id": (offer.seller_id or "")[:200] or None,
            "price": offer.price,
            "currency": offer.currency or ex.currency,
            "raw_text": (offer.raw_text or "")[:500] or None,
            "visibility": "visible" if offer.price is not None else ex.price_visibility,
            "details": {**details, "buy_box": offer.buy_box, "offers_on_page": len(offers)},
        })
    return rows


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> int:
    """``INSERT ... ON CONFLICT (key) DO NOTHING`` for many rows; returns how many were new."""
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=[key])
    result = conn.execute(stmt, rows)
    return max(result.rowcount or 0, 0)


def write_batch(conn: Connection, batch: Batch, evidence: Any) -> tuple[int, int]:
    """Write a batch's blobs to the evidence store and its rows to the database; (new obs, new failures)."""
    evidence_rows = []
    for sha, (data, kind, content_type) in batch.blobs.items():
        compress = kind != "screenshot"  # PNG is compressed already
        evidence.write(data, compress=compress, sha=sha)
        evidence_rows.append({
            "sha256": sha, "kind": kind, "location": evidence.location(sha, compress),
            "content_type": content_type, "size": len(data), "compressed": compress,
        })
    insert_ignore(conn, Evidence.__table__, evidence_rows, "sha256")  # type: ignore[arg-type]
    new_obs = insert_ignore(conn, Observation.__table__, batch.observations, "obs_key")  # type: ignore[arg-type]
    new_fail = insert_ignore(conn, CrawlFailure.__table__, batch.failures, "failure_key")  # type: ignore[arg-type]
    if batch.seen_listings and batch.observations:
        conn.execute(
            update(Listing).where(Listing.id.in_(batch.seen_listings))
            .values(last_seen_at=max(o["observed_at"] for o in batch.observations))
        )
    return new_obs, new_fail


def seller_partner_map(conn: Connection) -> dict[str, int]:
    """Marketplace seller ID → partner id, from the partners' ``seller_ids``."""
    mapping: dict[str, int] = {}
    for partner_id, seller_ids in conn.execute(select(Partner.id, Partner.seller_ids)):
        for seller_id in seller_ids or ():
            mapping[str(seller_id)] = partner_id
    return mapping


def open_run(conn: Connection, run_key: str, shard: str, started_at: datetime) -> int:
    """The id of the ``CrawlRun`` named ``run_key``, created when new (a re-run of a slot reuses it)."""
    existing = conn.scalar(select(CrawlRun.id).where(CrawlRun.run_key == run_key))
    if existing is not None:
        return int(existing)
    insert_ignore(conn, CrawlRun.__table__, [{  # type: ignore[arg-type]
        "run_key": run_key, "shard": shard, "started_at": started_at, "stats": {},
    }], "run_key")
    return int(conn.scalar(select(CrawlRun.id).where(CrawlRun.run_key == run_key)) or 0)


def close_run(conn: Connection, run_id: int, finished_at: datetime, stats: dict[str, Any]) -> None:
    """Record a run's end and its counts."""
    conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(finished_at=finished_at, stats=stats))


def record_unread(conn: Connection, *, run_key: str, shard: str, targets: list[dict[str, Any]], run_at: Any,
                  kind: str, detail: str, now: datetime) -> int:
    """A failure of ``kind`` for each of ``targets`` that got neither an observation nor a failure in the crawl run
    ``run_key`` (a crawl process that was stopped: its pages must not vanish from crawl health); returns how many.

    The run is created when the process never opened it. Keyed like any failure of the slot ``run_at`` (else
    ``now``), so recording twice stores nothing twice.
    """
    run_id = open_run(conn, run_key, shard, now)
    # The run's own rows (no more than its pages; rare enough, a stopped process, to scan for them).
    read = set(conn.scalars(select(Observation.url).where(Observation.crawl_run_id == run_id).distinct()))
    read.update(conn.scalars(select(CrawlFailure.url).where(CrawlFailure.crawl_run_id == run_id).distinct()))
    batch = Batch()
    for target in targets:
        if target["url"] not in read:
            add_item(batch, {"target": target, "run_at": run_at, "fetched_at": now,
                             "failures": [{"kind": kind, "status": None, "detail": detail}]},
                     run_id=run_id, seller_partners={})
    return insert_ignore(conn, CrawlFailure.__table__, batch.failures, "failure_key")  # type: ignore[arg-type]


def profile_successes(conn: Connection, urls: Iterable[str]) -> set[str]:
    """URLs whose price a site profile has read before (so a profile that stops matching is *broken*)."""
    found: set[str] = set()
    chunk: list[str] = []

    def flush() -> None:
        query = select(Observation.url).where(
            Observation.url.in_(chunk), Observation.method == "profile", Observation.source == Source.CRAWL.value
        ).distinct()
        found.update(u for u in conn.scalars(query) if u)
        chunk.clear()

    for url in urls:
        chunk.append(url)
        if len(chunk) >= 500:
            flush()
    if chunk:
        flush()
    return found
