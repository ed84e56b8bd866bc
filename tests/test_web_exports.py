"""The violations exports (CSV, CSV with semicolons, XLSX) stay formula-safe in both locales, whatever is stored."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from web_world import cookie_for, make_app

from pricewarden.cells import csv_line, safe_text
from store import Violation, session_scope
from web.security import COOKIE

# What a seller or a scraped page may put in a text field, and what the CSV cell must read back as.
HOSTILE = {
    "=1+1": "'=1+1",
    "+1": "'+1",
    "-1": "'-1",
    "@SUM(1)": "'@SUM(1)",
    "x;=1+1": "x;'=1+1",
    "a,=1+1": "a,'=1+1",
    "tab\t=1": "tab\t'=1",
    "line\n=1": "line\n'=1",
    '"quoted";=1': '"quoted";\'=1',
    'x; "=HYPERLINK("http://x","y")': 'x; "\'=HYPERLINK("http://x","y")',
    " =1": " '=1",
    "bell\x07=1": "bell\x07=1",  # a control character: harmless in CSV, not allowed in XLSX's XML
}
FIELDS = ("seller_name", "seller_id", "raw_text", "url", "rule_ref")
_NUMBER = re.compile(r'[-+]?\d+(?:[.,]\d+)?"?')  # a negative amount, or half of a decimal-comma one split at ","


@pytest.fixture
def exports(db: Engine, tmp_path: Path) -> dict[str, Any]:
    """The three exports of a world whose violations carry every hostile text, and what was planted where."""
    app, _world = make_app(db, tmp_path / "ws")
    planted: dict[tuple[int, str], str] = {}
    values = list(HOSTILE)
    with session_scope(db) as s:
        for i, violation in enumerate(s.scalars(select(Violation).order_by(Violation.id))):
            for j, name in enumerate(FIELDS):
                value = values[(i * len(FIELDS) + j) % len(values)]
                setattr(violation, name, value)
                planted[(violation.id, name)] = value
    assert set(planted.values()) == set(HOSTILE)  # the world is big enough to plant every one
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, db, "bianca"))
    got = {"comma": client.get("/violations/export.csv"), "xlsx": client.get("/violations/export.xlsx"),
           "semicolon": client.get("/violations/export.csv?sep=semicolon")}
    assert all(r.status_code == 200 for r in got.values())
    return {"planted": planted, "comma": got["comma"].content.decode("utf-8-sig"),
            "semicolon": got["semicolon"].content.decode("utf-8-sig"), "xlsx": got["xlsx"].content}


def _dangerous(field: str) -> bool:
    """A field a spreadsheet would run: a formula character first, past the quotes and blanks it skips."""
    text = field.lstrip(' "')
    return text.startswith(("=", "+", "-", "@")) and not _NUMBER.fullmatch(text)


@pytest.mark.parametrize("export", ["comma", "semicolon"])
def test_it_reads_back_each_hostile_text_whole_and_neutralised_in_its_own_dialect(
        exports: dict[str, Any], export: str) -> None:
    rows = list(csv.DictReader(io.StringIO(exports[export]), delimiter="," if export == "comma" else ";"))
    assert len(rows) == len({vid for vid, _name in exports["planted"]})
    by_id = {int(row["id"]): row for row in rows}
    for (vid, name), value in exports["planted"].items():
        assert by_id[vid][name] == HOSTILE[value], (vid, name, value)


@pytest.mark.parametrize("export", ["comma", "semicolon"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_no_field_starts_a_formula_in_either_locale(exports: dict[str, Any], export: str, delimiter: str) -> None:
    text = exports[export]
    fields = [f for row in csv.reader(io.StringIO(text), delimiter=delimiter) for f in row]
    assert len(fields) > 10  # something was read
    # A spreadsheet that ignores quoting, or a paste: split at every delimiter, tab and line break.
    naive = re.split(r"[,;\t\r\n\x0b\x0c]", text)
    assert [f for f in fields if _dangerous(f)] == []
    assert [f for f in naive if _dangerous(f)] == []


def test_the_check_catches_a_guard_that_looks_only_at_the_start() -> None:
    # The guard before the shared one: a leading apostrophe only, csv.writer's quoting (never on ";").
    out = io.StringIO()
    csv.writer(out).writerow(["'" + v if v.startswith(("=", "+", "-", "@")) else v for v in HOSTILE])
    line = out.getvalue()
    assert [f for f in next(csv.reader(io.StringIO(line), delimiter=";")) if _dangerous(f)] == [
        '=1+1,"a,=1+1",tab\t=1,"line']  # "x;=1+1" opened in a semicolon locale
    assert [f for f in next(csv.reader(io.StringIO(line))) if _dangerous(f)] == [" =1"]
    assert {"=1+1", "=1", ' ""=HYPERLINK(""http://x""'} <= {f for f in re.split(r"[,;\t\r\n]", line) if _dangerous(f)}


def test_every_text_cell_of_the_xlsx_is_typed_text(exports: dict[str, Any]) -> None:
    sheet = load_workbook(io.BytesIO(exports["xlsx"])).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cells = {(int(row[0].value), header[c.column - 1]): c for row in sheet.iter_rows(min_row=2) for c in row}
    assert all(c.data_type != "f" for c in cells.values())
    assert all(c.data_type == "s" for c in cells.values() if isinstance(c.value, str))
    for (vid, name), value in exports["planted"].items():
        # The characters as stored, typed text (never a formula); a control character XML cannot hold shows as U+FFFD.
        assert cells[(vid, name)].value == value.replace("\x07", "\ufffd"), (vid, name)
        assert cells[(vid, name)].data_type == "s"
    assert any(c.data_type == "n" for (_vid, name), c in cells.items() if name == "observed")


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("x;=1", "x;'=1"), ("a,+1", "a,'+1"), ("a\n-1", "a\n'-1"), ("a\t@x", "a\t'@x"), ('a; "=1', 'a; "\'=1'),
    ("a, ' =1", "a, ' '=1"), ("a=1", "a=1"), ("1-2", "1-2"), ("nul\x00", "nul\ufffd"), ("plain", "plain"), ("", ""),
])
def test_safe_text(value: str, safe: str) -> None:
    assert safe_text(value) == safe


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_line_quotes_both_separators_whatever_the_delimiter(delimiter: str) -> None:
    line = csv_line(["a,b", "c;d", 'e"f', "g\th", "i\nj", "plain"], delimiter)
    assert line == delimiter.join(['"a,b"', '"c;d"', '"e""f"', '"g\th"', '"i\nj"', "plain"]) + "\r\n"
    assert next(csv.reader(io.StringIO(line), delimiter=delimiter)) == ["a,b", "c;d", 'e"f', "g\th", "i\nj", "plain"]


@pytest.mark.parametrize("value", list(HOSTILE))
def test_safe_text_is_idempotent(value: str) -> None:
    assert safe_text(safe_text(value)) == safe_text(value)
