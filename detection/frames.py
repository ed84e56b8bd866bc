"""Observations from the store as the engine's DataFrame: who sold, where, at what price (in e4).

The seller of an observation is, in order: the partner the crawler attributed it to, the partner
whose ``seller_ids`` hold its marketplace seller id (no partner at all when that id is unknown), the
partner whose name is the seller name, else the listing's partner (a partner's own shop).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, Integer, String, case, func, literal_column, select, type_coerce, union
from sqlalchemy.orm import Session

from detection.tables import NA_E4, SCALE, to_e4
from store import Listing, Observation, Partner, PartnerStatus, Product, Source

OBS_COLUMNS = [
    "obs_id", "observed_at", "sku", "category", "region", "tier", "partner", "partner_id", "product_id",
    "listing_id", "seller_id", "seller_name", "party", "price_e4", "currency", "visibility", "authorised",
    "url", "raw_text", "html_sha256", "screenshot_sha256", "source",
]


def is_authorised(partner: Partner | None, sku: str, category: str | None) -> bool:
    """Whether ``partner`` may sell ``sku``: authorised status and the SKU (or its category) in its
    list, an empty list meaning the whole catalog. No partner is never authorised."""
    if partner is None or partner.status != PartnerStatus.AUTHORISED:
        return False
    allowed = set(partner.authorised_skus or [])
    return not allowed or sku in allowed or (category is not None and category in allowed)


def observations_frame(
    session: Session, *, since: datetime | None = None, sources: tuple[str, ...] = (Source.CRAWL,),
    evidence: bool = True, listing_ids: list[int] | None = None, before: datetime | None = None,
    partner: Partner | None = None, product_id: int | None = None, pages: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Valid observations (with a price, or hidden) of known products as an engine frame.

    By default only crawled pages: partner reports and feeds are what a partner *declares*, not what
    shoppers were shown; they are cross-checked (misreporting), not judged. ``since``/``before``
    bound the instants (at or after, strictly before), ``listing_ids`` the listings. Rows are in the order
    (``observed_at``, ``obs_id``). ``evidence=False`` leaves ``raw_text``, ``html_sha256`` and
    ``screenshot_sha256`` empty (detection reads them for its findings only: :func:`evidence_of`).

    The observations are read as plain columns (no ORM objects, no per-row dicts, money and instants
    converted by column), in chunks; the seller, region, tier and authorisation are worked out once
    per distinct combination, not per row. ``partner``: only what is attributed to that partner (a
    page, a scorecard); ``product_id``: only that product.

    ``pages`` (a dict, crawled observations only, no other filter but ``since``): filled from the same read
    with every crawled row's instant (``observed_ns``), URL, crawl run and undecided flag, valid or not, and
    the ``since`` they start at (``from``), which the crawl-day rollup counts
    (:func:`crawlers.health.crawl_day_rows`): one read of the store, not two.
    """
    partners = {p.id: p for p in session.scalars(select(Partner))}
    by_seller: dict[str, Partner] = {}
    for known in partners.values():
        by_seller["name:" + known.name.strip().casefold()] = known
        for seller in known.seller_ids or []:
            by_seller[str(seller)] = known
    products = {pid: (sku, category) for pid, sku, category in session.execute(
        select(Product.id, Product.sku, Product.category))}
    listings = {lid: (region, partner_id) for lid, region, partner_id in session.execute(
        select(Listing.id, Listing.region, Listing.partner_id))}
    if pages is not None and (listing_ids is not None or before is not None or partner is not None
                              or product_id is not None or tuple(sources) != (Source.CRAWL,)):
        raise ValueError("pages: crawled observations from an instant on, nothing else narrowed")
    if listing_ids is None:
        columns = _read(session, since=since, sources=sources, evidence=evidence, before=before,
                        partner=partner, product_id=product_id, pages=pages is not None)
        if pages is not None:
            pages.update({"from": since, "observed_ns": columns["observed_ns"], "url": columns.pop("page_url"),
                          "run": columns.pop("crawl_run_id"), "undecided": columns.pop("undecided")})
    else:
        chunks = [_read(session, since=since, sources=sources, evidence=evidence, before=before,
                        listing_ids=listing_ids[start:start + 500], partner=partner, product_id=product_id)
                  for start in range(0, len(listing_ids), 500)]
        columns = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]} if chunks else \
            _read(session, since=since, sources=sources, evidence=evidence, before=before, listing_ids=[])
    n = len(columns["obs_id"])
    if n:
        order = np.lexsort((columns["obs_id"], columns["observed_ns"]))
        if not (np.diff(order) == 1).all():
            columns = {name: values[order] for name, values in columns.items()}
    # Valid: a price, or a hidden one; of a known product. Each id column factorised once for all it answers.
    by_product = _Distinct(columns["product_id"])
    keep = ((columns["price_e4"] != NA_E4) | (columns["visibility"] != "visible")) \
        & by_product.answer(lambda pid: pid in products, bool)
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
        by_product.codes = by_product.codes[keep]
        n = int(keep.sum())
    product_ids = columns["product_id"]
    sku = by_product.answer(lambda pid: products[pid][0])
    category = by_product.answer(lambda pid: products[pid][1])
    listing_column = columns["listing_id"]
    by_listing = _Distinct(listing_column)
    region = by_listing.answer(lambda lid: listings.get(lid, (None, None))[0])
    listing_partner = by_listing.answer(lambda lid: listings.get(lid, (None, None))[1])
    seller = _resolve_sellers(columns["partner_id"], columns["seller_id"], columns["seller_name"],
                              listing_partner, partners, by_seller)
    by_partner = _Distinct(seller)
    partner_code = by_partner.answer(lambda pid: partners[pid].code if pid in partners else None)
    tier = by_partner.answer(lambda pid: partners[pid].tier if pid in partners else None)
    lone_region = {pid: p.regions[0] for pid, p in partners.items() if len(p.regions or []) == 1}
    no_region = pd.isna(region)
    if no_region.any():
        region[no_region] = by_partner.answer(lone_region.get, rows=no_region)
    party = partner_code.copy()
    for i in np.flatnonzero(pd.isna(partner_code)):
        party[i] = f"seller:{columns['seller_id'][i] or columns['seller_name'][i] or columns['url'][i]}"
    # Authorised: once per (seller, product).
    pair = pd.Series(seller, dtype=object).fillna(-1).to_numpy(dtype=np.int64) * (1 << 32) \
        + product_ids.astype(np.int64)
    authorised = _per_value(pair, lambda key: is_authorised(
        partners.get(int(key) >> 32), *products[int(key) & 0xFFFFFFFF]), bool)
    frame = pd.DataFrame({
        "obs_id": columns["obs_id"],
        "observed_at": pd.to_datetime(columns["observed_ns"], utc=True).astype("datetime64[ns, UTC]"),
        "sku": sku, "category": category, "region": region, "tier": tier, "partner": partner_code,
        "partner_id": _nullable_int(seller), "product_id": _nullable_int(product_ids),
        "listing_id": _nullable_int(listing_column), "seller_id": columns["seller_id"],
        "seller_name": columns["seller_name"], "party": party, "price_e4": columns["price_e4"],
        "currency": columns["currency"], "visibility": columns["visibility"], "authorised": authorised,
        "url": columns["url"], "raw_text": columns["raw_text"], "html_sha256": columns["html_sha256"],
        "screenshot_sha256": columns["screenshot_sha256"], "source": columns["source"],
    }, columns=OBS_COLUMNS)
    frame["price_e4"] = frame["price_e4"].astype("int64")
    frame["authorised"] = frame["authorised"].astype(bool)
    if partner is not None:
        frame = frame[frame["partner_id"] == partner.id].reset_index(drop=True)
    return frame


