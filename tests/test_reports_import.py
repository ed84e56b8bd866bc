"""Partner report import: formats, row-level validation, batches, receipts, re-import."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select, text

from crawlers.reports import ImportResult, import_file, import_rows, safe_cell
from pricewarden.errors import NotFoundError, ReportImportError
from store import session_scope
from store.evidence import EvidenceStore
from store.models import Observation, Partner, Product, ReportBatch, ReportRejection

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = "2026-11-20"


@pytest.fixture
def catalog(db: Engine) -> Engine:
    with session_scope(db) as s:
        s.add_all([Product(sku="AC-100", category="headphones"), Product(sku="AC-200", category="speakers"),
                   Product(sku="AC-300", category="cables")])
        s.add(Partner(code="P001", name="Shop One", locale="en"))
        s.add(Partner(code="P002", name="Laden Zwei", locale="de"))
        s.add(Partner(code="P003", name="店铺三", locale="zh", authorised_channels=["tmall", "shop.example.cn"],
                      authorised_skus=["AC-100", "speakers"]))
    return db


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _observations(engine: Engine) -> list[Observation]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Observation).order_by(Observation.row_number, Observation.id)))


def _rejections(engine: Engine) -> dict[int, tuple[str | None, str]]:
    with session_scope(engine) as s:
        return {r.row_number: (r.column, r.reason) for r in s.scalars(select(ReportRejection))}


@pytest.mark.parametrize(
    ("encoding", "header"),
    [
        ("utf-8", ["sku", "price", "currency", "date", "channel"]),
        ("utf-8-sig", ["SKU ", " Price", "Currency", "Observed At", "URL"]),
        ("gb18030", ["货号", "价格", "币种", "日期", "渠道"]),
        ("gbk", ["商品编码", "单价", "币种", "日期", "渠道"]),
    ],
)
def test_csv_encodings_are_detected_and_recorded(catalog: Engine, tmp_path: Path, encoding: str,
                                                  header: list[str]) -> None:
    path = _csv(tmp_path / "r.csv", [header, ["AC-100", "199.00", "USD", TODAY, "天猫旗舰店"],
                                      ["AC-200", "1,299.50", "USD", TODAY, "https://shop.example/a"]], encoding)
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (2, 0)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030"}[encoding]
    assert result.encoding == expected
    obs = _observations(catalog)
    assert [o.price for o in obs] == [Decimal("199.00"), Decimal("1299.50")]
    assert obs[0].details["channel"] == "天猫旗舰店"
    assert obs[1].url == "https://shop.example/a"
    assert {o.source for o in obs} == {"partner_report"}
    assert [o.row_number for o in obs] == [2, 3]
    assert all(o.batch_id == result.batch_id for o in obs)


def test_semicolon_and_tab_delimited(catalog: Engine, tmp_path: Path) -> None:
    a = _csv(tmp_path / "a.csv", [["sku", "price", "currency", "date"], ["AC-100", "1.299,00", "EUR", TODAY]],
             delimiter=";")
    b = _csv(tmp_path / "b.tsv", [["sku", "price", "currency", "date"], ["AC-200", "19,99", "EUR", TODAY]],
             delimiter="\t")
    assert import_file(a, "P002", now=NOW).rows_accepted == 1
    assert import_file(b, "P002", now=NOW).rows_accepted == 1
    assert [o.price for o in _observations(catalog)] == [Decimal("1299.00"), Decimal("19.99")]


def test_xlsx_streamed_formula_cells_rejected_never_evaluated(catalog: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["SKU", "Price", "Currency", "Date", "Channel", "Quantity"])
    sheet.append(["AC-100", 199.99, "USD", datetime(2026, 11, 20, 9, 30), "web", 3])
    sheet.append(["AC-200", "=1+2", "USD", TODAY, "web", None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["AC-300", 49, "USD", TODAY, "=HYPERLINK(\"http://evil\")", None])
    book.save(tmp_path / "r.xlsx")
    result = import_file(tmp_path / "r.xlsx", "P001", now=NOW)
    assert (result.format, result.rows_accepted, result.rows_rejected) == ("xlsx", 1, 2)
    obs = _observations(catalog)
    assert obs[0].price == Decimal("199.99")
    assert obs[0].observed_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert obs[0].details == {"channel": "web", "quantity": 3}
    rejected = _rejections(catalog)
    assert rejected[3][0] == "price" and "formula" in rejected[3][1]
    assert rejected[5][0] == "channel" and "formula" in rejected[5][1]


def test_quantity_in_other_digits_kept_superscripts_rejected(catalog: Engine, tmp_path: Path) -> None:
    """A superscript "¹" is a digit to ``str.isdigit`` but no number to ``int``: its row is rejected, not the file."""
    header = ["sku", "price", "currency", "date", "channel", "quantity"]
    path = _csv(tmp_path / "r.csv", [header, ["AC-100", "10", "USD", TODAY, "web", "¹"],
                                     ["AC-200", "20", "USD", TODAY, "web", "٣"],
                                     ["AC-300", "30", "USD", TODAY, "web", "①"],
                                     ["AC-100", "11", "USD", TODAY, "shop", "7"]])
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (2, 2)
    assert [o.details["quantity"] for o in _observations(catalog)] == [3, 7]
    rejected = _rejections(catalog)
    assert sorted(rejected) == [2, 4]
    assert rejected[2][0] == "quantity" and "'¹' is not a whole number" in rejected[2][1]


def test_json_payload_same_function_as_api(catalog: Engine) -> None:
    rows = [{"sku": "AC-100", "price": Decimal("199.00"), "currency": "USD", "date": TODAY},
            {"SKU": "AC-999", "Price": "5", "Currency": "USD", "Date": TODAY}]
    result = import_rows(rows, "P001", now=NOW)
    assert (result.format, result.rows_accepted, result.rows_rejected) == ("json", 1, 1)
    assert result.rejections == [{"row": 3, "column": "sku", "reason": "unknown SKU 'AC-999'"}]
    again = import_rows(rows, "P001", now=NOW)
    assert again.duplicate and again.batch_id == result.batch_id


def test_json_file(catalog: Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"sku": "AC-100", "price": 199.5, "currency": "USD", "date": TODAY}]))
    result = import_file(path, "P001", now=NOW)
    assert result.rows_accepted == 1
    assert _observations(catalog)[0].price == Decimal("199.5")


OLD = (NOW - timedelta(days=40)).date().isoformat()
FUTURE = (NOW + timedelta(days=2)).date().isoformat()
CASES = [
    # (partner, row, column, reason fragment)
    ("P001", ["AC-10O", "1", "USD", TODAY, ""], "sku", "unknown SKU 'AC-10O'; did you mean 'AC-100'?"),
    ("P001", ["", "1", "USD", TODAY, ""], "sku", "sku is missing"),
    ("P001", ["EXAMPLE", "1", "USD", TODAY, ""], "sku", "example row"),
    ("P001", ["AC-100", "", "USD", TODAY, ""], "price", "price is missing"),
    ("P001", ["AC-100", "0", "USD", TODAY, ""], "price", "price is zero"),
    ("P001", ["AC-100", "0.00", "USD", TODAY, ""], "price", "price is zero"),
    ("P001", ["AC-100", "-5", "USD", TODAY, ""], "price", "negative"),
    ("P001", ["AC-100", "abc", "USD", TODAY, ""], "price", "not a number"),
    ("P001", ["AC-100", "1e3", "USD", TODAY, ""], "price", "not a number"),
    ("P001", ["AC-100", "NaN", "USD", TODAY, ""], "price", "not a number"),
    # The file's other amount is "10": nothing in it says whether "1,299" is 1299 or 1.299.
    ("P001", ["AC-100", "1,299", "USD", TODAY, ""], "price", "ambiguous"),
    ("P002", ["AC-100", "4.800", "EUR", TODAY, ""], "price", "ambiguous"),
    ("P002", ["AC-100", "1.29.9", "EUR", TODAY, ""], "price", "malformed thousands separators"),
    ("P001", ["AC-100", "1.23456", "USD", TODAY, ""], "price", "decimal places"),
    ("P001", ["AC-100", "199", "usdollar", TODAY, ""], "currency", "not an ISO 4217"),
    ("P001", ["AC-100", "199", "", TODAY, ""], "currency", "currency is missing"),
    ("P001", ["AC-100", "199", "USD", "", ""], "date", "date is missing"),
    ("P001", ["AC-100", "199", "USD", "11/20/2026", ""], "date", "YYYY-MM-DD"),
    ("P001", ["AC-100", "199", "USD", OLD, ""], "date", "older than 30 days"),
    ("P001", ["AC-100", "199", "USD", FUTURE, ""], "date", "in the future"),
    ("P003", ["AC-300", "199", "CNY", TODAY, "tmall"], "sku", "not authorised to sell AC-300"),
    ("P003", ["AC-100", "199", "CNY", TODAY, "jd"], "channel", "not authorised for channel 'jd'"),
    ("P003", ["AC-100", "199", "CNY", TODAY, ""], "channel", "channel is missing"),
]


@pytest.mark.parametrize(("partner", "row", "column", "reason"), CASES)
def test_bad_row_rejected_with_column_and_reason_good_rows_kept(
    catalog: Engine, tmp_path: Path, partner: str, row: list[str], column: str, reason: str
) -> None:
    good = ["AC-200", "10", "CNY" if partner == "P003" else "USD", TODAY, "tmall"]
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], good, row])
    result = import_file(path, partner, now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    got = _rejections(catalog)[3]
    assert got[0] == column
    assert reason in got[1]
    assert len(_observations(catalog)) == 1


@pytest.mark.parametrize(("partner", "row", "column", "reason"), CASES)
def test_a_bad_row_repeated_is_rejected_each_time_for_the_same_reason(
    catalog: Engine, tmp_path: Path, partner: str, row: list[str], column: str, reason: str
) -> None:
    # Each cell text is judged once per import and its verdict remembered: the second and third
    # copies (the last with another SKU, so the remembered verdicts of other columns meet) are refused alike.
    good = ["AC-200", "10", "CNY" if partner == "P003" else "USD", TODAY, "tmall"]
    other = ["AC-200" if row[0] == "AC-100" else row[0], *row[1:]]
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], good, row, row, other])
    result = import_file(path, partner, now=NOW)
    rejected = _rejections(catalog)
    assert (result.rows_accepted, result.rows_rejected) == (1, 3)
    assert rejected[3] == rejected[4]
    assert rejected[5][0] == column
    assert reason.replace("AC-300", "") in rejected[5][1]


@pytest.mark.parametrize(("partner", "text", "amount"), [
    ("P001", "1,299.00", "1299.00"), ("P001", "1299", "1299"), ("P001", " 199.5 ", "199.5"),
    ("P002", "1.299,00", "1299.00"), ("P002", "19,99", "19.99"), ("P002", "1 299,00", "1299.00"),
    ("P003", "1,299.00", "1299.00"),
    # One or two digits after the only separator: it can only be the decimal point, in any locale.
    ("P001", "12,99", "12.99"), ("P002", "19.99", "19.99"), ("P002", "569.00", "569.00"),
])
def test_prices_accepted_when_unambiguous_for_locale(catalog: Engine, tmp_path: Path, partner: str, text: str,
                                                     amount: str) -> None:
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"],
                                      ["AC-100", text, "EUR", TODAY, "tmall"]])
    assert import_file(path, partner, now=NOW).rows_accepted == 1
    assert _observations(catalog)[0].price == Decimal(amount)


def test_a_url_or_path_on_the_partners_own_site_is_its_web_channel(catalog: Engine, tmp_path: Path) -> None:
    with session_scope(catalog) as s:
        s.add(Partner(code="P004", name="Web Only", locale="en", domains=["p4.example"],
                      authorised_channels=["web"]))
    rows = [["sku", "price", "currency", "date", "url"],
            ["AC-100", "10", "USD", TODAY, "/p004/goods/ac-100.htm"],
            ["AC-200", "10", "USD", TODAY, "https://www.p4.example/ac-200"],
            ["AC-300", "10", "USD", TODAY, "https://elsewhere.example/ac-300"]]
    result = import_file(_csv(tmp_path / "r.csv", rows), "P004", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    assert _rejections(catalog)[4] == ("channel", "partner P004 is not authorised for channel "
                                                  "'https://elsewhere.example/ac-300'")


def test_duplicate_rows_keep_first_and_name_it(catalog: Engine, tmp_path: Path) -> None:
    header = ["sku", "price", "currency", "date", "channel"]
    path = _csv(tmp_path / "r.csv", [header, ["AC-100", "1", "USD", TODAY, "web"],
                                     ["AC-100", "2", "USD", TODAY, "other"],
                                     ["ac-100", "3", "USD", TODAY, "WEB"]])
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    assert _rejections(catalog)[4] == ("sku", "duplicate of row 2 (same sku, date and channel)")


def test_expected_currency_from_policy(catalog: Engine, tmp_path: Path) -> None:
    seen = []

    def expected(sku: str, partner: str, at: datetime) -> str | None:
        seen.append((sku, partner, at))
        return "EUR" if sku == "AC-100" else None

    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date"], ["AC-100", "1", "USD", TODAY],
                                     ["AC-100", "2", "", "2026-11-19"], ["AC-200", "3", "GBP", TODAY]])
    result = import_file(path, "P001", now=NOW, expected_currency=expected)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    assert "does not match EUR" in _rejections(catalog)[2][1]
    assert [o.currency for o in _observations(catalog)] == ["EUR", "GBP"]
    assert seen[0][:2] == ("AC-100", "P001")


def test_reimport_changes_nothing_and_new_file_with_same_rows_is_rejected(catalog: Engine, tmp_path: Path) -> None:
    rows = [["sku", "price", "currency", "date"], ["AC-100", "1", "USD", TODAY]]
    first = import_file(_csv(tmp_path / "a.csv", rows), "P001", now=NOW)
    again = import_file(tmp_path / "a.csv", "P001", now=NOW + timedelta(hours=1))
    assert again.duplicate and again.batch_id == first.batch_id and again.rows_accepted == 1
    assert "already imported" in again.summary()
    other = import_file(_csv(tmp_path / "b.csv", [*rows, ["AC-200", "2", "USD", TODAY]]), "P001", now=NOW)
    assert (other.rows_accepted, other.rows_rejected) == (1, 1)
    assert f"already reported in batch {first.batch_id} row 2" in other.rejections[0]["reason"]
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 2
        assert s.scalar(select(func.count()).select_from(Observation)) == 2


def test_receipt_lists_every_row_is_formula_safe_and_stored_as_evidence(catalog: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"],
                                     ["AC-100", "1", "USD", TODAY, "=cmd|' /C calc'!A0"],
                                     ["@SUM(A1)", "-2", "USD", TODAY, "+x"]])
    result = import_file(path, "P001", now=NOW)
    receipt = Path(result.receipt_path)
    text = receipt.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["row", "status", "column", "reason"]
    assert lines[1][:2] == ["2", "accepted"] and lines[1][8] == "'=cmd|' /C calc'!A0"
    assert lines[2][:3] == ["3", "rejected", "sku"] and lines[2][4] == "'@SUM(A1)" and lines[2][5] == "'-2"
    assert receipt.parent == Path(tmp_path / "workspace" / "reports" / "receipts")
    assert EvidenceStore.from_settings().get(result.receipt_sha256 or "") == receipt.read_bytes()


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), (None, ""),
])
def test_safe_cell(value: str | None, safe: str) -> None:
    assert safe_cell(value) == safe


def test_rows_are_keyed_by_sixteen_bytes_and_a_reimport_across_chunks_finds_each_one(
        catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    get_settings.cache_clear()
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(25)]
    body = [[sku, "10", "USD", day, ch] for sku in ("AC-100", "AC-200") for day in days for ch in ("a", "b", "c")]
    header = ["sku", "price", "currency", "date", "channel"]
    first = import_file(_csv(tmp_path / "a.csv", [header, *body]), "P001", now=NOW)
    again = import_file(_csv(tmp_path / "b.csv", [header, ["AC-300", "3", "USD", TODAY, "a"], *body]), "P001", now=NOW)
    assert (first.rows_accepted, again.rows_accepted, again.rows_rejected) == (150, 1, 150)
    assert {r["row"]: r["reason"] for r in again.rejections} == {
        n + 1: f"already reported in batch {first.batch_id} row {n}" for n in range(2, 152)}
    width = "pg_column_size(obs_key)" if catalog.dialect.name == "postgresql" else "length(obs_key)"
    with catalog.connect() as conn:  # half a SHA-256 (pricewarden.keys), not its 64 hex digits
        assert conn.execute(text(f"SELECT DISTINCT {width} FROM observations")).scalars().all() == [16]


def test_unreadable_and_unknown(catalog: Engine, tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(ReportImportError, match="missing column"):
        import_file(tmp_path / "x.csv", "P001", now=NOW)
    (tmp_path / "b.xlsx").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ReportImportError, match="XLSX"):
        import_file(tmp_path / "b.xlsx", "P001", now=NOW)
    with pytest.raises(NotFoundError):
        import_file(tmp_path / "x.csv", "NOPE", now=NOW)
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
    assert not list((tmp_path / "workspace").rglob("*.csv"))


def test_duplicates_found_across_chunks(catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    get_settings.cache_clear()
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(25)]
    body = [[sku, "10", "USD", day, ch] for sku in ("AC-100", "AC-200") for day in days for ch in ("a", "b", "c")]
    body.append(["AC-100", "11", "USD", days[0], "a"])  # row 152 repeats row 2, in another chunk
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], *body])
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (150, 1)
    assert _rejections(catalog)[152] == ("sku", "duplicate of row 2 (same sku, date and channel)")



def test_a_chunk_the_database_refuses_fails_the_import_and_stores_nothing(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later chunk's rows refused by the database: the error is the import's, nothing of the batch is kept."""
    from crawlers.reports import _sink
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    get_settings.cache_clear()
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(25)]
    body = [[sku, "10", "USD", day, ch] for sku in ("AC-100", "AC-200") for day in days for ch in ("a", "b", "c")]
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], *body])
    flush = _sink.BatchSink.flush

    def undated(sink: _sink.BatchSink, chunk: list[Any]) -> None:  # row 150 (the second chunk) stored without a date
        flush(sink, [(r[0], r[1], (*r[2][:3], None, *r[2][4:]), *r[3:]) if type(r) is tuple and r[0] == 150 else r
                     for r in chunk])

    monkeypatch.setattr(_sink.BatchSink, "flush", undated)
    with pytest.raises(Exception, match=r"(?i)not.null"):
        import_file(path, "P001", now=NOW)
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
        assert s.scalar(select(func.count()).select_from(Observation)) == 0
        assert s.scalar(select(func.count()).select_from(ReportRejection)) == 0
    assert not list((tmp_path / "workspace").rglob("*.csv"))
    monkeypatch.setattr(_sink.BatchSink, "flush", flush)
    result = import_file(path, "P001", now=NOW)  # the same file again, on the same pool: all of it stored
    assert (result.rows_accepted, result.rows_rejected) == (150, 0)
    assert [o.row_number for o in _observations(catalog)] == list(range(2, 152))

