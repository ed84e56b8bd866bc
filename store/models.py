"""SQLAlchemy 2 models: the catalog, policy versions, observations, evidence, violations, the alert
outbox, partner report batches and the audit log.

Money columns are :class:`~store._types.Amount` (exact ``Decimal``); instants are
:class:`~store._types.UTCDateTime` (aware, UTC). Enumerations are stored as short strings so the
schema reads the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store._types import Amount, DigestKey, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same everywhere."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Amount(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Role(enum.StrEnum):
    """What a user may do and see."""

    ADMIN = "admin"
    BRAND_MANAGER = "brand_manager"
    CHANNEL_MANAGER = "channel_manager"
    PARTNER = "partner"


class PartnerStatus(enum.StrEnum):
    """Whether a partner is allowed to sell."""

    AUTHORISED = "authorised"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class Tier(enum.StrEnum):
    """Partner tier; policies may override rules by tier."""

    A = "A"
    B = "B"
    C = "C"


class Source(enum.StrEnum):
    """Where an observation came from."""

    CRAWL = "crawl"
    PARTNER_REPORT = "partner_report"
    FEED = "feed"


class Visibility(enum.StrEnum):
    """How the price is shown to a shopper; anything but ``visible`` is hidden pricing."""

    VISIBLE = "visible"
    CART_ONLY = "cart_only"
    LOGIN_ONLY = "login_only"


class Availability(enum.StrEnum):
    """Stock state as the page shows it."""

    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN = "unknown"


class FindingKind(enum.StrEnum):
    """A violation (the mode allows acting on it), a deviation (recorded only) or an anomaly (review)."""

    VIOLATION = "violation"
    DEVIATION = "deviation"
    ANOMALY = "anomaly"


class ViolationStatus(enum.StrEnum):
    """Lifecycle of a finding: open → acknowledged → resolved / dismissed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class DeliveryStatus(enum.StrEnum):
    """State of one outbox message."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REFUSED = "refused"


def _str(length: int = 200) -> Any:
    return mapped_column(String(length))


class User(Base):
    """A person using PriceWarden, or a partner's account. Passwords and API tokens are hashed."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    regions: Mapped[list[Any]] = mapped_column(default=list)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    api_token_hash: Mapped[str | None] = mapped_column(String(200))
    # Apprise URLs are secrets: tokens and passwords live inside them. Read them only through
    # store.secrets; every view and log shows them redacted.
    notification_urls: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner | None] = relationship(foreign_keys=[partner_id])

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Product(Base):
    """A SKU of the brand."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    mpn: Mapped[str | None] = mapped_column(String(100), index=True)
    brand: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str | None] = mapped_column(String(200), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


class Partner(Base):
    """A channel partner (distributor, reseller, marketplace seller) of the brand."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(1), default=Tier.C.value)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=PartnerStatus.AUTHORISED.value)
    domains: Mapped[list[Any]] = mapped_column(default=list)
    seller_ids: Mapped[list[Any]] = mapped_column(default=list)
    # SKUs or categories the partner is authorised to sell; empty = the whole catalog.
    authorised_skus: Mapped[list[Any]] = mapped_column(default=list)
    authorised_channels: Mapped[list[Any]] = mapped_column(default=list)
    channel_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    locale: Mapped[str] = mapped_column(String(10), default="en")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # Apprise URLs for formal notices to the partner itself (secrets, as for users).
    notice_urls: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel_manager: Mapped[User | None] = relationship(foreign_keys=[channel_manager_id])

    def __repr__(self) -> str:
        return f"<Partner {self.code} tier={self.tier}>"


