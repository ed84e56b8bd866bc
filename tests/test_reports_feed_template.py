"""Product feeds over HTTP (XML and TSV) and partner report templates (XLSX and CSV)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from crawlers.reports import import_feed, import_file, split_price
from pricewarden.cli import app
from pricewarden.errors import ReportImportError
from store import session_scope
from store.models import Observation, Partner, Product, ReportBatch

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

XML_FEED = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Shop</title>
<item><g:id>AC-100</g:id><g:price>199.00 USD</g:price><g:sale_price>179.00 USD</g:sale_price>
  <g:availability>in stock</g:availability><g:link>https://shop.example/ac-100</g:link></item>
<item><g:id>shop-sku-77</g:id><g:gtin>00012345678905</g:gtin><g:price>89.90 USD</g:price>
  <g:availability>out of stock</g:availability><link>https://shop.example/ac-200</link></item>
<item><g:id>UNKNOWN-1</g:id><g:price>5.00 USD</g:price></item>
<item><g:id>AC-100</g:id><g:price>0.00 USD</g:price><g:link>https://shop.example/free</g:link></item>
</channel></rss>"""
TSV_FEED = (b"id\tprice\tsale_price\tavailability\tlink\n"
            b"AC-100\t199.00 USD\t\tin stock\thttps://shop.example/a\n"
            b"AC-200\tabc USD\t\tin stock\thttps://shop.example/b\n")


PAGES = {"/feed.xml": XML_FEED, "/feed.tsv": TSV_FEED, "/bad.xml": b"<rss><channel><item><g:id>"}


class _Feeds(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"missing")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.fixture
def catalog(db: Engine) -> Engine:
    with session_scope(db) as s:
        s.add_all([Product(sku="AC-100"), Product(sku="AC-200", gtin="00012345678905")])
        s.add(Partner(code="P001", name="Shop", locale="en"))
        s.add(Partner(code="P009", name="店铺", locale="zh_CN", authorised_channels=["tmall"]))
    return db


@pytest.mark.parametrize(("text", "parts"), [
    ("199.00 USD", ("199.00", "USD")), ("USD 199.00", ("199.00", "USD")), ("199.00", ("199.00", None)),
    ("", (None, None)), (None, (None, None)),
])
def test_split_price(text: str | None, parts: tuple[str | None, str | None]) -> None:
    assert split_price(text) == parts


def test_xml_feed_stored_as_feed_observations(catalog: Engine, server: str) -> None:
    result = import_feed(f"{server}/feed.xml", "P001", now=NOW)
    assert (result.format, result.rows_accepted, result.rows_rejected) == ("feed_xml", 2, 2)
    with session_scope(catalog) as s:
        obs = s.scalars(select(Observation).order_by(Observation.row_number, Observation.id)).all()
        assert [(o.source, o.product.sku, o.price, o.list_price, o.availability, o.url) for o in obs] == [
            ("feed", "AC-100", Decimal("179.00"), Decimal("199.00"), "in_stock", "https://shop.example/ac-100"),
            ("feed", "AC-200", Decimal("89.90"), None, "out_of_stock", "https://shop.example/ac-200"),
        ]
        assert all(o.observed_at == NOW for o in obs)
    reasons = [r["reason"] for r in result.rejections]
    assert reasons[0].startswith("unknown SKU 'UNKNOWN-1'") and reasons[1] == "price is zero"
    again = import_feed(f"{server}/feed.xml", "P001", now=NOW)
    assert again.duplicate and again.batch_id == result.batch_id


def test_tsv_feed_and_fetch_errors(catalog: Engine, server: str) -> None:
    result = import_feed(f"{server}/feed.tsv", "P001", now=NOW)
    assert (result.format, result.rows_accepted, result.rows_rejected) == ("feed_csv", 1, 1)
    with pytest.raises(ReportImportError, match="HTTP 404"):
        import_feed(f"{server}/nope", "P001", now=NOW)
    with pytest.raises(ReportImportError, match="XML"):
        import_feed(f"{server}/bad.xml", "P001", now=NOW)
    with pytest.raises(ReportImportError, match="http"):
        import_feed("file:///etc/passwd", "P001", now=NOW)
    with session_scope(catalog) as s:
        assert len(s.scalars(select(ReportBatch)).all()) == 1


