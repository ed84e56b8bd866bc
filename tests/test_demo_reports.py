"""Partner report files and the sample workspace written from the sandbox world."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from openpyxl import load_workbook

from demo import World, default_origins, write_workspace
from demo.catalog import FAMILIES

DAY = 4


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, products=50)


@pytest.fixture(scope="module")
def reports(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("reports")
    return out, world.partner_reports(DAY, out)


def read(path: Path, encoding: str | None) -> list[list[str]]:
    if path.suffix == ".xlsx":
        sheet = load_workbook(path).active
        assert sheet is not None
        return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def test_every_file_parses_with_its_encoding(reports: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = reports
    kinds = {(f["format"], f["encoding"]) for f in truth["files"]}
    assert {("csv", "utf-8"), ("csv", "gbk"), ("xlsx", None)} <= kinds
    for f in truth["files"]:
        rows = read(folder / f["file"], f["encoding"])
        assert rows[0][:3] == ["sku", "price", "currency"] and rows[0][3] in ("observed_at", "date")
        assert len(rows) - 1 == f["rows"]
        if f["encoding"] == "gbk":
            with pytest.raises(UnicodeDecodeError):
                (folder / f["file"]).read_bytes().decode("utf-8")
            assert any("艾克美" in cell for row in rows for cell in row)


def test_planted_mistakes_are_real_and_listed(world: World, reports: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = reports
    seen = set()
    for f in truth["files"]:
        rows = read(folder / f["file"], f["encoding"])
        partner = world.partner_by_code[f["partner"]]
        bad = {b["row"]: b for b in f["bad_rows"]}
        for number, row in enumerate(rows[1:], start=2):
            sku, price, currency, when = row[:4]
            problem = bad.get(number, {}).get("problem")
            seen.add(problem)
            if problem == "missing_sku":
                assert sku == ""
            elif problem == "bad_price":
                with pytest.raises(InvalidOperation):
                    Decimal(price)
            elif problem == "wrong_currency":
                assert currency != partner.currency
            elif problem == "duplicate":
                assert row == rows[number - 2]
            elif problem == "future_date":
                assert date.fromisoformat(when[:10]) > date(2026, 3, DAY)
            else:
                # A clean row: a known SKU, a price, the partner's currency, the report day.
                assert sku in world.product_by_sku and currency == partner.currency
                assert Decimal(price) > 0 and when.startswith("2026-03-04")
    assert {"missing_sku", "bad_price", "wrong_currency", "duplicate", "future_date"} <= seen


def test_misreports_differ_from_the_site(world: World, reports: tuple[Path, dict[str, Any]]) -> None:
    _folder, truth = reports
    wrong = truth["misreports"]
    assert {m["sku"] for m in wrong} == {"AC-110", "AC-230"} and {m["partner"] for m in wrong} == {"P010"}
    site = {p["sku"]: p["price"] for p in world.truth(DAY)["pages"] if p["partner"] == "P010"}
    for m in wrong:
        assert site[m["sku"]] == m["site_price"] and Decimal(m["reported"]) > Decimal(m["site_price"])


def test_workspace_matches_the_world(world: World, tmp_path: Path) -> None:
    origins = default_origins(9100)
    root = write_workspace(tmp_path / "ws", world, origins)
    with (root / "catalog" / "listings.csv").open() as fh:
        listings = list(csv.DictReader(fh))
    assert len(listings) == len(world.listings)
    by_port = {urlsplit(o).port: family for family, o in origins.items()}
    assert {urlsplit(x["url"]).port for x in listings} == {9100 + offset for offset in FAMILIES.values()}
    profiles = {p.stem: yaml.safe_load(p.read_text()) for p in (root / "profiles").glob("*.yaml")}
    for row in listings:
        family = by_port[urlsplit(row["url"]).port]
        if family in ("plain", "eushop", "cnmall", "cngbk", "jsshop", "marketplace", "cartshop", "deals"):
            assert profiles[row["profile"]]["domains"] == [urlsplit(row["url"]).netloc]
        else:
            assert row["profile"] == ""  # structured data needs no profile
    with (root / "catalog" / "partners.csv").open() as fh:
        partners = list(csv.DictReader(fh))
    assert len(partners) == 20 and {p["tier"] for p in partners} == {"A", "B", "C"}
    assert {p["regions"] for p in partners} == {"US", "EU", "CN"}
    with (root / "catalog" / "users.csv").open() as fh:
        roles = {u["role"] for u in csv.DictReader(fh)}
    assert {"admin", "brand_manager", "channel_manager", "partner"} <= roles
    v1, v2 = (yaml.safe_load((root / "policies" / f"acme-v{n}.yaml").read_text()) for n in (1, 2))
    assert str(v1["effective_from"]).startswith("2026-03-01") and str(v2["effective_from"]).startswith("2026-03-05")
    raised = [(a["sku"], a["map"], b["map"]) for a, b in zip(v1["rules"], v2["rules"], strict=True)
              if "map" in a and a["map"] != b["map"]]
    assert [r[0] for r in raised] == [p.sku for p in world.products[5:10]]
    assert v2["promotions"][0]["tiers"] == ["A", "B"] and v2["exemptions"][0]["partner"] == "P004"
    js = yaml.safe_load((root / "profiles" / "jsshop.yaml").read_text())
    assert js["render"] is True and js["browser_steps"] == [{"wait_for_selector": "span.price"}]


def test_workspace_files_load_with_the_product_loaders(world: World, tmp_path: Path, db: Any) -> None:
    """The sample workspace is valid input for the catalog importer, the policy loader and the profile loader."""
    from crawlers.profiles import load_profiles
    from policies import load_policy
    from store.catalog import import_catalog

    root = write_workspace(tmp_path / "ws", world)
    report = import_catalog(root / "catalog", engine=db)
    assert report.problems == []
    assert report.counts["listings"].created == len(world.listings)
    assert report.counts["partners"].created == 20 and report.counts["products"].created == 50
    assert {p.name for p in load_profiles(root / "profiles")} == {
        "plainshop", "jsshop", "cnmall", "cngbk", "eushop", "marketplace", "cartshop", "deals"}
    for version in (1, 2):
        load_policy(root / "policies" / f"acme-v{version}.yaml")