POLICY = """policy: Test policy
effective_from: 2026-01-01T00:00
timezone: UTC
currency: USD
scopes:
  - {name: us, regions: [US], mode: map, currency: USD}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
rules:
  - {sku: AC-100, scope: us, map: "100.00"}
"""


def test_published_policy_sets_the_expected_currency(catalog: Engine, tmp_path: Path) -> None:
    from policies import publish_text

    with session_scope(catalog) as s:
        publish_text(s, POLICY, file="policy.yaml")
        s.add(Partner(code="P010", name="EU shop", locale="en", regions=["EU"]))
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date"], ["AC-100", "1", "USD", TODAY],
                                     ["AC-200", "2", "", TODAY], ["AC-300", "3", "EUR", TODAY]])
    result = import_file(path, "P010", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    assert "does not match EUR" in _rejections(catalog)[2][1]
    assert [o.currency for o in _observations(catalog)] == ["EUR", "EUR"]


def test_file_over_the_size_limit_is_refused(catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__MAX_FILE_MB", "1")
    get_settings.cache_clear()
    path = tmp_path / "big.csv"
    path.write_bytes(b"sku,price,currency,date\n" + b"AC-100,1,USD,2026-11-20\n" * 50_000)
    with pytest.raises(ReportImportError, match="larger than 1 MB"):
        import_file(path, "P001", now=NOW)


def _outcome(engine: Engine, result: ImportResult) -> tuple[list[Any], list[Any], str]:
    """A batch's stored rows and receipt, without what names the batch or the partner."""
    with session_scope(engine) as s:
        observations = [
            (o.row_number, o.price, o.currency, o.observed_at, o.raw_text, o.url, o.details)
            for o in s.scalars(select(Observation).where(Observation.batch_id == result.batch_id)
                               .order_by(Observation.row_number, Observation.id))
        ]
        rejections = [
            (r.row_number, r.column, r.reason.replace(result.partner, "P"), r.raw)
            for r in s.scalars(select(ReportRejection).where(ReportRejection.batch_id == result.batch_id)
                               .order_by(ReportRejection.row_number, ReportRejection.id))
        ]
    receipt = Path(result.receipt_path).read_text(encoding="utf-8-sig").replace(result.partner, "P")
    return observations, rejections, receipt


def test_a_file_judged_in_a_second_process_is_stored_and_receipted_alike(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawlers.reports import _importer, _worker
    from policies import publish_text
    from pricewarden.settings import get_settings

    with session_scope(catalog) as s:
        publish_text(s, POLICY, file="policy.yaml")  # the child reads the policy's currency from the database
        s.add(Partner(code="P010", name="EU shop", locale="en", regions=["EU"]))
        s.add(Partner(code="P011", name="EU shop two", locale="en", regions=["EU"]))
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(25)]
    body = [[sku, f"{10 + n % 7},5{n % 10}", "EUR" if n % 9 else "", day, ch]
            for n, (sku, day, ch) in enumerate((s, d, c) for s in ("AC-100", "AC-200", "AC-300") for d in days
                                               for c in ("a", "b", "=c;d"))]
    body += [["AC-100", "11", "EUR", days[0], "a"], ["AC-999", "1", "EUR", TODAY, "x"],
             ["AC-200", "-1", "EUR", TODAY, "x"], ["AC-300", "1", "USD", TODAY, "x"],
             ["AC-300", "1", "EUR", "2020-01-01", "y"]]
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], *body])
    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    started: list[int] = []

    class Spy(_worker.Worker):
        def __init__(self, *args: object) -> None:
            started.append(1)
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_importer, "Worker", Spy)
    outcomes = []
    for partner, parallel_mb in (("P010", "1000"), ("P011", "0")):
        monkeypatch.setenv("PRICEWARDEN_REPORTS__PARALLEL_MIN_MB", parallel_mb)
        get_settings.cache_clear()
        result = import_file(path, partner, now=NOW)
        assert (result.rows_accepted, result.rows_rejected) == (225, 5)
        outcomes.append(_outcome(catalog, result))
    assert outcomes[0] == outcomes[1]
    assert started == ([1] if _worker.can_fork() else [])  # the second import only was judged in the child
    assert "duplicate of row 2 (same sku, date and channel)" in outcomes[1][2]


