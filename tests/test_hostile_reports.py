"""Hostile and careless partner files and feeds: bombs, limits, notation, NUL bytes, title rows, receipts, inbox.

Every bomb is built here with zipfile (tests/report_bombs.py). Memory is measured in a child process
(its peak RSS), never with timed assertions.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import struct
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_bombs import HEADER, junk_rows_bomb, row_xml, shared_strings_bomb, wide_feed, write_xlsx
from sqlalchemy import Engine, func, select

from crawlers.reports import import_file, import_rows
from pricewarden.errors import ReportImportError
from pricewarden.settings import get_settings
from store import session_scope
from store.models import Observation, Partner, Product, ReportBatch, ReportRejection

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = "2026-11-20"
ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def catalog(db: Engine) -> Engine:
    with session_scope(db) as s:
        s.add_all([Product(sku="AC-100"), Product(sku="AC-200"), Product(sku="AC-300")])
        s.add(Partner(code="P001", name="Shop One", locale="en"))
        s.add(Partner(code="P002", name="Laden Zwei", locale="de"))
    return db


def _set(monkeypatch: pytest.MonkeyPatch, **values: object) -> None:
    for key, value in values.items():
        monkeypatch.setenv(f"PRICEWARDEN_REPORTS__{key.upper()}", str(value))
    get_settings.cache_clear()


def _csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _refusal(path: Path, partner: str = "P001") -> str:
    with pytest.raises(ReportImportError) as caught:
        import_file(path, partner, now=NOW)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _stored(engine: Engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return (s.scalar(select(func.count()).select_from(ReportBatch)) or 0,
                s.scalar(select(func.count()).select_from(Observation)) or 0,
                s.scalar(select(func.count()).select_from(ReportRejection)) or 0)


def _observations(engine: Engine) -> list[Observation]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Observation).order_by(Observation.row_number, Observation.id)))


def _rejections(engine: Engine) -> dict[int, tuple[str | None, str]]:
    with session_scope(engine) as s:
        return {r.row_number: (r.column, r.reason) for r in s.scalars(select(ReportRejection))}


def _peak_mb(code: str, path: Path) -> tuple[int, str]:
    """Run ``code`` (with ``path`` as ``PATH``) in a child; its peak RSS growth in MB and what it printed."""
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "import openpyxl, lxml.etree, crawlers.reports, crawlers.reports._read, crawlers.reports._feed\n"
        f"PATH = Path({str(path)!r})\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"{code}\n"
        "print('PEAK', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                          check=True)
    peak = next(int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK"))
    return peak, done.stdout


# Limits by what a file unpacks to --------------------------------------------------------------


@pytest.fixture(scope="module")
def strings_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_strings_bomb(tmp_path_factory.mktemp("bomb") / "prices.xlsx")


def test_the_shared_strings_bomb_is_refused_in_one_line(catalog: Engine, strings_bomb: Path) -> None:
    assert strings_bomb.stat().st_size < 400_000  # 8 million entries, 128 MB unpacked
    assert _refusal(strings_bomb) == (
        "prices.xlsx: sharedStrings holds more than 1,000,000 entries (reports.max_shared_strings)")
    assert _stored(catalog) == (0, 0, 0)


def test_the_shared_strings_bomb_is_refused_in_bounded_memory(strings_bomb: Path) -> None:
    code = ("try:\n    crawlers.reports._read.open_report(PATH)\n"
            "except Exception as exc:\n    print('ERROR', exc)\n")
    peak, out = _peak_mb(code, strings_bomb)
    assert "sharedStrings holds more than 1,000,000 entries" in out
    assert peak < 40, f"peak RSS grew by {peak} MB"  # openpyxl alone took 855 MB for it


def test_parts_that_unpack_too_far_are_refused(catalog: Engine, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, max_part_mb=1, max_unpacked_mb=3)
    rows = [row_xml(1, HEADER), row_xml(2, ("AC-100", 1, "USD", TODAY))]
    styles = write_xlsx(tmp_path / "styles.xlsx", [("Sheet1", rows)],
                        extra={"xl/styles.xml": [b" " * (1 << 20), b"<styleSheet/>"]})
    assert _refusal(styles) == "styles.xlsx: xl/styles.xml unpacks to more than 1 MB (reports.max_part_mb)"
    # a sheet is streamed: bigger than a part may be, within the total
    padding = b" " * (1536 << 10)
    big_sheet = write_xlsx(tmp_path / "sheet.xlsx", [("Sheet1", [*rows, padding])])
    assert import_file(big_sheet, "P001", now=NOW).rows_accepted == 1
    total = write_xlsx(tmp_path / "total.xlsx", [("Sheet1", [*rows, padding * 2])])
    assert _refusal(total) == "total.xlsx: the workbook unpacks to more than 3 MB (reports.max_unpacked_mb)"


def test_rows_columns_and_cells_are_limited(catalog: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, max_rows=50, max_columns=10, max_cells=1000)
    good = ["AC-100", "1", "USD", TODAY]
    many = _csv(tmp_path / "many.csv", [list(HEADER)] + [good] * 60)
    assert _refusal(many) == "many.csv: more than 50 rows (reports.max_rows)"
    wide = _csv(tmp_path / "wide.csv", [list(HEADER), good, [*good, *["x"] * 20]])
    assert _refusal(wide) == "wide.csv: row 3 has more than 10 columns (reports.max_columns)"
    _set(monkeypatch, max_cells=150)
    cells = _csv(tmp_path / "cells.csv", [[*HEADER, "a", "b", "c", "d", "e"]] + [[*good, *"abcde"]] * 20)
    assert _refusal(cells) == "cells.csv: more than 150 cells (reports.max_cells)"
    _set(monkeypatch, max_cells=1000)
    sixty = [row_xml(1, HEADER), *(row_xml(n, good) for n in range(2, 62))]
    sheet = write_xlsx(tmp_path / "many.xlsx", [("Sheet1", sixty)])
    assert _refusal(sheet) == "many.xlsx: more than 50 rows (reports.max_rows)"
    assert _stored(catalog) == (0, 0, 0)


def test_a_million_junk_rows_stop_at_the_rejection_limit(catalog: Engine, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = junk_rows_bomb(tmp_path / "junk.xlsx")
    assert bomb.stat().st_size < 150_000  # a million rows
    _set(monkeypatch, max_rejected_rows=300)  # 10,000 by default; smaller here to keep the test quick
    assert _refusal(bomb) == (
        "junk.xlsx: more than 300 rows rejected and fewer accepted, by row 302; nothing was imported "
        "(reports.max_rejected_rows). The first: row 2, sku: unknown SKU '1'")
    assert _stored(catalog) == (0, 0, 0)
    assert not list((get_settings().reports_dir / "receipts").glob("*.csv"))


def test_a_few_bad_rows_among_many_good_ones_are_imported(catalog: Engine, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, max_rejected_rows=5)
    days = [f"2026-11-{d:02d}" for d in range(1, 21)]
    rows = [[sku, "10", "USD", day] for sku in ("AC-100", "AC-200") for day in days]
    rows += [["NOPE", "1", "USD", TODAY]] * 8
    result = import_file(_csv(tmp_path / "r.csv", [list(HEADER), *rows]), "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (40, 8)


def test_blank_and_invisible_rows_are_skipped_silently(catalog: Engine, tmp_path: Path) -> None:
    blank = [row_xml(None, ("  ", "\u00a0", "\u200b", "\ufeff"))] * 3000
    book = write_xlsx(tmp_path / "blank.xlsx", [("Sheet1", [row_xml(None, HEADER), *blank,
                                                             row_xml(None, ("AC-100", 5, "USD", TODAY))])])
    result = import_file(book, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 0)
    text = _csv(tmp_path / "blank.csv", [[*HEADER, "note"], *[[" ", "", "\u200b", "", "a note"]] * 500,
                                         ["AC-200", "5", "USD", TODAY, ""]])
    result = import_file(text, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 0)
    assert [o.row_number for o in _observations(catalog) if o.batch_id == result.batch_id] == [502]


def _corrupt_member(data: bytes, index: int) -> bytes:
    """The workbook with the deflated bytes of its ``index``-th member flipped in place (found by the fuzzer)."""
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[index]
    raw = bytearray(data)
    name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for at in range(start + info.compress_size // 3, start + info.compress_size, 7):
        raw[at] ^= 0x5A
    return bytes(raw)


def test_every_damaged_workbook_member_is_refused_in_one_line_never_a_crash(catalog: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(list(HEADER))
    book.active.append(["AC-100", 10, "USD", TODAY])
    buffer = io.BytesIO()
    book.save(buffer)
    members = len(zipfile.ZipFile(buffer).infolist())
    outcomes = []
    for index in range(members):
        path = tmp_path / f"damaged-{index}.xlsx"
        path.write_bytes(_corrupt_member(buffer.getvalue(), index))
        try:
            outcomes.append(import_file(path, "P001", now=NOW).rows_accepted)
        except ReportImportError as exc:
            outcomes.append(str(exc).split(": ", 1)[1])
    assert not [o for o in outcomes if "\n" in str(o)]
    assert "not a readable XLSX workbook (error)" in outcomes  # zlib's error, which was a traceback


# Feeds -------------------------------------------------------------------------------------------


def test_a_wide_xml_feed_is_read_in_bounded_memory(tmp_path: Path) -> None:
    feed = wide_feed(tmp_path / "wide.xml")  # 11 MB of a million elements: 247 MB kept in memory before
    assert feed.stat().st_size > 10_000_000
    code = ("from datetime import datetime, UTC\n"
            "rows = list(crawlers.reports._feed._xml_items(PATH, 'wide.xml', {}, datetime.now(UTC)))\n"
            "print('ITEMS', len(rows), rows[0].cells['sku'], rows[0].cells['price'])\n")
    peak, out = _peak_mb(code, feed)
    assert "ITEMS 3 AC-100 199.00" in out
    assert peak < 40, f"peak RSS grew by {peak} MB for a {feed.stat().st_size >> 20} MB feed"


# Partner-file fixes ------------------------------------------------------------------------------


def test_a_nul_byte_rejects_its_row_naming_row_and_field(catalog: Engine, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"sku,price,currency,date,channel\n"
                     b"AC-100,10,USD,2026-11-20,https://shop.example/a\n"
                     b"AC-200,10,USD,2026-11-20,https://shop.example/\x00b\n")
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    assert _rejections(catalog)[3] == ("channel", "channel contains a NUL byte (\\x00); remove it")
    payload = import_rows([{"sku": "AC-300", "price": "1", "currency": "USD", "date": TODAY, "url": "x\x00"},
                           {"sku": "AC-300\ud800", "price": "1", "currency": "USD", "date": TODAY}], "P001", now=NOW)
    assert (payload.rows_accepted, payload.rows_rejected) == (0, 2)
    assert payload.rejections[0] == {"row": 2, "column": "channel",
                                     "reason": "channel contains a NUL byte (\\x00); remove it"}
    assert payload.rejections[1]["reason"] == "sku contains text that is not valid Unicode"
    receipt = Path(payload.receipt_path).read_text(encoding="utf-8-sig")
    assert "\x00" not in receipt


@pytest.mark.parametrize(("rows", "expected"), [
    # a semicolon file with decimal commas: its "12,50" says so, so "4.800" is 4800
    ([["AC-100", "12,50"], ["AC-200", "4.800"]], {2: "12.50", 3: "4800"}),
    # a dot-decimal file: "4.800" is 4.8, "1,299" is 1299
    ([["AC-100", "12.50"], ["AC-200", "4.800"], ["AC-300", "1,299"]], {2: "12.50", 3: "4.800", 4: "1299"}),
    # nothing decides: rejected, never guessed...
    ([["AC-100", "10"], ["AC-200", "4.800"]], {2: "10", 3: "ambiguous"}),
    # ...unless the currency has no minor unit: 12,800 yen cannot be 12.8
    ([["AC-100", "10", "JPY"], ["AC-200", "12,800", "JPY"], ["AC-300", "1.500", "KRW"]],
     {2: "10", 3: "12800", 4: "1500"}),
    # both notations in one file: the self-evident amounts are kept, the ambiguous one is not
    ([["AC-100", "12,50"], ["AC-200", "19.99"], ["AC-300", "4.800"]], {2: "12.50", 3: "19.99", 4: "ambiguous"}),
])
def test_decimal_notation_is_decided_by_the_files_own_amounts(
    catalog: Engine, tmp_path: Path, rows: list[list[str]], expected: dict[int, str]
) -> None:
    path = _csv(tmp_path / "r.csv", [list(HEADER), *[[*r[:2], r[2] if len(r) > 2 else "EUR", TODAY] for r in rows]],
                delimiter=";")
    import_file(path, "P001", now=NOW)  # an "en" partner: its locale does not decide, the file does
    got: dict[int, object] = {o.row_number: o.price for o in _observations(catalog)}
    for number, reason in _rejections(catalog).items():
        assert reason[0] == "price"
        got[number] = "ambiguous" if "ambiguous" in reason[1] else reason[1]
    assert got == {n: (v if v == "ambiguous" else Decimal(v)) for n, v in expected.items()}


def test_spreadsheet_float_noise_is_rounded_to_the_minor_unit(catalog: Engine, tmp_path: Path) -> None:
    rows = [row_xml(1, HEADER), row_xml(2, ("AC-100", 434.9999999999999, "USD", TODAY)),
            row_xml(3, ("AC-200", 0.30000000000000004, "EUR", TODAY)),
            row_xml(4, ("AC-300", 1999.9999999999998, "JPY", TODAY)),
            row_xml(5, ("AC-100", 19.99999, "USD", "2026-11-19"))]
    result = import_file(write_xlsx(tmp_path / "noise.xlsx", [("Sheet1", rows)]), "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (3, 1)
    assert [o.price for o in _observations(catalog)] == [Decimal("435.00"), Decimal("0.30"), Decimal("2000")]
    assert _rejections(catalog)[5] == ("price", "price 19.99999 has more than 4 decimal places")


def test_a_timestamp_with_an_offset_keeps_the_partners_local_date(catalog: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", [list(HEADER), ["AC-100", "10", "CNY", "2026-11-20T00:30:00+08:00"],
                                     ["AC-200", "10", "CNY", "2026-11-19T20:00:00-05:00"],
                                     ["AC-300", "10", "CNY", "2026-11-19"]])
    assert import_file(path, "P001", now=NOW).rows_accepted == 3
    first, second, third = _observations(catalog)
    assert first.observed_at == datetime(2026, 11, 19, 16, 30, tzinfo=UTC)  # the instant is exact
    assert first.details == {"local_date": "2026-11-20", "utc_offset": "+08:00"}  # the day as the partner wrote it
    assert second.observed_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert second.details == {"local_date": "2026-11-19", "utc_offset": "-05:00"}
    assert third.details == {}


def test_title_rows_and_merged_cells_above_the_header(catalog: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Shop One - price report November 2026"
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["SKU", "Price", "Currency", "Date", "Channel"])
    sheet.append(["AC-100", 199.5, "USD", TODAY, "web"])
    book.save(tmp_path / "titled.xlsx")
    result = import_file(tmp_path / "titled.xlsx", "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 0)
    assert _observations(catalog)[0].row_number == 4
    text = tmp_path / "titled.csv"
    text.write_text("Price report;;;\nShop One;;;\n\nsku;price;currency;date\nAC-200;19,99;EUR;2026-11-20\n")
    result = import_file(text, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 0)
    assert _observations(catalog)[1].price == Decimal("19.99")
    assert _observations(catalog)[1].row_number == 5


def test_the_data_sheet_is_the_one_with_the_header(catalog: Engine, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active.append(["Prices for November, see the next sheet"])
    data = book.create_sheet("Data")
    data.append(["sku", "price", "currency", "date"])
    data.append(["AC-100", 10, "USD", TODAY])
    book.save(tmp_path / "two.xlsx")
    assert import_file(tmp_path / "two.xlsx", "P001", now=NOW).rows_accepted == 1
    empty = openpyxl.Workbook()
    empty.active.append(["nothing", "here"])
    empty.save(tmp_path / "none.xlsx")
    assert _refusal(tmp_path / "none.xlsx").startswith("none.xlsx: missing column(s) sku, price, date")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_receipts_are_formula_safe_in_comma_and_semicolon_locales(catalog: Engine, tmp_path: Path,
                                                                   delimiter: str) -> None:
    hostile = ["x;=cmd|' /C calc'!A0", "a,=1+2", 'q";=HYPERLINK("http://evil")', "t\t@SUM(A1)", "y; -2+3"]
    rows = [[f"AC-{i}00" if i <= 3 else "AC-100", "1", "USD", f"2026-11-{10 + i}", cell]
            for i, cell in enumerate(hostile, 1)]
    result = import_file(_csv(tmp_path / "r.csv", [[*HEADER, "channel"], *rows]), "P001", now=NOW)
    raw = Path(result.receipt_path).read_text(encoding="utf-8-sig")
    parsed = list(csv.reader(io.StringIO(raw), delimiter=delimiter))  # as a spreadsheet in that locale splits it
    naive = [line.split(delimiter) for line in raw.splitlines()]  # and as one that ignores quotes
    for line in parsed + naive:
        for cell in line:
            assert not cell.strip(" \"'").startswith(("=", "+", "-", "@")) or cell.lstrip(' "').startswith("'"), \
                f"a formula in {cell!r}"
    if delimiter == ",":
        channels = [line[8] for line in parsed[1:]]
        assert channels[0] == "x;'=cmd|' /C calc'!A0" and channels[1] == "a,'=1+2"


def test_the_inbox_never_follows_a_link_out_of_itself(tmp_path: Path) -> None:
    from flows import inbox

    root = tmp_path / "inbox"
    (root / "P001").mkdir(parents=True)
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "passwords.csv").write_text("sku,price,date\n")
    (root / "P001" / "ok.csv").write_text("sku,price,date\n")
    (root / "P001" / "link.csv").symlink_to(outside / "passwords.csv")
    (root / "P002").symlink_to(outside)
    assert inbox.pending_files(root) == [("P001", root / "P001" / "ok.csv")]
    assert inbox.refused_links(root) == {
        "P001/link.csv": "inbox/P001/link.csv: a link to outside the inbox; not read",
        "P002": "inbox/P002: a link to outside the inbox; not read",
    }
    assert (outside / "passwords.csv").exists()


# Properties ---------------------------------------------------------------------------------------

cells = st.one_of(
    st.sampled_from(["AC-100", "AC-200", "", " ", "\u200b", "4.800", "1,299", "12,50", "1.299,00", "-1", "1e9",
                     "NaN", "=1+2", "a;=1", "\x00", "2026-11-20T00:30+08:00", "2026-13-45", "USD", "EUR", "XXX"]),
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=()), max_size=8),  # surrogates included
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
_EXAMPLES = itertools.count()
bad_rows = st.lists(st.fixed_dictionaries({"sku": cells, "price": cells, "currency": cells, "date": cells,
                                           "channel": cells, "quantity": cells}), max_size=8)


@FUZZ
@given(bad=bad_rows, at=st.integers(min_value=0, max_value=8))
def test_random_cells_only_ever_reject_their_row_and_a_good_row_is_kept(catalog: Engine, bad: list[dict[str, object]],
                                                                        at: int) -> None:
    channel = f"good-row-{next(_EXAMPLES)}"  # a new good row each time: never "already reported"
    good = {"sku": "AC-300", "price": "123.45", "currency": "USD", "date": TODAY, "channel": channel}
    rows = [*bad[:at], good, *bad[at:]]
    result = import_rows(rows, "P001", now=NOW)
    assert not result.duplicate
    with session_scope(catalog) as s:
        stored = s.scalars(select(Observation).where(Observation.batch_id == result.batch_id)).all()
    assert [o.price for o in stored if o.details.get("channel") == channel] == [Decimal("123.45")]
    assert result.rows_accepted + result.rows_rejected == result.rows_total
    assert all(r["reason"] for r in result.rejections)


def test_backslashes_tabs_and_line_breaks_are_stored_as_written(catalog: Engine, tmp_path: Path) -> None:
    # PostgreSQL's COPY text escapes these four characters: what comes back must be what the file said.
    odd = "a\\b\tc\r\nd\\N"
    path = _csv(tmp_path / "odd.csv", [["sku", "price", "currency", "date", "channel"],
                                       ["AC-100", "10", "USD", TODAY, f"Shop {odd}"],
                                       [f"AC-{odd}", "10", "USD", TODAY, "Shop"]])
    result = import_file(path, "P001", now=NOW)
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    (observation,) = _observations(catalog)
    assert observation.details["channel"] == f"Shop {odd}"
    with session_scope(catalog) as s:
        (rejection,) = s.scalars(select(ReportRejection))
        assert (rejection.row_number, rejection.column) == (3, "sku")
        assert rejection.raw["sku"] == f"AC-{odd}"
        assert rejection.reason == f"unknown SKU {'AC-' + odd!r}"


def test_the_garbage_collector_is_back_after_an_import_kept_or_refused(catalog: Engine, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # An import holds the cyclic collector back while it writes; it must not leave the process without one.
    import gc

    _set(monkeypatch, max_rejected_rows=2, chunk_rows=100)
    good = _csv(tmp_path / "good.csv", [["sku", "price", "currency", "date"],
                                        *([sku, "10", "USD", TODAY] for sku in ("AC-100", "AC-200", "AC-300"))])
    assert import_file(good, "P001", now=NOW).rows_accepted == 3
    assert gc.isenabled()
    bad = _csv(tmp_path / "bad.csv", [["sku", "price", "currency", "date"],
                                      *([f"NO-{i}", "10", "USD", TODAY] for i in range(5))])
    assert "nothing was imported" in _refusal(bad)
    assert gc.isenabled()
    assert _stored(catalog) == (1, 3, 0)