CHUNK = 100_000


def _read(session: Session, *, since: datetime | None, sources: tuple[str, ...], evidence: bool,
          before: datetime | None = None, listing_ids: list[int] | None = None, partner: Partner | None = None,
          product_id: int | None = None, pages: bool = False) -> dict[str, Any]:
    """The observation columns the frame needs, as numpy arrays, read in chunks without type processing;
    with ``pages`` also every row's URL (``page_url``), ``crawl_run_id`` and ``undecided`` (see
    :func:`observations_frame`).

    Instants come as integer nanoseconds and prices as exact ten-thousandths: on PostgreSQL both are
    computed by the database, on SQLite (text columns) they are parsed by column.
    """
    o = Observation
    dialect = session.get_bind().dialect.name
    instant = instant_column(o.observed_at, dialect)
    if dialect == "postgresql":
        price: Any = (o.price * SCALE).cast(BigInteger)
    else:
        price = type_coerce(o.price, String)
    # The URL names an unknown seller's party; with evidence it is read for every row.
    url = o.url if evidence or pages else case((o.partner_id.is_(None), o.url), else_=None)
    # One source asked for: its value, not a text read per row.
    one_source = str(sources[0]) if len(sources) == 1 else None
    plain = [o.id, o.currency, o.visibility, o.partner_id, o.seller_id, o.seller_name, o.listing_id,
             o.product_id, url, *([] if one_source is not None else [o.source])]
    extra: list[Any] = [o.raw_text, o.html_sha256, o.screenshot_sha256] if evidence else []
    # The flag as 0/1 (SQLite stores it so; PostgreSQL casts its boolean): a Boolean's result processor would send
    # every row through SQLAlchemy's row processing.
    flag = o.undecided.cast(Integer) if dialect == "postgresql" else type_coerce(o.undecided, Integer)
    extra += [o.crawl_run_id, flag] if pages else []
    query = select(instant, price, *plain, *extra).where(o.source.in_([str(s) for s in sources]))
    if since is not None:
        query = query.where(o.observed_at >= since)
    if before is not None:
        query = query.where(o.observed_at < before)
    if listing_ids is not None:
        query = query.where(o.listing_id.in_(listing_ids))
    if product_id is not None:
        query = query.where(o.product_id == product_id)
    if partner is not None:
        # Every way an observation can be attributed to the partner, each on its own index but the
        # name (which only attributes rows with neither partner nor seller id); the frame is narrowed
        # exactly after attribution (observations_frame).
        ways = [select(o.id).where(o.partner_id == partner.id),
                select(o.id).where(o.listing_id.in_(select(Listing.id).where(Listing.partner_id == partner.id))),
                select(o.id).where(o.partner_id.is_(None), o.seller_id.is_(None),
                                   func.lower(o.seller_name) == partner.name.strip().lower())]
        if partner.seller_ids:
            ways.append(select(o.id).where(o.seller_id.in_([str(x) for x in partner.seller_ids])))
        query = query.where(o.id.in_(union(*ways)))
    names = ["instant", "price", "obs_id", "currency", "visibility", "partner_id", "seller_id", "seller_name",
             "listing_id", "product_id", "url"] + ([] if one_source is not None else ["source"]) \
        + (["raw_text", "html_sha256", "screenshot_sha256"] if evidence else []) \
        + (["crawl_run_id", "undecided"] if pages else [])
    # No column here has a result processor on either database: the driver's own rows are the values, read
    # straight from its cursor rather than wrapped in a row object each (on PostgreSQL copied as text instead).
    bound = session.get_bind().dialect
    processed = any(c.type.dialect_impl(bound).result_processor(bound, None) is not None
                    for c in query.selected_columns)
    data: dict[str, Any]
    if dialect == "postgresql" and not processed:
        data = _copied(session.connection(), query, names)
    else:
        data = _fetched(session.connection().execute(query), names, processed)
    n = len(data["obs_id"])
    out: dict[str, Any] = {}
    out["observed_ns"] = instants_ns(data["instant"], dialect)
    if dialect == "postgresql":
        prices = data["price"]
        out["price_e4"] = np.asarray(prices, dtype=np.int64) if prices.dtype != object else \
            np.array([NA_E4 if v is None else v for v in prices], dtype=np.int64)
    else:
        out["price_e4"] = _sqlite_prices(data["price"])
    for name in names[2:]:
        out[name] = data[name] if n else np.zeros(0, dtype=object)
    if not evidence:
        for name in ("raw_text", "html_sha256", "screenshot_sha256"):
            out[name] = np.full(n, None, dtype=object)
    if one_source is not None:
        out["source"] = np.full(n, one_source, dtype=object)
    out["obs_id"] = out["obs_id"].astype(np.int64)
    if pages:
        out["page_url"] = out["url"]
        if not evidence:  # the frame's URL as without pages: an unknown seller's only (it names the party)
            out["url"] = np.where(out["partner_id"] == None, out["url"], None)  # noqa: E711 - by element
    return out


