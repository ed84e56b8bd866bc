"""Catalog import: idempotent, every bad row rejected with file, row and field, good rows kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pricewarden.cli import app
from pricewarden.errors import CatalogImportError
from store import AuditLog, Listing, Partner, Product, User, session_scope
from store.catalog import import_catalog

SAMPLE = Path(__file__).resolve().parents[1] / "pricewarden" / "sample" / "catalog"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SAMPLE, target)
    return target


def test_sample_imports_cleanly_and_twice_changes_nothing(db: Engine, catalog: Path) -> None:
    first = import_catalog(catalog)
    assert first.problems == []
    assert first.counts["products"].created == 5
    with session_scope(db) as s:
        audit_before = len(s.scalars(select(AuditLog)).all())
    second = import_catalog(catalog)
    assert second.changed == 0
    assert second.counts["listings"].unchanged == 5
    with session_scope(db) as s:
        assert len(s.scalars(select(AuditLog)).all()) == audit_before
        partner = s.scalar(select(Partner).where(Partner.code == "P001"))
        assert partner is not None and partner.channel_manager is not None
        assert partner.channel_manager.username == "carl"
        portal = s.scalar(select(User).where(User.username == "soundhub"))
        assert portal is not None and portal.partner_id == partner.id


def test_bad_rows_are_rejected_with_reasons_and_good_rows_kept(db: Engine, catalog: Path) -> None:
    (catalog / "products.csv").write_text(
        "sku,gtin,mpn,brand,title,category\n"
        "AC-100,0840006641018,,Acme,Good one,headphones\n"
        "AC-101,0840006641019,,Acme,Bad check digit,headphones\n"
        ",,,Acme,No SKU,headphones\n"
        "AC-100,,,Acme,Duplicate,headphones\n"
        "AC-102,,,Acme,Also good,\n",
        encoding="utf-8",
    )
    (catalog / "partners.csv").write_text(
        "code,name,tier,regions,status,channel_manager\n"
        "P001,SoundHub,A,US,authorised,carl\n"
        "P009,Odd,D,US,authorised,carl\n"
        "P010,Ghost,B,usa-east,authorised,carl\n"
        "P011,Nobody,B,US,authorised,zed\n",
        encoding="utf-8",
    )
    report = import_catalog(catalog)
    reasons = {(Path(p.file).name, p.line, p.field): p.message for p in report.problems}
    assert "check digit" in reasons[("products.csv", 3, "gtin")]
    assert reasons[("products.csv", 4, "sku")] == "required"
    assert "first on row 2" in reasons[("products.csv", 5, "sku")]
    assert "tier" in reasons[("partners.csv", 3, "tier")]
    assert "region code" in reasons[("partners.csv", 4, "regions")]
    assert "no user 'zed'" in reasons[("partners.csv", 5, "channel_manager")]
    # Listings naming the SKU that was rejected are themselves rejected, not silently linked.
    assert report.counts["products"].created == 2
    with session_scope(db) as s:
        assert sorted(s.scalars(select(Product.sku))) == ["AC-100", "AC-102"]
        assert sorted(s.scalars(select(Partner.code))) == ["P001"]
        assert s.scalar(select(Listing).where(Listing.url == "https://soundhub.example/p/ac-200")) is None
    assert any(p.field == "sku" and "unknown SKU 'AC-200'" in p.message for p in report.problems)


def test_yaml_catalog_reports_yaml_lines(db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "products.yaml").write_text(
        "- sku: AC-1\n  title: One\n- sku: AC-2\n  gtin: '123'\n- sku: AC-3\n  colour: red\n", encoding="utf-8"
    )
    report = import_catalog(folder)
    assert report.counts["products"].created == 1
    by_line = {p.line: (p.field, p.message) for p in report.problems}
    assert by_line[3][0] == "gtin"
    assert by_line[5][0] == "colour" and "unknown column" in by_line[5][1]


def test_partner_account_for_unknown_partner_stays_inactive(db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "users.csv").write_text("username,role,partner,password\nmallory,partner,P404,s3cret\n", encoding="utf-8")
    report = import_catalog(folder)
    assert report.problems[0].field == "partner"
    with session_scope(db) as s:
        user = s.scalar(select(User).where(User.username == "mallory"))
        assert user is not None and user.active is False
        assert user.password_hash and "s3cret" not in user.password_hash


def test_unreadable_catalog_is_a_clear_error(db: Engine, tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(CatalogImportError, match=r"products\.csv"):
        import_catalog(tmp_path / "products.csv")
    with pytest.raises(CatalogImportError, match="no catalog files"):
        import_catalog(tmp_path / "nothing-here")


def test_cli_import_exits_nonzero_and_lists_rejections(db: Engine, catalog: Path) -> None:
    (catalog / "products.csv").write_text("sku,gtin\nAC-100,12\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["catalog", "import", str(catalog), "--json"])
    assert result.exit_code == 1
    assert '"field": "gtin"' in result.output
