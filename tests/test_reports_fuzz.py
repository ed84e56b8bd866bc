"""Property-based: random bytes, encodings, broken workbooks, huge and formula cells never crash the importer.

The importer either returns a result or raises ReportImportError; every stored observation is a
good row of the catalog; re-importing the same file stores nothing twice.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from crawlers.reports import import_file
from pricewarden.errors import ReportImportError
from pricewarden.money import is_currency
from store import session_scope
from store.models import Observation, Partner, Product, ReportRejection

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SKUS = ["AC-100", "AC-200", "货号-3"]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.sampled_from([*SKUS, "AC-10O", "", "EXAMPLE", "199.00", "1,299.00", "1.299,00", "-1", "0", "abc", "USD",
                     "EUR", "CNY", "2026-11-20", "2026-11-19T08:00:00+08:00", "2099-01-01", "1999-01-01",
                     "=1+2", "@SUM(A1)", "+cmd", "天猫", "https://shop.example/x", "3"]),
    st.text(max_size=30),
    st.text(min_size=1, max_size=3).map(lambda s: s * 5000),  # huge cells
)
headers = st.permutations(["sku", "price", "currency", "date", "channel", "quantity"]).map(list) | st.just(
    ["货号", "价格", "币种", "日期", "渠道", "数量"]
)
rows = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=15)


@pytest.fixture
def catalog(db: Engine) -> Engine:
    with session_scope(db) as s:
        s.add_all([Product(sku=sku) for sku in SKUS])
        s.add(Partner(code="P001", name="One", locale="en"))
    return db


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        return (s.scalar(select(func.count()).select_from(Observation)) or 0,
                s.scalar(select(func.count()).select_from(ReportRejection)) or 0)


def _check_import(engine: Engine, path: Path) -> None:
    before = _counts(engine)
    try:
        result = import_file(path, "P001", now=NOW)
    except ReportImportError:
        assert _counts(engine) == before, "a refused file must change nothing"
        return
    after = _counts(engine)
    if not result.duplicate:
        assert after[0] - before[0] == result.rows_accepted
        assert after[1] - before[1] == result.rows_rejected
    with session_scope(engine) as s:
        stored = s.scalars(select(Observation).where(Observation.batch_id == result.batch_id)).all()
        rejected = set(s.scalars(select(ReportRejection.row_number)
                                 .where(ReportRejection.batch_id == result.batch_id)))
        for obs in stored:
            assert obs.price is not None and obs.price > Decimal(0)
            assert obs.currency is not None and is_currency(obs.currency)
            assert obs.product_id is not None
            assert obs.row_number not in rejected
    again = import_file(path, "P001", now=NOW)
    assert again.duplicate and again.batch_id == result.batch_id
    assert _counts(engine) == after


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".json", ".tsv"]))
def test_random_bytes(catalog: Engine, tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    _check_import(catalog, path)


@FUZZ
@given(header=headers, body=rows, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]),
       delimiter=st.sampled_from([",", ";", "\t"]))
def test_random_csv_in_any_encoding(catalog: Engine, tmp_path: Path, header: list[str], body: list[list[str]],
                                    encoding: str, delimiter: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([header, *body])
    path = tmp_path / "r.csv"
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    _check_import(catalog, path)


def _workbook(header: list[str], body: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *body]:
        # openpyxl refuses control characters; a partner's Excel would too
        sheet.append([c if not any(ord(ch) < 32 for ch in c) else "x" for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@FUZZ
@given(header=headers, body=rows, cut=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_xlsx_whole_or_truncated(catalog: Engine, tmp_path: Path, header: list[str], body: list[list[str]],
                                 cut: float | None) -> None:
    data = _workbook(header, body)
    if cut is not None:
        data = data[: int(len(data) * cut)]
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    _check_import(catalog, path)