def _fetched(result: Any, names: list[str], processed: bool) -> dict[str, np.ndarray]:
    """The columns ``names`` of ``result`` as object arrays, the driver's values as they are (through the
    result's rows only when a column has a ``processed`` type)."""
    if processed:
        parts: list[list[Any]] = [[] for _ in names]
        while chunk := result.fetchmany(CHUNK):
            for store, values in zip(parts, zip(*chunk, strict=True), strict=True):
                store.extend(values)
        result.close()
        return {name: np.array(values, dtype=object) for name, values in zip(names, parts, strict=True)}
    # Each chunk of the driver's tuples made one two-dimensional object array at once (numpy walks the
    # tuples in C), its columns taken from it: no transposing tuple and list per column in Python. Each
    # column is gathered from the chunks once (not the chunks joined into one table, then each column
    # copied out of it: a second copy of every cell).
    blocks = []
    while chunk := result.cursor.fetchmany(CHUNK):
        blocks.append(np.array(chunk, dtype=object).reshape(len(chunk), len(names)))
    result.close()
    if not blocks:
        blocks.append(np.empty((0, len(names)), dtype=object))
    return {name: np.concatenate([block[:, j] for block in blocks]) for j, name in enumerate(names)}


# What COPY's text format writes for these characters after a backslash (it never writes octal or hex).
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copied(connection: Connection, query: Any, names: list[str]) -> dict[str, np.ndarray]:
    """The columns ``names`` of ``query`` on PostgreSQL, read through ``COPY (query) TO STDOUT``: the rows as text,
    parsed by pandas' C reader by column, where the driver's cursor makes a Python object of every cell and a
    tuple of every row. An integer column is an ``int64`` array, or with a ``NULL`` an object array of ``int``
    and ``None``; a text column an object array of ``str`` and ``None``, as the driver gives them.

    A million rows of a cold run: ~0.35 s less CPU and ~450 MB less memory than the cursor's rows."""
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    for name, bind in compiled.binds.items():
        process = bind.type.bind_processor(dialect)
        if process is None:
            continue
        for key in params:  # an expanded IN list's values are named after it
            if key == name or (bind.expanding and re.fullmatch(re.escape(name) + r"_\d+", key)):
                params[key] = process(params[key])
    ints = [isinstance(c.type, Integer) for c in query.selected_columns]
    driver = connection.connection.driver_connection
    assert driver is not None
    text = _copy_out(driver, f"COPY ({compiled.string}) TO STDOUT", params)
    if not text:
        return {name: np.zeros(0, dtype=object) for name in names}
    # A backslash not followed by N: one of COPY's escapes (each cell holding one is undone below); an escaped
    # backslash followed by N is two backslashes, the first followed by the second.
    escaped = re.search(rb"\\[^N]", text) is not None
    frame = pd.read_csv(io.BytesIO(text), sep="\t", header=None, names=list(range(len(names))), quoting=csv.QUOTE_NONE,
                        na_values=["\\N"], keep_default_na=False, engine="c", encoding=driver.info.encoding,
                        dtype={j: "Int64" if is_int else object for j, is_int in enumerate(ints)})
    del text
    data: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        column = frame.pop(j)
        if ints[j]:
            numbers = column.array
            data[name] = numbers.to_numpy(dtype=object, na_value=None) if numbers.isna().any() \
                else numbers.to_numpy(dtype=np.int64)
            continue
        values = column.to_numpy(dtype=object, copy=True)  # pandas' own is read-only
        values[pd.isna(values)] = None
        if escaped:
            for k, value in enumerate(values.tolist()):
                if value is not None and "\\" in value:
                    values[k] = re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m[1], m[1]), value, flags=re.S)
        data[name] = values
    return data


