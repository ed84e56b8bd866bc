"""The review queue: violations a user may see, filtered, searched, sorted and paged on the server.

The web app's list, its exports and any other reader share :func:`parse_query` (text parameters
as they come from a URL → a :class:`ViolationQuery`, with a :class:`FilterProblem` for each value
that is not understood) and :func:`search_violations`, so that a shared URL shows the same rows to
everyone with the same scope. Scope is :func:`detection.queries.scoped` (``store.access``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, Select, func, literal_column, or_, select, union
from sqlalchemy import column as sql_column
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, contains_eager

from detection.lifecycle import SEVERITIES
from detection.queries import scoped
from store import FindingKind, Partner, Product, Tier, User, Violation, ViolationStatus, utcnow
from store.models import GAP_ASC, GAP_DESC, SEARCH_COLUMNS, SEARCH_TABLE, SEARCH_TEXT, SEVERITY_RANK

STATUSES = tuple(s.value for s in ViolationStatus)
KINDS = tuple(k.value for k in FindingKind)
# Where the second reading of a violation's price stands (detection.confirm); the last three wait for a person.
CONFIRMATIONS = ("not_needed", "agreed", "confirmed", "pending", "disagreed", "failed")
TIERS = tuple(t.value for t in Tier)
SNOOZED = ("hide", "only", "all")
# Sort keys: name -> column (a leading "-" in the query sorts descending).
SORTS = ("last_seen", "first_seen", "gap", "severity", "partner", "sku", "status", "id")
MAX_TEXT = 200
# Matches are counted up to this many (or to the end of the page shown): an exact count of 100,000
# violations costs a scan of them all on every request, and nobody pages through them one by one.
COUNT_CAP = 1000


def known_rules() -> tuple[str, ...]:
    """Every rule detection can report."""
    from detection.engine import RULE_KIND

    return (*sorted(RULE_KIND), "stale_listing", "price_war", "sudden_drop", "market_drag", "report_drift")


@dataclass(frozen=True)
class ViolationQuery:
    """What to show: every filter is optional; lists mean "any of"."""

    status: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    confirmation: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    partner: tuple[str, ...] = ()  # partner codes
    tier: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    sku: tuple[str, ...] = ()
    seller: str = ""  # seller id or name, exact (case-insensitive)
    severity: tuple[str, ...] = ()
    step: tuple[str, ...] = ()  # escalation step names
    seen_from: date | None = None  # seen on or after this day (UTC)
    seen_to: date | None = None  # seen on or before this day (UTC)
    assignee: str = ""  # a user name, or "none"
    snoozed: str = "hide"
    q: str = ""  # text search: SKU, title, partner, seller, URL, price as shown
    sort: str = "-last_seen"
    page: int = 1
    per_page: int = 50

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query as URL parameters (defaults left out), with ``changes`` applied."""
        query = replace(self, **changes) if changes else self
        default = ViolationQuery(per_page=self.per_page)
        out: list[tuple[str, str]] = []
        for name in ("status", "kind", "confirmation", "rule", "partner", "tier", "region", "sku", "severity",
                     "step"):
            out.extend((name, v) for v in getattr(query, name))
        for name in ("seller", "assignee", "q"):
            if getattr(query, name):
                out.append((name, getattr(query, name)))
        for name in ("seen_from", "seen_to"):
            value = getattr(query, name)
            if value is not None:
                out.append((name, value.isoformat()))
        if query.snoozed != default.snoozed:
            out.append(("snoozed", query.snoozed))
        if query.sort != default.sort:
            out.append(("sort", query.sort))
        if query.page != 1:
            out.append(("page", str(query.page)))
        return out


@dataclass(frozen=True)
class FilterProblem:
    """A URL parameter whose value is not understood; it was left out of the query."""

    param: str
    value: str
    allowed: tuple[str, ...] = ()