@pytest.mark.parametrize(("partner", "fmt", "header", "marker"), [
    ("P001", "xlsx", "sku", "How to fill in this price report"),
    ("P009", "xlsx", "货号", "价格报表填写说明"),
    ("P001", "csv", "sku", "How to fill in this price report"),
    ("P009", "csv", "货号", "价格报表填写说明"),
])
def test_template_in_partner_language_and_importable(catalog: Engine, tmp_path: Path, partner: str, fmt: str,
                                                     header: str, marker: str) -> None:
    out = tmp_path / f"t.{fmt}"
    result = CliRunner().invoke(app, ["report", "template", "--partner", partner, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "xlsx":
        book = openpyxl.load_workbook(out)
        assert book.worksheets[0].cell(1, 1).value == header
        assert marker in book.worksheets[1].cell(1, 1).value
    else:
        assert out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[0] == header
        notes = out.with_suffix(".instructions.txt").read_text(encoding="utf-8")
        assert marker in notes
        if partner == "P009":
            assert "tmall" in notes
    # The template itself imports: its only row is the example, rejected with a clear reason.
    imported = import_file(out, partner)
    assert (imported.rows_accepted, imported.rows_rejected) == (0, 1)
    assert imported.rejections[0]["reason"] == "example row from the template; delete it"


def test_cli_import_receipts_and_cross_check(catalog: Engine, tmp_path: Path) -> None:
    import json

    day = datetime.now(UTC).date().isoformat()
    path = tmp_path / "r.csv"
    path.write_text(f"sku,price,currency,date\nAC-100,199.00,USD,{day}\nAC-1OO,1,USD,{day}\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["report", "import", str(path), "--partner", "P001", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert (data["rows_accepted"], data["rows_rejected"], data["duplicate"]) == (1, 1, False)
    assert data["rejections"][0]["reason"] == "unknown SKU 'AC-1OO'; did you mean 'AC-100'?"
    again = runner.invoke(app, ["report", "import", str(path), "--partner", "P001"])
    assert again.exit_code == 0 and "already imported" in again.output
    listed = json.loads(runner.invoke(app, ["report", "receipts", "--partner", "P001", "--json"]).output)
    assert [(b["batch"], b["accepted"], b["rejected"]) for b in listed] == [(data["batch_id"], 1, 1)]
    assert Path(listed[0]["receipt"]).is_file()
    missing = runner.invoke(app, ["report", "import", str(tmp_path / "none.csv"), "--partner", "P001"])
    assert missing.exit_code == 1
    checked = runner.invoke(app, ["report", "cross-check", "--json"])
    assert checked.exit_code == 0 and json.loads(checked.output) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_is_formula_safe_whatever_the_catalog_holds(catalog: Engine, tmp_path: Path, fmt: str) -> None:
    with session_scope(catalog) as s:
        s.scalar(select(Partner).where(Partner.code == "P001")).authorised_channels = [  # type: ignore[union-attr]
            "=1+1;=2", "x"]
    out = tmp_path / f"t.{fmt}"
    result = CliRunner().invoke(app, ["report", "template", "--partner", "P001", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        example = out.read_text(encoding="utf-8-sig").splitlines()[1]
        assert example.endswith(",\"'=1+1;'=2\",1")  # quoted for a semicolon locale, neutralised after the ";"
    else:
        cells = [c for ws in openpyxl.load_workbook(out).worksheets for row in ws.iter_rows() for c in row]
        assert "=1+1;=2" in [c.value for c in cells]
        assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
        assert not any(c.data_type == "f" for c in cells)