def _copy_out(driver: Any, statement: str, params: dict[str, Any]) -> bytearray:
    """What ``statement`` (a ``COPY ... TO STDOUT``) sends, on psycopg connection ``driver``, read through its
    libpq connection (``pgconn``) in one loop.

    PostgreSQL sends each row as a message of its own: psycopg's ``Copy`` object waits on its generator once per
    message and keeps each one (~0.3 s of CPU more over a million rows); libpq's blocking read, each message
    appended to one buffer and dropped, is ~0.3 s in all."""
    from select import select as wait

    import psycopg
    from psycopg import pq

    with psycopg.ClientCursor(driver) as cursor:  # the parameters merged and quoted (COPY takes none)
        merged = cursor.mogrify(statement, params)
    if not driver.autocommit and driver.info.transaction_status == pq.TransactionStatus.IDLE:
        driver.execute("SELECT 1")  # psycopg begins the transaction the statement is to run in
    pgconn = driver.pgconn
    pgconn.send_query(merged.encode(driver.info.encoding))
    while pgconn.flush():  # the connection does not block: what is not sent yet, sent as the socket takes it
        wait([], [pgconn.socket], [])
    text = bytearray()
    result = pgconn.get_result()
    if result.status == pq.ExecStatus.COPY_OUT:
        while (read := pgconn.get_copy_data(0))[0] > 0:
            text += read[1]
        result = pgconn.get_result()
    while pgconn.get_result() is not None:  # the statement's results read to the end: the connection is free
        pass
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    return text