class Listing(Base):
    """A page where a product is offered: URL → SKU → partner or marketplace seller."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"), index=True)
    seller_id: Mapped[str | None] = mapped_column(String(200))
    profile: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    discovered: Mapped[bool] = mapped_column(Boolean, default=False)
    match_method: Mapped[str | None] = mapped_column(String(30))
    match_confidence: Mapped[float | None] = mapped_column(Float)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()

    product: Mapped[Product | None] = relationship()
    partner: Mapped[Partner | None] = relationship()


class PolicyVersion(Base):
    """An immutable published version of the price policy (the YAML kept verbatim)."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    source_file: Mapped[str] = mapped_column(String(500), default="")
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_text: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(100), default="system")
    # Scope name -> mode in force when published: a scope without `mode` takes the region default
    # from settings, and a later settings change must not change an old version.
    scope_modes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Evidence(Base):
    """A piece of evidence addressed by the SHA-256 of its bytes (so it can be proven unchanged)."""

    __tablename__ = "evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # html, screenshot, report, receipt, pdf
    location: Mapped[str] = mapped_column(String(2000))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    compressed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl process (a shard of a monitor run) with its counts."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(100), unique=True)
    shard: Mapped[str | None] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Observation(Base):
    """One price seen at one instant: crawled from a page, reported by a partner, or read from a feed."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_product_observed", "product_id", "observed_at"),
        # A listing's latest observations (stale listings read each listing's latest valid crawl).
        Index("ix_observations_listing_observed", "listing_id", "observed_at"),
        # The review app's queue of undecided pages reads only these few rows.
        Index("ix_observations_undecided", "listing_id", "observed_at",
              sqlite_where=text("undecided"), postgresql_where=text("undecided")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Natural key (digest_key of source, listing/url, seller, instant) so that a re-run stores nothing twice.
    obs_key: Mapped[bytes] = mapped_column(DigestKey, unique=True)
    source: Mapped[str] = mapped_column(String(20))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    # No foreign key (PostgreSQL's check is a trigger, a lookup and a row lock per inserted row: a fifth of a
    # million-row report import's server time); OBSERVATION_CASCADES deletes a product's observations with it, as
    # ON DELETE CASCADE did. A report's rows name only products that the import checked and, on PostgreSQL, holds
    # locked (FOR KEY SHARE) until it commits, a batch's distinct products at once (crawlers.reports._sink); a
    # crawl's, its listing's product (the application deletes no product).
    product_id: Mapped[int | None] = mapped_column(Integer)
    # No foreign key, unlike the other references: PostgreSQL checks a key row by row (a trigger and a lookup per
    # row, about a sixth of a million-row report import's server time) and the value is never unchecked: a report's
    # rows take the partner that the import resolved and holds locked (FOR KEY SHARE) until it commits, a
    # crawl's the partner of its listing or seller read from partners. The application deletes no partner; a
    # partner deleted by hand leaves its observations' partner_id pointing nowhere (the queries join partners
    # with outer joins, or by id), where the key would have set it to NULL.
    partner_id: Mapped[int | None] = mapped_column(index=True)
    seller_name: Mapped[str | None] = mapped_column(String(200))
    seller_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    observed_at: Mapped[datetime] = mapped_column(index=True)
    price: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    raw_text: Mapped[str | None] = mapped_column(String(500))
    list_price: Mapped[Decimal | None] = mapped_column()
    shipping: Mapped[Decimal | None] = mapped_column()
    availability: Mapped[str] = mapped_column(String(20), default=Availability.UNKNOWN.value)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.VISIBLE.value)
    method: Mapped[str | None] = mapped_column(String(50))
    confidence: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # disagreements, coupons, etc.
    # The page shows prices but nothing singles out one: no price (never judged), the competing
    # candidates in details["undecided"]; it waits in the review app's queue for a person to pick.
    # (no Python default: bulk inserts that name their columns leave it to the server)
    undecided: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # What a person did with an undecided page: "picked" (a price rule was made for the site) or "dismissed".
    review: Mapped[str | None] = mapped_column(String(20))
    html_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    screenshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    # Not indexed: no query selects observations by batch (a batch's rows are found by obs_key on re-import), and
    # the application deletes no batch; a batch deleted by hand has its rows deleted by a scan of observations.
    # No foreign key, as product_id: the batch is the import's own, uncommitted until its rows are in, so no other
    # transaction can delete it meanwhile; OBSERVATION_CASCADES deletes a batch's observations with it.
    batch_id: Mapped[int | None] = mapped_column(Integer)
    row_number: Mapped[int | None] = mapped_column(Integer)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    listing: Mapped[Listing | None] = relationship()
    product: Mapped[Product | None] = relationship(primaryjoin="foreign(Observation.product_id) == Product.id")
    partner: Mapped[Partner | None] = relationship(primaryjoin="foreign(Observation.partner_id) == Partner.id")


# observations.product_id and .batch_id have no foreign keys (see Observation): deleting a product or a batch deletes
# its observations through these triggers, as ON DELETE CASCADE did (a partner's batches go with the partner by
# their own key, and their observations with them). make_baseline writes them into the migration.
_CASCADED = (("products", "product_id"), ("report_batches", "batch_id"))
OBSERVATION_CASCADES = {
    "postgresql": tuple(statement for parent, column in _CASCADED for statement in (
        f"CREATE FUNCTION {parent}_delete_observations() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"DELETE FROM observations WHERE {column} IN (SELECT id FROM gone); RETURN NULL; END $$",
        f"CREATE TRIGGER {parent}_delete_observations AFTER DELETE ON {parent} REFERENCING OLD TABLE AS gone "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {parent}_delete_observations()",
    )),
    "sqlite": tuple(f"CREATE TRIGGER {parent}_delete_observations AFTER DELETE ON {parent} BEGIN "
                    f"DELETE FROM observations WHERE {column} = old.id; END" for parent, column in _CASCADED),
}
OBSERVATION_CASCADES_DROP = {
    "postgresql": tuple(statement for parent, _ in _CASCADED for statement in (
        f"DROP TRIGGER IF EXISTS {parent}_delete_observations ON {parent}",
        f"DROP FUNCTION IF EXISTS {parent}_delete_observations()",
    )),
    "sqlite": tuple(f"DROP TRIGGER IF EXISTS {parent}_delete_observations" for parent, _ in _CASCADED),
}


class CrawlFailure(Base):
    """A fetch that yielded no price: 404, 5xx, timeout, block page, login wall, broken profile..."""

    __tablename__ = "crawl_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    failure_key: Mapped[str] = mapped_column(String(64), unique=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"), index=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    html_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReportBatch(Base):
    """One partner report import: a file or payload, its hash, counts and receipt."""

    __tablename__ = "report_batches"
    __table_args__ = (UniqueConstraint("partner_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str | None] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    receipt_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    submitted_by: Mapped[str] = mapped_column(String(100), default="system")

    partner: Mapped[Partner] = relationship()


class ReportRejection(Base):
    """A rejected row of a partner report, with the row number, column and reason."""

    __tablename__ = "report_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("report_batches.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


# The review queue's order by gap as an indexable expression (amounts are text on SQLite), written alike in the
# index and the query: descending puts the violations with no gap last, as does ascending.
GAP_DESC = "coalesce(CAST(gap_pct AS FLOAT), -1e300)"
GAP_ASC = "coalesce(CAST(gap_pct AS FLOAT), 1e300)"
# Its order by severity, least first (detection.lifecycle.SEVERITIES), likewise.
SEVERITY_RANK = ("(CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 WHEN 'critical' THEN 3 "
                 "ELSE -1 END)")  # in brackets: PostgreSQL indexes an expression only so


# The review queue's text search over a violation's own words (products and partners are matched in their own
# small tables), through a trigram index so that any part of a word of three letters or more is found without
# reading every violation: on PostgreSQL pg_trgm over this expression, on SQLite an FTS5 table kept by triggers.
# Neither is a model (autogenerate cannot write them): make_baseline writes SEARCH_DDL into the migration.
SEARCH_COLUMNS = ("seller_id", "seller_name", "url", "raw_text", "rule")
SEARCH_TABLE = "violations_search"
_COLS = ", ".join(SEARCH_COLUMNS)


def _joined(prefix: str) -> str:  # || and coalesce, as concat_ws is not immutable (no index over it)
    return "lower(" + " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in SEARCH_COLUMNS) + ")"


SEARCH_TEXT = _joined("violations.")
SEARCH_DDL = {
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX ix_{SEARCH_TABLE} ON violations USING gin (({_joined('')}) gin_trgm_ops)",
    ),
    "sqlite": (
        f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5({_COLS}, content='violations', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON violations BEGIN INSERT INTO {SEARCH_TABLE}"
        f"(rowid, {_COLS}) VALUES (new.id, {', '.join('new.' + c for c in SEARCH_COLUMNS)}); END",
        f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON violations BEGIN INSERT INTO {SEARCH_TABLE}"
        f"({SEARCH_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {', '.join('old.' + c for c in SEARCH_COLUMNS)});"
        " END",
        f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF {_COLS} ON violations BEGIN INSERT INTO "
        f"{SEARCH_TABLE}({SEARCH_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, "
        f"{', '.join('old.' + c for c in SEARCH_COLUMNS)}); INSERT INTO {SEARCH_TABLE}(rowid, {_COLS}) VALUES "
        f"(new.id, {', '.join('new.' + c for c in SEARCH_COLUMNS)}); END",
    ),
}
SEARCH_DROP = {"postgresql": (), "sqlite": (*(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{event}"
                                                for event in ("insert", "delete", "update")),
                                              f"DROP TABLE IF EXISTS {SEARCH_TABLE}")}


def beyond_autogenerate(name: str | None) -> bool:
    """Whether a table or index is written into the migration by make_baseline rather than compared by
    autogenerate: the text search's (:data:`SEARCH_DDL`) and the indexes over expressions (PostgreSQL reflects
    them in its own spelling, which never equals the model's)."""
    if not name:
        return False
    if str(name).startswith((SEARCH_TABLE, f"ix_{SEARCH_TABLE}")):
        return True
    return any(index.name == name and not all(isinstance(e, Column) for e in index.expressions)
               for table in Base.metadata.tables.values() for index in table.indexes)


