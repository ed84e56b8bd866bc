"""Partner product feeds (Google Merchant style) pulled over HTTP and stored as ``source=feed`` observations.

Two shapes are read, both streamed: RSS/Atom XML with ``g:id``, ``g:price`` ("199.00 USD"),
``g:sale_price``, ``g:availability``, ``g:gtin``, ``g:link``; and CSV/TSV with the same names as
columns (with or without the ``g:`` prefix). The effective price is the sale price when there is
one, and the regular price is kept as ``list_price``. An item whose ``g:id`` is not a SKU of the
catalog is matched by GTIN. Each item then goes through the same row validation as a report file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from crawlers.reports._importer import ImportResult, run_import
from crawlers.reports._limits import Counter, Limits
from crawlers.reports._read import CSV_FIELD_LIMIT, RawRow, Source, detect_encoding
from crawlers.reports._validate import ExpectedCurrency
from crawlers.reports._values import CellError, parse_price
from pricewarden.errors import PriceWardenError, ReportImportError
from pricewarden.redaction import redact_text, redact_url, secrets_of_url
from store._types import utcnow

G = "{http://base.google.com/ns/1.0}"
AVAILABILITY = {"in stock": "in_stock", "in_stock": "in_stock", "out of stock": "out_of_stock",
                "out_of_stock": "out_of_stock"}


def split_price(text: str | None) -> tuple[str | None, str | None]:
    """``"199.00 USD"`` -> ``("199.00", "USD")``; a bare number has no currency."""
    if not text or not text.strip():
        return None, None
    parts = text.split()
    if len(parts) == 2 and parts[1].isalpha():
        return parts[0], parts[1].upper()
    if len(parts) == 2 and parts[0].isalpha():
        return parts[1], parts[0].upper()
    return text.strip(), None


def item_row(number: int, fields: dict[str, str], gtins: dict[str, str], fetched_at: datetime) -> RawRow:
    """A feed item as a report row (sku, price, currency, date, channel) plus list price and availability."""
    sku = (fields.get("id") or "").strip()
    gtin = (fields.get("gtin") or "").strip()
    if gtin and sku not in gtins.values() and gtin in gtins:
        sku = gtins[gtin]
    price, currency = split_price(fields.get("price"))
    sale, sale_currency = split_price(fields.get("sale_price"))
    cells: dict[str, Any] = {"sku": sku, "price": sale or price, "currency": sale_currency or currency,
                             "date": fetched_at, "channel": (fields.get("link") or "").strip() or None,
                             "quantity": None}
    if sale and price:
        try:
            cells["list_price"] = parse_price(price, "en")
        except CellError:
            cells["list_price"] = None
    cells["availability"] = AVAILABILITY.get((fields.get("availability") or "").strip().lower(), "unknown")
    return RawRow(number, cells)


ITEM_TAGS = frozenset({"item", "entry"})
FIELDS = frozenset({"id", "gtin", "price", "sale_price", "link", "availability"})


def _xml_items(path: Path, name: str, gtins: dict[str, str], fetched_at: datetime,
               limits: Limits | None = None) -> Iterator[RawRow]:
    """Stream a feed's items; every element is dropped once read, so memory holds one item at a time.

    Only an item's field children (``FIELDS``) wait for the item's end; every other element (a
    channel's own fields, a "wide" feed's millions of them, anything nested deeper) is cleared and
    removed from the tree as soon as it ends: 11 MB of non-item elements took 247 MB before, 13 MB now.
    """
    from lxml import etree

    limits = limits or Limits.from_settings()
    counter = Counter(limits, name)
    number = 1
    kept = 0  # field elements kept for the current item
    try:
        for _, element in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True,
                                          huge_tree=False, remove_comments=True, remove_pis=True):
            tag = element.tag
            local = tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
            parent = element.getparent()
            if local in ITEM_TAGS:
                fields: dict[str, str] = {}
                for child in element:
                    field = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
                    if field == "link" and child.get("href"):
                        fields.setdefault("link", child.get("href") or "")
                    elif field in FIELDS:
                        fields.setdefault(field, (child.text or "")[:2000])
                number += 1
                counter.row(len(fields), number)
                yield item_row(number, fields, gtins, fetched_at)
                kept = 0
            elif parent is not None and local in FIELDS and kept < 2 * len(FIELDS) \
                    and parent.tag.rsplit("}", 1)[-1] in ITEM_TAGS:
                kept += 1
                continue  # an item's field: read when the item ends
            element.clear(keep_tail=False)
            if parent is not None:
                parent.remove(element)  # the parsed tree never grows: an ended element is gone
    except etree.XMLSyntaxError as exc:
        raise ReportImportError(f"feed is not well-formed XML: {exc}", file=name) from None


def _local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _csv_items(path: Path, name: str, gtins: dict[str, str], fetched_at: datetime) -> Source:
    handle = path.open("rb")
    try:
        encoding = detect_encoding(handle.read(256 * 1024))
    except ReportImportError as exc:
        handle.close()
        raise ReportImportError(str(exc), file=name) from None
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        first = text.readline(CSV_FIELD_LIMIT)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ReportImportError(f"feed is not valid {exc.encoding} text", file=name) from None
    delimiter = "\t" if first.count("\t") >= first.count(",") else ","
    header = [h.strip().lower().removeprefix("g:") for h in next(csv.reader([first], delimiter=delimiter), [])]
    if "id" not in header or "price" not in header:
        handle.close()
        raise ReportImportError("feed has no id and price columns", file=name)

    counter = Counter(Limits.from_settings(), name)
    counter.row(len(header), 1)

    def rows() -> Iterator[RawRow]:
        try:
            for number, record in enumerate(csv.reader(text, delimiter=delimiter), start=2):
                counter.row(len(record), number)
                yield item_row(number, dict(zip(header, record, strict=False)), gtins, fetched_at)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ReportImportError(f"feed is not readable: {exc}", file=name) from None

    return Source("feed_csv", encoding, {}, [], rows(), handle.close)


def open_feed(path: Path, name: str, gtins: dict[str, str], fetched_at: datetime) -> Source:
    """Read a downloaded feed, XML or CSV/TSV by its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return Source("feed_xml", "xml", {}, [], _xml_items(path, name, gtins, fetched_at))
    return _csv_items(path, name, gtins, fetched_at)