def instant_column(observed_at: Any, dialect: str) -> Any:
    """An instant column to read without type processing: integer microseconds computed by PostgreSQL, or
    SQLite's stored UTC text (:func:`instants_ns` turns either into nanoseconds)."""
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", observed_at) * 1_000_000).cast(BigInteger)
    return type_coerce(observed_at, String)


def instants_ns(values: list[Any] | np.ndarray, dialect: str) -> np.ndarray:
    """The values read through :func:`instant_column` as integer nanoseconds since 1970 (UTC)."""
    if dialect == "postgresql":
        return np.asarray(values, dtype=np.int64) * 1000
    return _sqlite_instants(values)


def _sqlite_instants(texts: list[str] | np.ndarray) -> np.ndarray:
    """SQLite's stored instants (UTC text) as integer nanoseconds."""
    if not len(texts):
        return np.zeros(0, dtype=np.int64)
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), format="ISO8601", utc=True)
    return np.asarray(parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").astype(np.int64))


def _sqlite_prices(texts: list[str | None] | np.ndarray) -> np.ndarray:
    """SQLite's stored amounts (exact decimal text) as ten-thousandths, rounded half-even beyond four
    decimals as on PostgreSQL: plain amounts by column, anything else through ``Decimal``."""
    if not len(texts):
        return np.full(0, NA_E4, dtype=np.int64)
    # Each distinct amount once (a listing's price repeats from crawl to crawl); missing ones take code -1.
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=True)
    series = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    out = np.full(len(series) + 1, NA_E4, dtype=np.int64)  # the last entry: missing
    simple = series.str.fullmatch(r"\d{1,11}(\.\d{0,4})?", na=False).to_numpy(dtype=bool)
    if simple.any():
        # At most 15 significant digits: the float is near enough to round to the exact integer.
        values = pd.to_numeric(series[simple]).to_numpy(dtype=np.float64)
        out[:-1][simple] = np.rint(values * SCALE).astype(np.int64)
    for i in np.flatnonzero(~simple):
        out[i] = to_e4(Decimal(str(series[i])), ROUND_HALF_EVEN)
    return np.asarray(out[codes], dtype=np.int64)


def _nullable_int(values: np.ndarray) -> np.ndarray:
    """Ids as int64, or float64 with NaN where some are missing (what pandas makes of such rows)."""
    missing = pd.isna(values)
    if not missing.any():
        return np.asarray(values, dtype=np.int64)
    return np.where(missing, np.nan, values).astype(np.float64)