# What a row of the list shows, read as plain rows (no ORM objects, no JSON details decoded): the violation's
# own columns, with its product's SKU and its partner's code and name.
LIST_COLUMNS = (
    Violation.id, Violation.status, Violation.kind, Violation.severity, Violation.rule, Violation.region,
    Violation.observed_price, Violation.allowed_price, Violation.currency, Violation.gap_pct,
    Violation.escalation_step, Violation.last_seen_at, Violation.seller_name, Violation.seller_id,
    Product.sku.label("sku"), Partner.code.label("partner_code"), Partner.name.label("partner_name"),
)


@dataclass
class ViolationPage:
    """One page of the queue: its rows (:data:`LIST_COLUMNS`), how many match (``more``: at least ``total``, not
    counted further), and the query that made it."""

    rows: list[Any]  # Row of LIST_COLUMNS
    total: int
    query: ViolationQuery
    problems: list[FilterProblem] = field(default_factory=list)
    more: bool = False

    @property
    def pages(self) -> int:
        """Number of pages counted (at least 1); with ``more``, further pages follow."""
        return max(1, -(-self.total // self.query.per_page))


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    found: list[str] = []
    for raw in params.get(name, ()):
        found.extend(v.strip() for v in raw.split(",") if v.strip())
    return found


def parse_query(session: Session, user: User, params: Mapping[str, Sequence[str]], *,
                per_page: int = 50) -> tuple[ViolationQuery, list[FilterProblem]]:
    """URL parameters → a query; each value not understood is left out and reported as a problem.

    A partner code or SKU is understood only when it exists *and* the user may see it, so a
    problem never tells a channel manager that another manager's partner exists.
    """
    from store.access import visible_partner_ids

    problems: list[FilterProblem] = []
    values: dict[str, Any] = {}

    def choose(name: str, allowed: Sequence[str], fold: bool = True) -> tuple[str, ...]:
        picked = []
        for value in _values(params, name):
            match = next((a for a in allowed if (a.lower() == value.lower() if fold else a == value)), None)
            if match is None:
                problems.append(FilterProblem(name, value[:MAX_TEXT], tuple(allowed)))
            elif match not in picked:
                picked.append(match)
        return tuple(picked)

    values["status"] = choose("status", STATUSES)
    values["kind"] = choose("kind", KINDS)
    values["confirmation"] = choose("confirmation", CONFIRMATIONS)
    values["rule"] = choose("rule", known_rules())
    values["tier"] = choose("tier", TIERS)
    values["severity"] = choose("severity", SEVERITIES)
    visible = visible_partner_ids(session, user)
    codes = _values(params, "partner")
    if codes:
        rows = session.execute(select(Partner.id, Partner.code).where(
            func.upper(Partner.code).in_([c.upper() for c in codes]))).all()
        by_code = {code.upper(): code for pid, code in rows if visible is None or pid in visible}
        values["partner"] = choose("partner", list(by_code.values()))
    skus = _values(params, "sku")
    if skus:
        found = session.scalars(select(Product.sku).where(func.upper(Product.sku).in_([s.upper() for s in skus])))
        values["sku"] = choose("sku", list(found))
    values["region"] = choose("region", known_regions(session))
    steps = _values(params, "step")
    if steps:
        values["step"] = choose("step", known_steps(session), fold=False)
    for name in ("seller", "q", "assignee"):
        text = " ".join(_values(params, name)) if name != "q" else " ".join(params.get("q", ())).strip()
        if len(text) > MAX_TEXT:
            problems.append(FilterProblem(name, text[:40] + "…"))
            text = ""
        values[name] = text
    if values["assignee"] and values["assignee"] != "none":
        exists = session.scalar(select(func.count()).select_from(User).where(
            func.lower(User.username) == values["assignee"].lower()))
        if not exists:
            problems.append(FilterProblem("assignee", values["assignee"]))
            values["assignee"] = ""
    for name in ("seen_from", "seen_to"):
        raw = _values(params, name)
        if raw:
            try:
                values[name] = date.fromisoformat(raw[-1])
            except ValueError:
                problems.append(FilterProblem(name, raw[-1][:40], ("YYYY-MM-DD",)))
    snoozed = _values(params, "snoozed")
    if snoozed:
        picked = choose("snoozed", SNOOZED)
        if picked:
            values["snoozed"] = picked[-1]
    sort = _values(params, "sort")
    if sort:
        key = sort[-1]
        if key.lstrip("-") in SORTS:
            values["sort"] = key
        else:
            problems.append(FilterProblem("sort", key[:40], tuple(SORTS)))
    page = _values(params, "page")
    if page:
        if page[-1].isdigit() and 0 < int(page[-1]) < 1_000_000:
            values["page"] = int(page[-1])
        else:
            problems.append(FilterProblem("page", page[-1][:40]))
    return ViolationQuery(per_page=per_page, **values), problems


def known_regions(session: Session) -> list[str]:
    """Regions of the catalog's partners and of the violations' listings."""
    from store.access import read_cache

    cache = read_cache(session)
    if "known_regions" not in cache:
        cache["known_regions"] = _known_regions(session)
    return list(cache["known_regions"])


def _known_regions(session: Session) -> list[str]:
    from store.access import regions_text

    regions: set[str] = set()
    # The distinct lists, as text: a thousand partners share a handful (each row decoded cost ~1 ms a request).
    for (value,) in session.execute(select(regions_text(Partner.regions)).distinct()):
        regions.update(str(r) for r in (json.loads(value) if value else None) or [])
    from pricewarden.settings import get_settings

    regions.update(get_settings().region_modes)
    return sorted(regions)


def known_steps(session: Session) -> list[str]:
    """Escalation step names of every published policy version."""
    from policies import load_versions

    names: list[str] = []
    for version in load_versions(session):
        for scope in version.policy.scopes:
            ladder = getattr(scope, "escalation", None)
            for step in ladder.steps if ladder is not None else ():
                if step.name not in names:
                    names.append(step.name)
    return names


def _order(sort: str) -> list[Any]:
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    column: Any = {
        "last_seen": Violation.last_seen_at, "first_seen": Violation.first_seen_at,
        "gap": literal_column(GAP_DESC if desc else GAP_ASC),  # as ix_violations_gap_* (no gap last)
        "severity": literal_column(SEVERITY_RANK),  # as ix_violations_severity_rank spells it
        "partner": Partner.code, "sku": Product.sku, "status": Violation.status,
        "id": Violation.id,
    }[key]
    first = column.desc() if desc else column.asc()
    if key in ("partner", "sku"):  # violations with none last, either way (as _page_by_name reads them)
        first = first.nulls_last()
    tie = Violation.id.desc() if desc else Violation.id.asc()
    return [first, tie] if key != "id" else [first]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered(session: Session, user: User, query: ViolationQuery, now: datetime | None = None, *,
             eager: bool = True) -> Select[Any]:
    """``SELECT violations`` (with product and partner loaded) for ``query`` within the user's scope.

    ``eager=False`` leaves the product and partner out (a count): every filter but the text search then
    reads only the violations' own columns, which ``ix_violations_queue`` covers, so counting a large
    queue scans that narrow index rather than the table.
    """
    stmt = select(Violation)
    if eager:
        stmt = (stmt.outerjoin(Product, Violation.product_id == Product.id)
                .outerjoin(Partner, Violation.partner_id == Partner.id)
                .options(contains_eager(Violation.product), contains_eager(Violation.partner)))
    stmt = scoped(session, stmt, user)
    for name, column in (("status", Violation.status), ("kind", Violation.kind),
                         ("confirmation", Violation.confirmation), ("rule", Violation.rule),
                         ("severity", Violation.severity), ("region", Violation.region),
                         ("step", Violation.escalation_step)):
        chosen = getattr(query, name)
        if chosen:
            stmt = stmt.where(column.in_(chosen))
    # Partner and product filters by id (an index on the violations), not by the joined rows.
    if query.partner:
        stmt = stmt.where(Violation.partner_id.in_(select(Partner.id).where(Partner.code.in_(query.partner))))
    if query.tier:
        stmt = stmt.where(Violation.partner_id.in_(select(Partner.id).where(Partner.tier.in_(query.tier))))
    if query.sku:
        stmt = stmt.where(Violation.product_id.in_(select(Product.id).where(Product.sku.in_(query.sku))))
    if query.seller:
        seller = query.seller.lower()
        # Two index reads made one set of ids (as an OR, SQLite walked the queue's order testing every row).
        by_id = select(Violation.id).where(Violation.seller_id.is_not(None), func.lower(Violation.seller_id) == seller)
        by_name = select(Violation.id).where(Violation.seller_name.is_not(None),
                                             func.lower(Violation.seller_name) == seller)
        stmt = stmt.where(Violation.id.in_(union(by_id, by_name)))
    if query.seen_from is not None:
        stmt = stmt.where(Violation.last_seen_at >= _day_start(query.seen_from))
    if query.seen_to is not None:
        stmt = stmt.where(Violation.first_seen_at < _day_start(query.seen_to + timedelta(days=1)))
    if query.assignee == "none":
        stmt = stmt.where(Violation.assignee_id.is_(None))
    elif query.assignee:
        ids = select(User.id).where(func.lower(User.username) == query.assignee.lower()).scalar_subquery()
        stmt = stmt.where(Violation.assignee_id == ids)
    now = now or utcnow()
    if query.snoozed == "hide":
        stmt = stmt.where(or_(Violation.snoozed_until.is_(None), Violation.snoozed_until <= now))
    elif query.snoozed == "only":
        stmt = stmt.where(Violation.snoozed_until > now)
    if query.q:
        for n, word in enumerate(query.q.split()[:8]):
            term = word.lower().replace("\\", "").replace("%", "").replace("_", " ").strip()
            if not term:
                continue
            like = f"%{term}%"
            # Products and partners are matched in their own (small) tables, then by id here.
            products = select(Product.id).where(or_(func.lower(Product.sku).like(like),
                                                    func.lower(Product.title).like(like)))
            partners = select(Partner.id).where(or_(func.lower(Partner.code).like(like),
                                                    func.lower(Partner.name).like(like)))
            # One set of ids from three index reads (an OR of them would make PostgreSQL walk the queue's
            # order row by row, testing each).
            stmt = stmt.where(Violation.id.in_(union(
                select(Violation.id).where(Violation.product_id.in_(products)),
                select(Violation.id).where(Violation.partner_id.in_(partners)),
                select(Violation.id).where(_own_words(session, term, n)))))
    return stmt


def _own_words(session: Session, term: str, n: int) -> Any:
    """A violation whose own words (seller, URL, price as shown, rule) contain ``term`` (lower case), through
    the trigram index where the term has three letters or more (SEARCH_DDL), else by reading them; ``n`` is the
    word's place in the search, which names its bound parameter."""
    dialect = session.get_bind().dialect.name
    if len(term) >= 3 and dialect == "sqlite":
        phrase = '"' + term.replace('"', '""') + '"'
        found = sql_text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :q{n}").bindparams(
            **{f"q{n}": phrase}).columns(sql_column("rowid", Integer))
        return Violation.id.in_(found)
    if len(term) >= 3 and dialect == "postgresql":
        return literal_column(SEARCH_TEXT).like(f"%{term}%")
    like = f"%{term}%"
    return or_(*(func.lower(getattr(Violation, name)).like(like) for name in SEARCH_COLUMNS))


def _count(session: Session, narrow: Select[Any], limit: int) -> int:
    """How many rows ``narrow`` matches, counting no further than ``limit``."""
    capped = narrow.order_by(None).limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)