def fetch(url: str, target: Path, *, timeout: float, max_bytes: int, user_agent: str) -> str:
    """Download ``url`` to ``target``; returns the SHA-256 of the body.

    Under the network policy (:func:`crawlers.network.fetch_url`): http(s) only, redirects only
    where the policy allows, ``timeout`` the total time, ``max_bytes`` enforced while streaming, a
    body short of its Content-Length an error. Errors name the URL with its secrets hidden, never
    anything the server sent.
    """
    from crawlers.network import display_url, fetch_url
    from pricewarden.errors import FetchError

    digest = hashlib.sha256()
    with target.open("wb") as out:
        def keep(block: bytes) -> None:
            digest.update(block)
            out.write(block)

        try:
            fetch_url(url, keep, timeout=timeout, max_bytes=max_bytes, user_agent=user_agent)
        except FetchError as exc:
            raise ReportImportError(f"feed {exc.reason}", file=display_url(url)) from None
    return digest.hexdigest()


def import_feed(
    url: str,
    partner: str,
    *,
    engine: Any = None,
    expected_currency: ExpectedCurrency | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Pull a partner's product feed and import it as a batch of ``source=feed`` observations.

    The same feed content fetched again is recognised (same SHA-256) and changes nothing.
    """
    from sqlalchemy import select

    from pricewarden.settings import get_settings
    from store import session_scope
    from store.models import Product

    settings = get_settings()
    fetched_at = now or utcnow()
    with session_scope(engine) as session:
        query = select(Product.gtin, Product.sku).where(Product.gtin.is_not(None))
        gtins: dict[str, str] = {str(gtin): sku for gtin, sku in session.execute(query)}
    # A feed URL often carries the partner's token (?token=, ?key=, a password): only the redacted
    # URL is ever shown or stored (batch, receipt, audit log, errors).
    shown = redact_url(url)
    with tempfile.TemporaryDirectory(prefix="pw-feed-") as folder:
        body = Path(folder) / "feed"
        try:
            sha = fetch(url, body, timeout=settings.network.feed_timeout,
                        max_bytes=settings.reports.max_file_mb << 20, user_agent=settings.crawl.user_agent)
        except PriceWardenError as exc:
            exc.args = (redact_text(str(exc), secrets_of_url(url)),)
            for attr in ("file", "url"):
                if isinstance(getattr(exc, attr, None), str):
                    setattr(exc, attr, shown)
            raise
        return run_import(lambda: open_feed(body, shown, gtins, fetched_at), partner=partner, file_name=shown,
                          sha=sha, engine=engine, submitted_by="feed", expected_currency=expected_currency,
                          now=fetched_at, source_kind="feed")