def test_a_refusal_in_the_second_process_stores_nothing(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__PARALLEL_MIN_MB", "0")
    monkeypatch.setenv("PRICEWARDEN_REPORTS__MAX_ROWS", "50")
    get_settings.cache_clear()
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date"], *[["AC-100", "1", "USD", TODAY]] * 60])
    with pytest.raises(ReportImportError, match=r"^r\.csv: more than 50 rows \(reports\.max_rows\)$"):
        import_file(path, "P001", now=NOW)
    with pytest.raises(ReportImportError, match="no such file"):
        import_file(tmp_path / "missing.csv", "P001", now=NOW)
    _csv(tmp_path / "bad.csv", [["name", "cost"], ["x", "1"]])
    with pytest.raises(ReportImportError, match=r"^bad\.csv: missing column"):
        import_file(tmp_path / "bad.csv", "P001", now=NOW)
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
        assert s.scalar(select(func.count()).select_from(Observation)) == 0
    assert not list((tmp_path / "workspace").rglob("*.csv"))


HOSTILE = ["AC-100", "ac-200", " AC-300 ", "AC-10O", "", "  ", "\u200b", "EXAMPLE", "12.50", "1,299.00", "1.299,00",
           "4.800", "-1", "0", "abc", "USD", "EUR", "usd", "", "2026-11-20", "2026-11-19T08:00:00+08:00",
           "2026-11-19T23:30:00Z", "2099-01-01", "1999-01-01", "=1+2", "@SUM(A1)", "+cmd", "a;b", 'q"uote', "x,y",
           "tmall", "https://shop.example.cn/p/1", "/p/2", "天猫", "3", "2.5", "x\x00y", "y" * 1200, "z" * 3000]


@pytest.mark.parametrize("partner", ["P001", "P003", "P010"])
def test_a_csv_judged_column_by_column_is_stored_and_receipted_as_row_by_row(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partner: str
) -> None:
    """The column lane (reports._columns) and the row-by-row path give the same rows, rejections and receipt."""
    import random

    from crawlers.reports import _columns
    from policies import publish_text
    from pricewarden.settings import get_settings

    with session_scope(catalog) as s:
        publish_text(s, POLICY, file="policy.yaml")
        s.add(Partner(code="P010", name="EU shop", locale="en", regions=["EU"]))
    rng = random.Random(5)
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(5)]
    body: list[list[str]] = []
    for n in range(1500):
        row = [("AC-100", "AC-200", "AC-300")[n % 3], f"{10 + n % 50}.{n % 100:02d}", ("USD", "EUR")[n % 2],
               days[n // 300], ("tmall", f"https://shop.example.cn/p/{n % 97}")[n % 2], str(n % 4)]
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            row[rng.randrange(6)] = rng.choice(HOSTILE)
        if rng.random() < 0.03:
            row = row[:rng.randrange(6)]  # a short row, or an empty line
        body.append(row)
    body += body[100:160]  # duplicates of rows in earlier chunks
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel", "quantity", "note"], *body])
    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    monkeypatch.setenv("PRICEWARDEN_REPORTS__MAX_CELL_CHARS", "2000")
    get_settings.cache_clear()
    outcomes = []
    lanes: list[bool] = []
    judged = _columns.can_judge_records
    for lane in (True, False):
        monkeypatch.setattr(_columns, "can_judge_records", lambda *a, lane=lane: lanes.append(lane) or (
            lane and judged(*a)))
        result = import_file(path, partner, now=NOW)
        outcomes.append(_outcome(catalog, result))
        with session_scope(catalog) as s:  # the second import of the same rows must not see the first's
            for table in (Observation, ReportRejection, ReportBatch):
                s.execute(table.__table__.delete())
    assert lanes == [True, False]
    observations, rejections, receipt = outcomes[0]
    assert receipt.count("\n") == len(observations) + len(rejections) + 1
    assert len(observations) > 300 and len(rejections) > 100
    assert outcomes[0] == outcomes[1]


def test_deleting_a_product_a_batch_or_a_partner_deletes_their_observations(catalog: Engine, tmp_path: Path) -> None:
    """observations.product_id and .batch_id have no foreign keys: triggers delete their rows, leaving no orphans."""
    from sqlalchemy import delete

    header = ["sku", "price", "currency", "date", "channel"]
    first = import_file(_csv(tmp_path / "a.csv", [header, ["AC-100", "10", "USD", TODAY, "a"],
                                                  ["AC-200", "20", "USD", TODAY, "a"]]), "P001", now=NOW)
    second = import_file(_csv(tmp_path / "b.csv", [header, ["AC-100", "11", "USD", TODAY, "b"],
                                                   ["AC-300", "30", "USD", TODAY, "b"]]), "P001", now=NOW)
    import_file(_csv(tmp_path / "c.csv", [header, ["AC-300", "31", "USD", TODAY, "c"]]), "P002", now=NOW)

    def left() -> set[tuple[str, str]]:
        with session_scope(catalog) as s:
            return {(sku, price) for sku, price in s.execute(
                select(Product.sku, Observation.raw_text).outerjoin(Product, Product.id == Observation.product_id))}

    with session_scope(catalog) as s:
        s.execute(delete(Product).where(Product.sku == "AC-100"))
    assert left() == {("AC-200", "20"), ("AC-300", "30"), ("AC-300", "31")}
    with session_scope(catalog) as s:
        s.execute(delete(ReportBatch).where(ReportBatch.id == second.batch_id))
    assert left() == {("AC-200", "20"), ("AC-300", "31")}
    with catalog.connect() as conn:
        if catalog.dialect.name == "sqlite":  # the db fixture's pooled connections may have left them off
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(delete(Partner).where(Partner.code == "P001"))  # its batches by their key, their rows by trigger
        assert conn.scalar(select(func.count()).select_from(ReportBatch).where(ReportBatch.id == first.batch_id)) == 0
        conn.commit()
    assert left() == {("AC-300", "31")}


def test_a_product_deleted_during_the_import_refuses_the_file(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's products are checked at once before its rows are stored: one gone since the catalog was read
    refuses the file, and nothing of the batch is kept."""
    from sqlalchemy import delete

    from crawlers.reports import _sink

    flush = _sink.BatchSink.flush

    def deleting(sink: _sink.BatchSink, chunk: list[Any]) -> None:
        sink.session.execute(delete(Product).where(Product.sku == "AC-200"))
        flush(sink, chunk)

    monkeypatch.setattr(_sink.BatchSink, "flush", deleting)
    path = _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date"], ["AC-100", "10", "USD", TODAY],
                                     ["AC-200", "20", "USD", TODAY]])
    with pytest.raises(ReportImportError, match=r"1 product\(s\) of the report were deleted during the import"):
        import_file(path, "P001", now=NOW)
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
        assert s.scalar(select(func.count()).select_from(Observation)) == 0
        assert s.scalar(select(func.count()).select_from(Product)) == 3  # the deletion was the import's: undone


def test_a_reports_products_cannot_be_deleted_until_it_commits(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the batch holds its products FOR KEY SHARE (the lock a foreign key's check took per row)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from crawlers.reports import _sink

    if catalog.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the import's transaction holds the whole database")
    flush = _sink.BatchSink.flush
    refused: list[str] = []

    def contested(sink: _sink.BatchSink, chunk: list[Any]) -> None:
        flush(sink, chunk)
        with catalog.connect() as other:
            for sku in ("AC-100", "AC-300"):  # AC-100 is in the report, AC-300 is not
                try:
                    other.execute(text("SET LOCAL lock_timeout = '200ms'"))
                    other.execute(text("DELETE FROM products WHERE sku = :sku"), {"sku": sku})
                except OperationalError as exc:
                    refused.append(f"{sku}: {'lock timeout' if 'lock timeout' in str(exc) else exc}")
                finally:
                    other.rollback()

    monkeypatch.setattr(_sink.BatchSink, "flush", contested)
    result = import_file(_csv(tmp_path / "r.csv", [["sku", "price", "currency", "date"],
                                                   ["AC-100", "10", "USD", TODAY]]), "P001", now=NOW)
    assert result.rows_accepted == 1
    assert refused == ["AC-100: lock timeout"]


def _five_chunks(tmp_path: Path) -> Path:
    """450 rows (chunks of 100), a few bad ones and a duplicate of row 2 in the fourth chunk."""
    days = [(NOW - timedelta(days=d)).date().isoformat() for d in range(25)]
    body = [[sku, f"{10 + n % 7}.5{n % 10}", "USD", day, ch]
            for n, (sku, day, ch) in enumerate((s, d, c) for s in ("AC-100", "AC-200", "AC-300") for d in days
                                               for c in ("a", "b", "c", "d", "e", "f"))]
    body[40] = ["AC-999", "1", "USD", TODAY, "x"]
    body[170] = ["AC-200", "-1", "USD", TODAY, "x"]
    body[330] = ["AC-100", "10", "USD", days[0], "a"]  # row 332 repeats row 2
    body[449] = ["AC-300", "abc", "USD", TODAY, "y"]
    return _csv(tmp_path / "r.csv", [["sku", "price", "currency", "date", "channel"], *body])


def test_a_later_chunk_refused_while_the_next_is_judged_rolls_back_and_a_reimport_loses_nothing(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL inserts a chunk while the importer judges the next: a refusal of the third chunk (seen while the
    fourth is judged), of the last, or the file failing while a chunk is in flight, rolls the whole batch back; the
    connection goes back to the pool usable, and the same file imported again stores what a clean import stores."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from crawlers.reports import _importer, _sink
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    get_settings.cache_clear()
    path = _five_chunks(tmp_path)
    clean = import_file(path, "P002", now=NOW)  # the reference: another partner's batch, never failed
    assert (clean.rows_accepted, clean.rows_rejected) == (446, 4)
    expected = _outcome(catalog, clean)
    flush = _sink.BatchSink.flush
    judge = _importer.judge_source

    def refusing(row: int) -> Any:
        def undated(sink: _sink.BatchSink, chunk: list[Any]) -> None:  # ``row`` stored without a date
            flush(sink, [(r[0], r[1], (*r[2][:3], None, *r[2][4:]), *r[3:]) if type(r) is tuple and r[0] == row
                         else r for r in chunk])
        return undated

    def failing_after(chunks: int) -> Any:
        def judged(*args: Any) -> Any:
            for n, chunk in enumerate(judge(*args)):
                if n == chunks:
                    raise ReportImportError("reading the file failed: the disk went away", file="r.csv")
                yield chunk
        return judged

    def stored() -> tuple[int, int, int]:
        with session_scope(catalog) as s:
            return (s.scalar(select(func.count()).select_from(ReportBatch).where(ReportBatch.partner_id != 2)) or 0,
                    s.scalar(select(func.count()).select_from(Observation).where(Observation.partner_id != 2)) or 0,
                    s.scalar(select(func.count()).select_from(ReportRejection)
                             .where(ReportRejection.batch_id != clean.batch_id)) or 0)

    for patch, error in (((_sink.BatchSink, "flush", refusing(250)), IntegrityError),  # the third chunk
                         ((_sink.BatchSink, "flush", refusing(450)), IntegrityError),  # the last chunk
                         ((_importer, "judge_source", failing_after(3)), ReportImportError)):
        with monkeypatch.context() as m:
            m.setattr(*patch)
            with pytest.raises(error, match=r"(?i)not.null|the disk went away"):
                import_file(path, "P001", now=NOW)
        assert stored() == (0, 0, 0)
        assert [p.name for p in (tmp_path / "workspace").rglob("P001*.csv")] == []
        with catalog.connect() as conn:  # the import's connection, back in the pool: not left in a pipeline
            assert conn.execute(text("SELECT 1")).scalar() == 1
    result = import_file(path, "P001", now=NOW)  # the same file again, on the same pool: all of it stored
    assert (result.rows_accepted, result.rows_rejected) == (446, 4)
    assert _outcome(catalog, result) == expected
    assert _rejections(catalog)[332] == ("sku", "duplicate of row 2 (same sku, date and channel)")


def test_postgresql_inserts_a_chunk_while_the_next_is_judged(
    catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server inserting the first chunk waits on a lock that is let go only once the second chunk is judged:
    an importer that waited for the first INSERT before judging on would wait for ever (here: lock_timeout)."""
    from sqlalchemy import text

    from crawlers.reports import _importer
    from pricewarden.settings import get_settings

    if catalog.dialect.name != "postgresql":
        pytest.skip("SQLite's driver answers each statement before the next")
    monkeypatch.setenv("PRICEWARDEN_REPORTS__CHUNK_ROWS", "100")
    get_settings.cache_clear()
    path = _five_chunks(tmp_path)
    judge = _importer.judge_source
    seen_waiting: list[bool] = []
    gate = catalog.connect()

    def waiting() -> bool:  # the import's INSERT (its trigger) waits for the gate
        return bool(gate.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                      "AND objid = 8231 AND NOT granted")).scalar())

    def judged(*args: Any) -> Any:
        import time

        for n, chunk in enumerate(judge(*args)):
            if n == 1:  # the second chunk is judged: the server is still on the first
                deadline = time.monotonic() + 5
                while not waiting() and time.monotonic() < deadline:
                    time.sleep(0.02)
                seen_waiting.append(waiting())
                gate.execute(text("SELECT pg_advisory_unlock(8231)"))
            yield chunk

    with catalog.begin() as conn:
        conn.execute(text("CREATE FUNCTION pw_test_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                          "PERFORM set_config('lock_timeout', '5s', true); PERFORM pg_advisory_xact_lock_shared(8231); "
                          "RETURN NULL; END $$"))
        conn.execute(text("CREATE TRIGGER pw_test_gate AFTER INSERT ON observations "
                          "FOR EACH STATEMENT EXECUTE FUNCTION pw_test_gate()"))
    try:
        gate.execute(text("SELECT pg_advisory_lock(8231)"))
        gate.commit()
        monkeypatch.setattr(_importer, "judge_source", judged)
        result = import_file(path, "P001", now=NOW)
    finally:
        gate.execute(text("SELECT pg_advisory_unlock_all()"))
        gate.commit()
        gate.close()
        with catalog.begin() as conn:
            conn.execute(text("DROP TRIGGER pw_test_gate ON observations"))
            conn.execute(text("DROP FUNCTION pw_test_gate()"))
    assert seen_waiting == [True]
    assert (result.rows_accepted, result.rows_rejected) == (446, 4)
    assert [o.row_number for o in _observations(catalog)][:3] == [2, 3, 4]


def test_postgresql_reads_a_chunk_in_copys_binary_form_as_in_its_text_form(db: Engine) -> None:
    """The same rows through COPY's binary form (copy_binary) and its text form (copy_text) are the same values once
    stored: quotes, backslashes, tabs, newlines, other scripts, NULLs, decimals of every scale, instants, keys."""
    from crawlers.reports._sink import copy_binary, copy_text

    if db.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    texts = ['q"uote', "back\\slash\\N", "tab\there", "new\nline\r", "天猫", "=1+2", "", " ", "NULL", "\\.", "é" * 300]
    rows = [(bytes(range(n, n + 16)), n, texts[n % len(texts)], None if n % 3 else texts[-n % len(texts)],
             NOW + timedelta(seconds=n), Decimal(("12.5", "0.001", "99999.99", "1E+3", "-0")[n % 5]),
             None if n % 2 else Decimal(n), json.dumps({"channel": texts[n % len(texts)], "quantity": n}),
             n % 2 == 0) for n in range(40)]
    columns = "k uuid, n int, t varchar(400), u text, o timestamptz, p numeric(12, 2), l numeric, d json, b boolean"
    with db.connect() as conn:
        driver = conn.connection.driver_connection
        binary = copy_binary(rows, [2950, 23, 25, 25, 1184, 1700, 1700, 25, 16], driver)
        assert binary is not None
        stored = []
        for form, data in (("", copy_text(rows)), (" (FORMAT BINARY)", binary)):
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE t ({columns})")
            with driver.cursor() as cursor, cursor.copy(f"COPY t FROM STDIN{form}") as copy:
                copy.write(data)  # type: ignore[arg-type]
            stored.append(conn.exec_driver_sql("SELECT k, n, t, u, o, p, l, d::text, b FROM t ORDER BY n").all())
            conn.exec_driver_sql("DROP TABLE t")
        conn.rollback()
    assert stored[0] == stored[1]
    assert len(stored[0]) == 40
    assert copy_binary([(b"short", 1)], [2950, 23], driver) is None  # a key of another length: text instead
    assert copy_binary([("a\x00b",)], [25], driver) is None
