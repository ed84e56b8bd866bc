"""Catalog import: products, partners, users and listings from CSV or YAML, validated row by row.

A catalog folder holds ``users``, ``partners``, ``products`` and ``listings`` files (``.csv``,
``.yaml`` or ``.yml``). Multi-valued CSV cells are separated by ``;``. Rows are upserted by their
natural key (username, partner code, SKU, URL): importing the same files twice changes nothing.
A bad row is rejected with its file, row and field; every good row is kept.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import CatalogImportError, InvalidIdentifier, Problem
from pricewarden.identifiers import check_partner_code, check_sku, check_username
from store.audit import audit
from store.db import session_scope
from store.models import Listing, Partner, PartnerStatus, Product, Role, Tier, User
from store.secrets import hash_secret, verify_secret

KINDS = ("users", "partners", "products", "listings")
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("username", "display_name", "email", "role", "locale", "regions", "partner", "notification_urls",
              "password"),
    "partners": ("code", "name", "tier", "regions", "status", "domains", "seller_ids", "channel_manager", "locale",
                 "contact_email", "authorised_skus", "authorised_channels", "notice_urls"),
    "products": ("sku", "gtin", "mpn", "brand", "title", "category"),
    "listings": ("url", "sku", "partner", "seller_id", "profile", "region"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "users": ("username", "role"),
    "partners": ("code", "name"),
    "products": ("sku",),
    "listings": ("url", "sku"),
}
LIST_FIELDS = {"regions", "domains", "seller_ids", "authorised_skus", "authorised_channels", "notice_urls",
               "notification_urls"}
_REGION = re.compile(r"^[A-Z]{2,3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCALE = re.compile(r"^[a-z]{2}([-_][A-Za-z]{2,4})?$")


@dataclass
class KindCounts:
    """What happened to the rows of one kind."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class CatalogReport:
    """The outcome of a catalog import: counts per kind and one problem per rejected row."""

    counts: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in KINDS})
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Rows created or updated."""
        return sum(c.created + c.updated for c in self.counts.values())

    def summary(self) -> str:
        """One line per kind: created, updated, unchanged, rejected."""
        return "\n".join(
            f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged, {c.rejected} rejected"
            for kind, c in self.counts.items()
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "counts": {k: vars(c) for k, c in self.counts.items()},
            "rejected": [
                {"file": p.file, "row": p.line, "field": p.field, "reason": p.message} for p in self.problems
            ],
        }


class _RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        self.column = column
        super().__init__(message)


Row = tuple[int, dict[str, str]]


def _find_file(folder: Path, kind: str) -> Path | None:
    for suffix in (".csv", ".yaml", ".yml"):
        candidate = folder / f"{kind}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _read_csv(path: Path) -> Iterator[Row]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogImportError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except UnicodeDecodeError as exc:
            raise CatalogImportError(f"{path}: not UTF-8 text ({exc.reason})") from exc
        if not header:
            raise CatalogImportError(f"{path}: empty file, expected a header row")
        try:
            for index, raw in enumerate(reader, start=2):
                if None in raw:
                    raise CatalogImportError(f"{path}:{index}: more cells than header columns")
                yield index, {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        except UnicodeDecodeError as exc:
            raise CatalogImportError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _read_yaml(path: Path) -> Iterator[Row]:
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogImportError(f"{path}: cannot read YAML: {exc}") from exc
    if node is None:
        return
    if not isinstance(node, yaml.SequenceNode):
        raise CatalogImportError(f"{path}:{node.start_mark.line + 1}: expected a list of {path.stem}")
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            yield line, {"__error__": "each entry must be a mapping of field: value"}
            continue
        data = yaml.SafeLoader(yaml.serialize(item)).get_single_data()
        row: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, list):
                row[str(key).lower()] = ";".join(str(v) for v in value)
            else:
                row[str(key).lower()] = "" if value is None else str(value)
        yield line, row


def _rows(path: Path) -> Iterator[Row]:
    return _read_csv(path) if path.suffix == ".csv" else _read_yaml(path)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


# The identifier columns of each kind and their rule: a partner code names files and folders, a
# username goes into the audit log, a SKU into URLs and reports (pricewarden.identifiers).
_IDENTIFIERS: dict[str, dict[str, Callable[[str], str]]] = {
    "users": {"username": check_username, "partner": check_partner_code},
    "partners": {"code": check_partner_code, "channel_manager": check_username},
    "products": {"sku": check_sku},
    "listings": {"sku": check_sku, "partner": check_partner_code},
}


def _check_columns(kind: str, row: dict[str, str]) -> None:
    unknown = set(row) - set(COLUMNS[kind]) - {"__error__"}
    if unknown:
        raise _RowError(sorted(unknown)[0], f"unknown column; expected some of {', '.join(COLUMNS[kind])}")
    for column in REQUIRED[kind]:
        if not row.get(column):
            raise _RowError(column, "required")
    for column, check in _IDENTIFIERS[kind].items():
        if row.get(column):
            try:
                check(row[column])
            except InvalidIdentifier as exc:
                raise _RowError(column, str(exc)) from None


def _gtin_ok(gtin: str) -> bool:
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    digits = [int(d) for d in gtin]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _regions(value: str) -> list[str]:
    regions = [r.upper() for r in _split(value)]
    for region in regions:
        if not _REGION.match(region):
            raise _RowError("regions", f"{region!r} is not a region code (like US, EU, CN)")
    return regions


def _apprise_urls(value: str, column: str) -> list[str]:
    urls = _split(value)
    for url in urls:
        if "://" not in url:
            raise _RowError(column, "not a notification URL (expected scheme://..., e.g. mailto:// or slack://)")
    return urls


def _locale(value: str) -> str:
    locale = value or "en"
    if not _LOCALE.match(locale):
        raise _RowError("locale", f"{locale!r} is not a locale (like en, zh, de-DE)")
    return locale


class _Importer:
    def __init__(self, session: Session, report: CatalogReport, actor: str) -> None:
        self.session = session
        self.report = report
        self.actor = actor
        self.pending_user_partner: list[tuple[str, User, str, str, int]] = []

    def upsert(self, kind: str, obj: Any, key_attr: str, values: dict[str, Any]) -> None:
        counts = self.report.counts[kind]
        if obj is None:
            model = {"users": User, "partners": Partner, "products": Product, "listings": Listing}[kind]
            obj = model(**{key_attr: values[key_attr]})
            for name, value in values.items():
                setattr(obj, name, value)
            self.session.add(obj)
            self.session.flush()
            counts.created += 1
            if kind in ("users", "partners"):
                audit(self.session, actor=self.actor, action=f"{kind[:-1]}.created", entity_type=kind[:-1],
                      entity_id=values[key_attr], after=_public(values))
            return
        before = {name: getattr(obj, name) for name in values}
        changes = {name: value for name, value in values.items() if before[name] != value}
        if not changes:
            counts.unchanged += 1
            return
        for name, value in changes.items():
            setattr(obj, name, value)
        counts.updated += 1
        if kind in ("users", "partners"):
            audit(self.session, actor=self.actor, action=f"{kind[:-1]}.updated", entity_type=kind[:-1],
                  entity_id=values[key_attr], before=_public({k: before[k] for k in changes}),
                  after=_public(changes))

    # One method per kind: validate a row and upsert it ------------------------------------------

    def user(self, path: Path, line: int, row: dict[str, str]) -> None:
        role = row["role"].lower()
        if role not in {r.value for r in Role}:
            raise _RowError("role", f"{role!r} is not a role ({', '.join(r.value for r in Role)})")
        email = row.get("email") or None
        if email and not _EMAIL.match(email):
            raise _RowError("email", f"{email!r} is not an e-mail address")
        partner_code = row.get("partner", "")
        if role == Role.PARTNER and not partner_code:
            raise _RowError("partner", "a partner user must name its partner code")
        values: dict[str, Any] = {
            "username": row["username"],
            "display_name": row.get("display_name") or row["username"],
            "email": email,
            "role": role,
            "locale": _locale(row.get("locale", "")),
            "regions": _regions(row.get("regions", "")),
            "notification_urls": _apprise_urls(row.get("notification_urls", ""), "notification_urls"),
        }
        user = self.session.scalar(select(User).where(User.username == row["username"]))
        password = row.get("password", "")
        if password and (user is None or not verify_secret(user.password_hash, password)):
            values["password_hash"] = hash_secret(password)
        self.upsert("users", user, "username", values)
        if partner_code:
            stored = self.session.scalar(select(User).where(User.username == row["username"]))
            assert stored is not None
            self.pending_user_partner.append((partner_code, stored, str(path), row["username"], line))

    def partner(self, path: Path, line: int, row: dict[str, str]) -> None:
        tier = (row.get("tier") or "C").upper()
        if tier not in {t.value for t in Tier}:
            raise _RowError("tier", f"{tier!r} is not a tier (A, B or C)")
        status = (row.get("status") or PartnerStatus.AUTHORISED.value).lower()
        if status not in {s.value for s in PartnerStatus}:
            raise _RowError("status", f"{status!r} is not a status ({', '.join(s.value for s in PartnerStatus)})")
        manager_id = None
        if row.get("channel_manager"):
            manager = self.session.scalar(select(User).where(User.username == row["channel_manager"]))
            if manager is None:
                raise _RowError("channel_manager", f"no user {row['channel_manager']!r}")
            if manager.role not in (Role.CHANNEL_MANAGER, Role.BRAND_MANAGER, Role.ADMIN):
                raise _RowError("channel_manager", f"user {manager.username!r} is a {manager.role}, not a manager")
            manager_id = manager.id
        email = row.get("contact_email") or None
        if email and not _EMAIL.match(email):
            raise _RowError("contact_email", f"{email!r} is not an e-mail address")
        values: dict[str, Any] = {
            "code": row["code"],
            "name": row["name"],
            "tier": tier,
            "status": status,
            "regions": _regions(row.get("regions", "")),
            "domains": [d.lower() for d in _split(row.get("domains", ""))],
            "seller_ids": _split(row.get("seller_ids", "")),
            "authorised_skus": _split(row.get("authorised_skus", "")),
            "authorised_channels": _split(row.get("authorised_channels", "")),
            "channel_manager_id": manager_id,
            "locale": _locale(row.get("locale", "")),
            "contact_email": email,
            "notice_urls": _apprise_urls(row.get("notice_urls", ""), "notice_urls"),
        }
        existing = self.session.scalar(select(Partner).where(Partner.code == row["code"]))
        self.upsert("partners", existing, "code", values)

    def product(self, path: Path, line: int, row: dict[str, str]) -> None:
        gtin = row.get("gtin") or None
        if gtin and not _gtin_ok(gtin):
            raise _RowError("gtin", f"{gtin!r} is not a valid GTIN (8, 12, 13 or 14 digits with check digit)")
        values: dict[str, Any] = {
            "sku": row["sku"],
            "gtin": gtin,
            "mpn": row.get("mpn") or None,
            "brand": row.get("brand", ""),
            "title": row.get("title", ""),
            "category": row.get("category") or None,
        }
        existing = self.session.scalar(select(Product).where(Product.sku == row["sku"]))
        self.upsert("products", existing, "sku", values)

    def listing(self, path: Path, line: int, row: dict[str, str]) -> None:
        url = row["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _RowError("url", f"{url!r} is not an http(s) URL")
        product = self.session.scalar(select(Product).where(Product.sku == row["sku"]))
        if product is None:
            raise _RowError("sku", f"unknown SKU {row['sku']!r}")
        partner_id = None
        if row.get("partner"):
            partner = self.session.scalar(select(Partner).where(Partner.code == row["partner"]))
            if partner is None:
                raise _RowError("partner", f"unknown partner {row['partner']!r}")
            partner_id = partner.id
        region = row.get("region", "").upper() or None
        if region and not _REGION.match(region):
            raise _RowError("region", f"{region!r} is not a region code")
        values: dict[str, Any] = {
            "url": url,
            "site": parts.netloc.lower(),
            "product_id": product.id,
            "partner_id": partner_id,
            "seller_id": row.get("seller_id") or None,
            "profile": row.get("profile") or None,
            "region": region,
        }
        existing = self.session.scalar(select(Listing).where(Listing.url == url))
        self.upsert("listings", existing, "url", values)

    def link_users_to_partners(self) -> None:
        for code, user, file, username, line in self.pending_user_partner:
            partner = self.session.scalar(select(Partner).where(Partner.code == code))
            if partner is None:
                # A partner account with no partner must not log in: it stays inactive until fixed.
                self.report.problems.append(
                    Problem(file, line, "partner", f"unknown partner {code!r}; the account is left inactive")
                )
                self.report.counts["users"].rejected += 1
                user.active = False
                continue
            if user.partner_id != partner.id:
                user.partner_id = partner.id
                audit(self.session, actor=self.actor, action="user.linked", entity_type="user",
                      entity_id=username, after={"partner": code})


def _public(values: dict[str, Any]) -> dict[str, Any]:
    """Values fit for the audit log: secrets replaced by a marker."""
    from store.secrets import redact_apprise_url

    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "password_hash":
            out["password"] = "changed"  # noqa: S105 (a marker, not a password)
        elif key in ("notification_urls", "notice_urls"):
            out[key] = [redact_apprise_url(v) for v in value]
        else:
            out[key] = value
    return out


def import_catalog(source: Path, *, actor: str = "catalog-import", engine: Any = None) -> CatalogReport:
    """Import the catalog files in ``source`` (a folder, or one file named after its kind).

    Good rows are committed even when others are rejected; each rejection is in the report.
    Raises :class:`CatalogImportError` when there is nothing to import or a file cannot be read.
    """
    files: dict[str, Path] = {}
    if source.is_dir():
        for kind in KINDS:
            found = _find_file(source, kind)
            if found:
                files[kind] = found
    elif source.is_file() and source.stem in KINDS:
        files[source.stem] = source
    elif source.is_file():
        raise CatalogImportError(f"{source}: name it after its kind ({', '.join(KINDS)}) with .csv or .yaml")
    if not files:
        raise CatalogImportError(f"{source}: no catalog files (expected {', '.join(k + '.csv' for k in KINDS)})")

    report = CatalogReport()
    with session_scope(engine) as session:
        importer = _Importer(session, report, actor)
        handlers: dict[str, Callable[[Path, int, dict[str, str]], None]] = {
            "users": importer.user,
            "partners": importer.partner,
            "products": importer.product,
            "listings": importer.listing,
        }
        for kind in KINDS:
            path = files.get(kind)
            if path is None:
                continue
            seen: dict[str, int] = {}
            key = REQUIRED[kind][0]
            for line, row in _rows(path):
                try:
                    if "__error__" in row:
                        raise _RowError(None, row["__error__"])
                    _check_columns(kind, row)
                    if row[key] in seen:
                        raise _RowError(key, f"duplicate {key} {row[key]!r} (first on row {seen[row[key]]})")
                    with session.begin_nested():
                        handlers[kind](path, line, row)
                    seen[row[key]] = line
                except _RowError as exc:
                    report.counts[kind].rejected += 1
                    report.problems.append(Problem(str(path), line, exc.column, str(exc)))
        importer.link_users_to_partners()
    return report