# Sorts by a name in another table: the table, the name (its unique index gives the order) and the violations'
# column that points at it.
BY_NAME: dict[str, tuple[Any, Any, Any]] = {"partner": (Partner, Partner.code, Violation.partner_id),
                                            "sku": (Product, Product.sku, Violation.product_id)}


def _page_by_name(session: Session, narrow: Select[Any], sort: str, offset: int, limit: int) -> list[int]:
    """Ids of ``narrow`` sorted by partner code or SKU (``sort``), ``limit`` from ``offset``: the named ones walked
    in the name's order, each name's violations read by their index on it (an inner join that stops at the end of
    the page, where an outer join sorted every match), then those with none by id, as :func:`_order` sorts them."""
    desc = sort.startswith("-")
    table, name, column = BY_NAME[sort.lstrip("-")]
    tie = Violation.id.desc() if desc else Violation.id.asc()
    named = narrow.join(table, column == table.id).order_by(name.desc() if desc else name.asc(), tie)
    ids = list(session.scalars(named.limit(limit).offset(offset)))
    if len(ids) == limit:
        return ids
    # Past the named ones: how many there are (all of them were read when this page holds some), then the rest.
    before = offset + len(ids) if ids or not offset else _count(session, narrow.where(column.is_not(None)), offset)
    rest = narrow.where(column.is_(None)).order_by(tie).limit(limit - len(ids)).offset(max(0, offset - before))
    return ids + list(session.scalars(rest))


