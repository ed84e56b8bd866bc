"""Commands of the store: ``db`` (migrations) and ``catalog`` (import and list)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pricewarden.console import console, emit_json, show

db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
catalog_app = typer.Typer(help="Import and list products, partners, users and listings.", no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


listing_app = typer.Typer(help="Stop or resume crawling a listing (kept with its history either way).",
                          no_args_is_help=True)
catalog_app.add_typer(listing_app, name="listing")


def register(app: typer.Typer) -> None:
    """Add ``db`` and ``catalog`` to the root app."""
    app.add_typer(db_app, name="db")
    app.add_typer(catalog_app, name="catalog")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema to the newest revision."""
    from pricewarden.settings import get_settings, redact_url
    from store import current_revision, upgrade

    upgrade(revision=revision)
    console.print(f"database {redact_url(get_settings().database)} at revision {current_revision()}")


@db_app.command("rollups")
def db_rollups(as_json: JSON = False) -> None:
    """Build the review app's per-day rollups (compliance, crawl health) from the whole store.

    Detection keeps them up to date; run this once for a store loaded some other way (an import into the
    tables, a restored dump) or after changing the time zone. Until then the pages work them out live."""
    from sqlalchemy import func, select

    from detection.rollups import refresh
    from store import ComplianceDay, CrawlDay, session_scope

    with session_scope() as session:
        refresh(session, full=True)
        counts = {"compliance_days": session.scalar(select(func.count()).select_from(ComplianceDay)) or 0,
                  "crawl_days": session.scalar(select(func.count()).select_from(CrawlDay)) or 0}
    if as_json:
        emit_json(counts)
        return
    console.print(f"rollups built: {counts['compliance_days']} compliance rows, {counts['crawl_days']} crawl rows")


@db_app.command("current")
def db_current(as_json: JSON = False) -> None:
    """Print the schema revision of the database."""
    from pricewarden.settings import get_settings
    from store import current_revision
    from store.db import head_revision, sqlite_file

    path = sqlite_file(get_settings().database)
    # Asking must not create the database file.
    revision = None if path is not None and not path.exists() else current_revision()
    if as_json:
        emit_json({"revision": revision, "head": head_revision(), "current": revision == head_revision()})
        return
    console.print(revision or "empty (run `pricewarden db upgrade`)")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' drops every table).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade deletes data.")] = False,
) -> None:
    """Migrate the schema down (deletes the data of dropped tables)."""
    from pricewarden.errors import ConfigError
    from store import current_revision, downgrade

    if not yes:
        raise ConfigError("a downgrade deletes data: repeat with --yes")
    downgrade(revision=revision)
    console.print(f"database at revision {current_revision() or 'base'}")


@catalog_app.command("import")
def catalog_import(
    source: Annotated[
        Path, typer.Argument(help="Catalog folder (users/partners/products/listings .csv|.yaml) or one such file.")
    ],
    as_json: JSON = False,
) -> None:
    """Import the catalog; idempotent, every rejected row reported with file, row, field and reason."""
    from store import require_schema
    from store.catalog import import_catalog

    require_schema()
    report = import_catalog(source)
    if as_json:
        emit_json(report.as_dict())
    else:
        console.print(report.summary())
        if report.problems:
            show(
                [{"file": p.file, "row": p.line, "field": p.field, "reason": p.message} for p in report.problems],
                ["file", "row", "field", "reason"],
                as_json=False,
                title="Rejected rows",
            )
    if report.problems:
        raise typer.Exit(1)


@catalog_app.command("list")
def catalog_list(
    kind: Annotated[str, typer.Argument(help="products, partners, users or listings.")],
    as_json: JSON = False,
) -> None:
    """List the catalog; notification URLs are shown redacted."""
    from sqlalchemy import select

    from pricewarden.errors import ConfigError
    from store import Listing, Partner, Product, User, require_schema, session_scope
    from store.secrets import redact_apprise_url

    require_schema()
    with session_scope() as session:
        if kind == "products":
            rows = [{"sku": p.sku, "gtin": p.gtin, "mpn": p.mpn, "title": p.title, "category": p.category}
                    for p in session.scalars(select(Product).order_by(Product.sku))]
        elif kind == "partners":
            rows = [{"code": p.code, "name": p.name, "tier": p.tier, "regions": ";".join(p.regions),
                     "status": p.status, "channel_manager": p.channel_manager.username if p.channel_manager else None,
                     "notice_urls": ";".join(redact_apprise_url(u) for u in p.notice_urls)}
                    for p in session.scalars(select(Partner).order_by(Partner.code))]
        elif kind == "users":
            rows = [{"username": u.username, "role": u.role, "locale": u.locale,
                     "partner": u.partner.code if u.partner else None, "active": str(u.active),
                     "notification_urls": ";".join(redact_apprise_url(x) for x in u.notification_urls)}
                    for u in session.scalars(select(User).order_by(User.username))]
        elif kind == "listings":
            rows = [{"url": lst.url, "sku": lst.product.sku if lst.product else None,
                     "partner": lst.partner.code if lst.partner else None, "seller_id": lst.seller_id,
                     "profile": lst.profile, "active": str(lst.active)}
                    for lst in session.scalars(select(Listing).order_by(Listing.url))]
        else:
            raise ConfigError(f"unknown kind {kind!r}: products, partners, users or listings")
    columns = list(rows[0]) if rows else ["(none)"]
    show(rows, columns, as_json=as_json, title=kind.capitalize())


def _set_listing_active(url: str, active: bool, by: str, reason: str | None, as_json: bool) -> None:
    from sqlalchemy import select

    from pricewarden.errors import NotFoundError
    from store import Listing, audit, session_scope

    with session_scope() as session:
        listing = session.scalars(select(Listing).where(Listing.url == url)).first()
        if listing is None:
            raise NotFoundError(f"no listing with URL {url} (see `pricewarden catalog list listings`)")
        changed = listing.active != active
        if changed:
            audit(session, actor=by, action="listing.activate" if active else "listing.deactivate",
                  entity_type="listing", entity_id=listing.id, before={"active": not active},
                  after={"active": active}, reason=reason)
            listing.active = active
        data = {"url": listing.url, "sku": listing.product.sku if listing.product else None,
                "partner": listing.partner.code if listing.partner else None, "active": active, "changed": changed}
    if as_json:
        emit_json(data)
        return
    state = "active: crawled again from the next run" if active else "inactive: no longer crawled"
    console.print(f"listing {url}: {state}" + ("" if changed else " (it already was)"), highlight=False,
                  markup=False, soft_wrap=True)


ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit log).")]
WhyOpt = Annotated[str | None, typer.Option("--reason", help="Why (recorded in the audit log).")]
UrlArg = Annotated[str, typer.Argument(help="The listing's URL, as in `pricewarden catalog list listings`.")]


@listing_app.command("deactivate")
def listing_deactivate(url: UrlArg, by: ByOpt = "cli", reason: WhyOpt = None, as_json: JSON = False) -> None:
    """Stop crawling a listing; its observations and violations are kept."""
    _set_listing_active(url, False, by, reason, as_json)


@listing_app.command("activate")
def listing_activate(url: UrlArg, by: ByOpt = "cli", reason: WhyOpt = None, as_json: JSON = False) -> None:
    """Crawl a deactivated listing again."""
    _set_listing_active(url, True, by, reason, as_json)