def _resolve_sellers(
    partner_id: np.ndarray, seller_id: np.ndarray, seller_name: np.ndarray, listing_partner: np.ndarray,
    partners: dict[int, Partner], by_seller: dict[str, Partner],
) -> np.ndarray:
    """The selling partner's id per row (``None``: no partner), once per distinct combination."""
    # The crawler's attribution: the partner itself (nothing to work out).
    out = _per_value(partner_id, lambda pid: pid if pid in partners else None)
    rest = np.flatnonzero(pd.isna(partner_id))
    if not len(rest):
        return out
    frame = pd.DataFrame({"s": seller_id[rest], "n": seller_name[rest], "l": listing_partner[rest]})
    groups = frame.groupby(["s", "n", "l"], dropna=False, sort=False).ngroup().to_numpy()
    firsts = pd.Series(rest).groupby(groups).first()
    answers = np.full(int(groups.max()) + 1, None, dtype=object)
    for group, i in firsts.items():
        found = _seller_partner(None, seller_id[i], seller_name[i], _id(listing_partner[i]), partners, by_seller)
        answers[int(group)] = found.id if found is not None else None
    out[rest] = answers[groups]
    return out


def _per_value(values: np.ndarray, answer: Any, dtype: Any = object) -> np.ndarray:
    """``answer(value)`` for each row, computed once per distinct value (``None`` for missing ones)."""
    return _Distinct(values).answer(answer, dtype)


class _Distinct:
    """A column's distinct values, factorised once for several :meth:`answer` (a million rows: ~0.1 s each)."""

    def __init__(self, values: np.ndarray) -> None:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object) if values.dtype == object else values)
        self.codes = np.asarray(codes)  # narrowed by the caller when it drops rows
        self.uniques = [_plain(u) for u in uniques]

    def answer(self, answer: Any, dtype: Any = object, rows: np.ndarray | None = None) -> np.ndarray:
        """``answer(value)`` for each row (of ``rows`` only, a mask), once per distinct value among those rows
        (``None`` for missing ones), as :func:`_per_value` over the same values."""
        codes = self.codes if rows is None else self.codes[rows]
        present = np.zeros(len(self.uniques), dtype=bool)
        present[codes[codes >= 0]] = True
        # Values no longer among the rows (dropped since) are not asked about: their entry is never read.
        answers = [answer(u) if here else None for u, here in zip(self.uniques, present.tolist(), strict=True)]
        first = next((a for a, here in zip(answers, present.tolist(), strict=True) if here), None)
        answers.append(answer(None) if (codes < 0).any() else first)
        table = np.empty(len(answers), dtype=dtype)
        table[:] = answers
        return np.asarray(table[codes], dtype=dtype)  # code -1 (missing) takes the last entry


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, (np.integer, float)) and not pd.isna(value) else value


def _id(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else int(value)


def evidence_of(session: Session, obs_ids: Any) -> dict[int, tuple[Any, ...]]:
    """Observation id -> (url, raw_text, html_sha256, screenshot_sha256), read in chunks."""
    o = Observation
    ids = sorted({int(i) for i in obs_ids})
    found: dict[int, tuple[Any, ...]] = {}
    session.flush()  # what the session's own execute would flush first
    for start in range(0, len(ids), 10_000):
        # Core on the session's connection, the driver's own rows (no column here has a result processor):
        # no ORM row loading for the ~100,000 findings of a first run.
        # The ids written into the statement (integers made here, never text from outside): 10,000 bound
        # parameters were each processed and expanded by SQLAlchemy, about half of reading the evidence.
        listed = ", ".join(map(str, ids[start:start + 10_000]))
        query = select(o.id, o.url, o.raw_text, o.html_sha256, o.screenshot_sha256) \
            .where(o.id.op("IN")(literal_column(f"({listed})")))
        result = session.connection().execute(query)
        processed = any(c.type.dialect_impl(result.dialect).result_processor(result.dialect, None) is not None
                        for c in query.selected_columns)
        for row in (result.fetchall() if processed else result.cursor.fetchall()):
            found[int(row[0])] = tuple(row[1:])
        result.close()
    return found


def _seller_partner(
    partner_id: int | None, seller_id: str | None, seller_name: str | None, listing_partner: int | None,
    partners: dict[int, Partner], by_seller: dict[str, Partner],
) -> Partner | None:
    if partner_id is not None:
        return partners.get(partner_id)
    if seller_id:
        return by_seller.get(str(seller_id))  # a marketplace seller no partner declares: unknown
    if seller_name:
        named = by_seller.get("name:" + seller_name.strip().casefold())
        if named is not None:
            return named
    return partners.get(listing_partner) if listing_partner is not None else None