def search_violations(session: Session, user: User, query: ViolationQuery,
                      problems: Sequence[FilterProblem] = (), now: datetime | None = None) -> ViolationPage:
    """One page of the violations ``user`` may see that match ``query``, and how many match: exactly up to
    :data:`COUNT_CAP` (or to the end of the page asked for, when further), else that many and ``more``."""
    now = now or utcnow()
    narrow = filtered(session, user, query, now, eager=False).with_only_columns(Violation.id)
    # The page's ids first, sorted and skipped over the narrow rows (a deep page sorts ids, not whole
    # violations), then those rows with their product and partner.
    ordered = narrow.order_by(*_order(query.sort))

    def page_ids(page: int) -> list[int]:
        offset = (page - 1) * query.per_page
        if query.sort.lstrip("-") in BY_NAME:
            return _page_by_name(session, narrow, query.sort, offset, query.per_page + 1)
        return list(session.scalars(ordered.limit(query.per_page + 1).offset(offset)))

    ids = page_ids(query.page)
    if not ids and query.page > 1:  # past the end: the last page instead
        total = _count(session, narrow, (query.page - 1) * query.per_page)
        query = replace(query, page=max(1, -(-total // query.per_page)))
        ids = page_ids(query.page)
    start = (query.page - 1) * query.per_page
    if len(ids) <= query.per_page:  # the last page: the total is known without counting
        total, more = start + len(ids), False
    else:
        cap = max(COUNT_CAP, start + query.per_page)
        total = _count(session, narrow, cap + 1)
        total, more = min(total, cap), total > cap
    ids = ids[:query.per_page]
    loaded = {row.id: row for row in session.execute(
        select(*LIST_COLUMNS).outerjoin(Product, Violation.product_id == Product.id)
        .outerjoin(Partner, Violation.partner_id == Partner.id).where(Violation.id.in_(ids)))} if ids else {}
    return ViolationPage([loaded[i] for i in ids if i in loaded], total, query, list(problems), more=more)


def iter_violations(session: Session, user: User, query: ViolationQuery, limit: int) -> Sequence[Violation]:
    """Every violation matching ``query`` (no paging), at most ``limit``, in the query's order (for exports)."""
    stmt = filtered(session, user, query).order_by(*_order(query.sort)).limit(limit)
    return list(session.scalars(stmt).unique())


__all__ = ["CONFIRMATIONS", "COUNT_CAP", "KINDS", "LIST_COLUMNS", "SORTS", "STATUSES", "FilterProblem", "ViolationPage",
           "ViolationQuery", "filtered", "iter_violations", "known_regions", "known_rules", "known_steps",
           "parse_query", "search_violations"]