class Violation(Base):
    """A finding with its lifecycle: a violation, a deviation (recommended mode) or an anomaly.

    ``key`` identifies the breach (rule, SKU, partner or seller, listing); one episode of it is
    open at a time (partial unique index), and each reopening after resolution is a repeat.
    """

    __tablename__ = "violations"
    __table_args__ = (
        Index(
            "uq_violations_open_key",
            "key",
            unique=True,
            sqlite_where=text("status IN ('open', 'acknowledged')"),
            postgresql_where=text("status IN ('open', 'acknowledged')"),
        ),
        # A channel manager's queue (partner_id IN their partners) and the partner and tier filters: the same
        # narrow columns as ix_violations_queue, partner first.
        Index("ix_violations_partner_status", "partner_id", "status", "kind", "rule", "severity", "snoozed_until",
              "last_seen_at", "first_seen_at", "gap_pct"),
        # The review queue's default order (newest first) reads the first page off this index; the date range,
        # the snooze and a manager's scope are read from it too (no row visited to reject it).
        Index("ix_violations_last_seen", "last_seen_at", "id", "first_seen_at", "snoozed_until", "partner_id"),
        # The review queue's count and page of ids: every filter but the text search and every sort but by
        # partner or SKU read only these columns, so counting or sorting 100,000 violations scans this narrow
        # index instead of the wide rows (status first: the usual filter).
        # On PostgreSQL the id is included (SQLite's indexes hold the rowid anyway): a filtered page in another order
        # (oldest first, deep) is then sorted from this index alone, where it read the table.
        Index("ix_violations_queue", "status", "kind", "rule", "severity", "partner_id", "product_id", "region",
              "escalation_step", "snoozed_until", "last_seen_at", "first_seen_at", "assignee_id", "gap_pct",
              postgresql_include=["id"]),
        # The API's cursor order (last change first to last): each page is a range read of this index.
        Index("ix_violations_updated", "updated_at", "id"),
        # The overview's violations closed per day: resolved ones by resolved_at, dismissed ones read whole.
        Index("ix_violations_closed", "status", "kind", "resolved_at", "updated_at", "last_seen_at", "partner_id"),
        # The partners list: each partner's highest repeat offence, one seek a partner.
        Index("ix_violations_partner_repeat", "partner_id", "kind", "repeat_number"),
        # The queue's other orders and filters, each a range read: oldest first (and deep pages of it), by gap
        # either way with the violations that have none last, and the seller filter (any case).
        Index("ix_violations_first_seen", "first_seen_at", "id", "last_seen_at", "snoozed_until", "partner_id"),
        Index("ix_violations_gap_desc", text(GAP_DESC), "id"),
        Index("ix_violations_gap_asc", text(GAP_ASC), "id"),
        Index("ix_violations_severity_rank", text(SEVERITY_RANK), "id"),
        # Partial: most violations have no seller id (a partner's own site), and a full index's statistics then say
        # one value covers every row, so SQLite scanned the table rather than read the index.
        Index("ix_violations_seller_name", text("lower(seller_name)"), sqlite_where=text("seller_name IS NOT NULL"),
              postgresql_where=text("seller_name IS NOT NULL")),
        Index("ix_violations_seller_id", text("lower(seller_id)"), sqlite_where=text("seller_id IS NOT NULL"),
              postgresql_where=text("seller_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=FindingKind.VIOLATION.value)
    rule: Mapped[str] = mapped_column(String(50))
    mode: Mapped[str] = mapped_column(String(20), default="map")
    status: Mapped[str] = mapped_column(String(20), default=ViolationStatus.OPEN.value)
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    seller_id: Mapped[str | None] = mapped_column(String(200))
    seller_name: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(20))
    observed_price: Mapped[Decimal | None] = mapped_column()
    allowed_price: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    gap: Mapped[Decimal | None] = mapped_column()
    gap_pct: Mapped[Decimal | None] = mapped_column()
    policy_version: Mapped[int | None] = mapped_column(Integer)
    rule_ref: Mapped[str | None] = mapped_column(String(300))  # which clause of the policy applied
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    compliant_streak: Mapped[int] = mapped_column(Integer, default=0)
    repeat_number: Mapped[int] = mapped_column(Integer, default=1)
    escalation_step: Mapped[str | None] = mapped_column(String(100))
    first_observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    last_observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(String(2000))
    raw_text: Mapped[str | None] = mapped_column(String(500))
    html_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    screenshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The manager who owns the follow-up (set by people, never by detection).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Until this instant the violation is out of the review queue and its alerts do not escalate.
    snoozed_until: Mapped[datetime | None] = mapped_column()
    # Whether the price is confirmed before anything partner-facing is sent (detection.confirm):
    # None (not looked at), not_needed, pending, agreed, disagreed, failed, confirmed.
    confirmation: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
    listing: Mapped[Listing | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class AlertDelivery(Base):
    """One message in the durable outbox: queued → sent | failed | refused.

    ``idempotency_key`` (violation, escalation step, recipient, target) makes a retry, a crash or a
    re-run unable to send the same message twice. ``target_ref`` names the recipient's Apprise URL
    by index and hash, never by value: URLs are secrets.
    """

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="alert")  # alert, digest, notice, info
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id", ondelete="CASCADE"), index=True)
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    recipient_label: Mapped[str] = mapped_column(String(200), default="")
    target_ref: Mapped[str] = mapped_column(String(100), default="")
    escalation_step: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # evidence SHA-256s
    # A webhook delivery (kind "webhook"): the subscription it goes to; body_text is the JSON signed at send time.
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    # Violation ids a digest lists, so that a violation is never digested (or alerted) twice.
    covers: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class PartnerResponse(Base):
    """A partner's answer to one of its violations in the portal: ``corrected`` or ``dispute``.

    It lands on the violation's timeline, alerts the responsible channel manager, and re-crawls the
    listing at once; ``recrawl_status`` (queued → running → done | failed) and ``observation_id`` tell
    what the re-crawl found.
    """

    __tablename__ = "partner_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violations.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # corrected | dispute
    comment: Mapped[str] = mapped_column(Text, default="")
    screenshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    recrawl_status: Mapped[str] = mapped_column(String(20), default="queued")
    recrawl_detail: Mapped[str] = mapped_column(Text, default="")
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class PolicyReceipt(Base):
    """A policy version sent to one partner whose prices it changes, and the partner's acknowledgement.

    ``ask_ack`` is true only when a ``map`` scope of the partner changed: the acknowledgement is of
    *receipt* of the brand's unilateral policy, never an agreement. ``recommended`` scopes are
    information only; ``observe`` scopes are never sent.
    """

    __tablename__ = "policy_receipts"
    __table_args__ = (UniqueConstraint("partner_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    modes: Mapped[list[Any]] = mapped_column(default=list)  # the modes of the changed scopes
    changes: Mapped[list[Any]] = mapped_column(default=list)  # [{sku, region, mode, before, after, currency}]
    ask_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    notified_at: Mapped[datetime] = mapped_column(default=utcnow)
    messages: Mapped[int] = mapped_column(Integer, default=0)  # outbox rows queued to its notice URLs
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))

    partner: Mapped[Partner] = relationship()


class Complaint(Base):
    """A partner's report of another seller's price (价格投诉): a URL crawled at once, and its outcome.

    ``outcome``: ``violation`` (a violation was found, ``violation_id``), ``compliant``,
    ``not_our_product`` or ``unreadable``; ``None`` while ``status`` is queued or running.
    """

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    comment: Mapped[str] = mapped_column(Text, default="")
    screenshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done
    outcome: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id", ondelete="SET NULL"))
    # What the complaining partner may see of the page: the price as shown on it, nothing of any partner.
    public_price: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()

    partner: Mapped[Partner] = relationship()


class PortalJob(Base):
    """A crawl the portal started and the request did not wait for: the durable queue of ``web.portal.jobs``.

    ``kind`` is ``recrawl`` (``target_id``: a partner response) or ``complaint`` (a complaint).
    ``status``: queued → running → done | failed. A worker claims a job atomically (queued → running,
    ``attempts`` + 1, ``claimed_at``, ``claimed_by``); a job left ``running`` longer than the stale timeout
    (its process died) is claimed again, up to the attempt limit, then ``failed`` with ``last_error``.
    """

    __tablename__ = "portal_jobs"
    __table_args__ = (Index("ix_portal_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class AnomalyModel(Base):
    """A trained, versioned anomaly model (parameters and the SHA-256 of its serialised artifact)."""

    __tablename__ = "anomaly_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence.sha256"))


class DetectionRun(Base):
    """One detection run over the store: what it had judged, so that the next run judges only what is new.

    ``observation_id``: every observation up to this id had been judged, but for the ``pending`` ids
    (not committed yet when it ran: :mod:`detection.incremental`). ``inputs``: what else the
    judgement depends on (policy versions, catalog, settings, anomaly model), to tell whether the
    history must be judged again. ``observed_until``: the data clock (latest valid crawl) it used.
    """

    __tablename__ = "detection_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    mode: Mapped[str] = mapped_column(String(20))  # full | incremental
    observation_id: Mapped[int] = mapped_column(Integer, default=0)
    observed_until: Mapped[datetime | None] = mapped_column()
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Ids at or below observation_id the run could not see (committed later): [first, last, missing since].
    pending: Mapped[list[Any]] = mapped_column(default=list)


class ComplianceDay(Base):
    """Crawled observations judged and compliant on one local day (the workspace's time zone), per partner (the
    seller as detection resolves it; none for a seller that is no partner) and region: the rollup the overview,
    the partners list and a partner's trend read instead of judging the history again. Rebuilt from a day on
    by each detection run (:mod:`detection.rollups`)."""

    __tablename__ = "compliance_days"
    __table_args__ = (Index("ix_compliance_days_day_partner", "day", "partner_id", "region", "judged", "compliant"),
                      Index("ix_compliance_days_partner_day", "partner_id", "day", "judged", "compliant"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    region: Mapped[str | None] = mapped_column(String(20))
    judged: Mapped[int] = mapped_column(Integer)
    compliant: Mapped[int] = mapped_column(Integer)


class CrawlDay(Base):
    """Crawled pages of one site on one local day: with a price, undecided, failed, and failures by kind (the
    rollup crawl health reads; pages counted as in :mod:`crawlers.health`, within the day)."""

    __tablename__ = "crawl_days"
    __table_args__ = (Index("ix_crawl_days_day_site", "day", "site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    site: Mapped[str] = mapped_column(String(255))
    ok: Mapped[int] = mapped_column(Integer)
    undecided: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RollupState(Base):
    """What the rollups (``compliance_days``, ``crawl_days``) were built from: one row. They answer only while
    the store holds no observation, crawl failure or policy version past these ids, nothing marked them
    stale, and the workspace's time zone is the one their days are in; otherwise readers judge live."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    observation_id: Mapped[int] = mapped_column(Integer, default=0)
    failure_id: Mapped[int] = mapped_column(Integer, default=0)
    policy_id: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    """One sign-in attempt to the web app, kept so that throttling holds across every worker process."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_address_at", "address", "at"),
                      Index("ix_login_attempts_username_at", "username", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(100))  # as typed (lower-cased), known or not
    address: Mapped[str] = mapped_column(String(64))  # client IP as the proxy headers tell it
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Who changed what, when and why: every status change and administrative action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


class Installation(Base):
    """This installation of PriceWarden: one row (id 1), made with its database.

    ``installation_id`` (random, 32 hex digits) is mixed into every message's idempotency key, so
    that two installations never send a receiver the same ``X-PriceWarden-Key`` for their own
    violation 1 (:func:`store.installation.installation_id`).
    """

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token of the ``/api/v1`` API: one partner's, or one integration's acting as a manager.

    The token itself is shown once; only its SHA-256 is kept (it is 256 random bits, so a fast hash
    cannot be reversed or guessed), found by its public ``prefix`` and compared in constant time.
    ``scopes`` lists what it may do (``reports:write``, ``violations:read``, ``policy:read``,
    ``violations:write``). Creation, first use and revocation are in the audit log.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # partner | integration
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    # integration: the manager whose scope the token has and who is named in the audit log
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    first_used_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    partner: Mapped[Partner | None] = relationship()
    user: Mapped[User | None] = relationship()


class ApiIdempotency(Base):
    """An ``Idempotency-Key`` a token used on a write: the request's SHA-256 and the answer it got.

    The same key with the same body gets the same answer again; with another body, a problem. A
    row without ``status_code`` is a request still running (a concurrent retry gets 409).
    """

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ApiRateWindow(Base):
    """Requests one token made in one fixed window (a minute): shared by every worker process."""

    __tablename__ = "api_rate_windows"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds // window length
    count: Mapped[int] = mapped_column(Integer, default=0)


class Webhook(Base):
    """A subscription to violation events, sent signed through the alert outbox.

    It belongs to a token and sees what that token sees. ``secret`` signs every delivery
    (HMAC-SHA256 over ``timestamp.body``); it is shown once, when the subscription is made. The
    watermarks are the last audit entry, violation and outbox row already turned into events.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    after_audit_id: Mapped[int] = mapped_column(Integer, default=0)
    after_violation_id: Mapped[int] = mapped_column(Integer, default=0)
    after_delivery_id: Mapped[int] = mapped_column(Integer, default=0)

    token: Mapped[ApiToken] = relationship()
