"""Hostile report files built part by part with ``zipfile`` (no binary fixtures): XLSX bombs and wide feeds.

Shared by ``tests/test_hostile_reports.py`` and ``bench/fuzz_reports.py``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
BOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def row_xml(number: int | None, values: Iterable[object]) -> bytes:
    """One ``<row>``: numbers as numbers, the rest as inline strings; no references when ``number`` is None."""
    out = []
    for j, value in enumerate(values):
        ref = f' r="{chr(65 + j)}{number}"' if number is not None else ""
        if value is None:
            continue
        if isinstance(value, int | float):
            out.append(f"<c{ref}><v>{value!r}</v></c>")
        else:
            space = ' xml:space="preserve"' if str(value) != str(value).strip() else ""
            out.append(f'<c{ref} t="inlineStr"><is><t{space}>{escape(str(value))}</t></is></c>')
    head = f'<row r="{number}">' if number is not None else "<row>"
    return (head + "".join(out) + "</row>").encode()


def write_xlsx(path: Path, sheets: list[tuple[str, Iterable[bytes]]], *, shared: Iterable[bytes] | None = None,
               extra: dict[str, Iterable[bytes]] | None = None) -> Path:
    """A workbook whose sheets' ``<sheetData>`` and shared strings' ``<sst>`` bodies are streamed in chunks."""
    count = len(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
                        for i in range(1, count + 1))
    if shared is not None:
        overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
    rels = "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, count + 1))
    if shared is not None:
        rels += f'<Relationship Id="rId{count + 1}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_TYPE}"/>{overrides}</Types>'))
        archive.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL}"><Relationship '
                         f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                         + "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                                   for i, (name, _) in enumerate(sheets, 1)) + "</sheets></workbook>")
        archive.writestr("xl/_rels/workbook.xml.rels",
                         f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL}">{rels}</Relationships>')
        for i, (_, rows) in enumerate(sheets, 1):
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w") as out:
                out.write(f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'.encode())
                for chunk in rows:
                    out.write(chunk)
                out.write(b"</sheetData></worksheet>")
        if shared is not None:
            with archive.open("xl/sharedStrings.xml", "w") as out:
                out.write(f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode())
                for chunk in shared:
                    out.write(chunk)
                out.write(b"</sst>")
        for name, chunks in (extra or {}).items():
            with archive.open(name, "w") as out:
                for chunk in chunks:
                    out.write(chunk)
    return path


HEADER = ("sku", "price", "currency", "date")


def shared_strings_bomb(path: Path, entries: int = 8_000_000) -> Path:
    """The issue's ~335 KB workbook whose sharedStrings part holds 8 million entries (128 MB unpacked)."""
    block = b"<si><t>x</t></si>" * 100_000
    blocks, rest = divmod(entries, 100_000)
    chunks = [block] * blocks + [b"<si><t>x</t></si>" * rest]
    return write_xlsx(path, [("Sheet1", [row_xml(1, HEADER), row_xml(2, ("AC-100", 1, "USD", "2026-11-20"))])],
                      shared=chunks)


def junk_rows_bomb(path: Path, rows: int = 1_000_000, cell: object = 1) -> Path:
    """The issue's small workbook (~100 KB): a header, then a million rows whose only cell is ``cell``."""
    one = row_xml(None, (cell,))
    chunks = [row_xml(None, HEADER)] + [one * 10_000] * (rows // 10_000)
    return write_xlsx(path, [("Sheet1", chunks)])


def wide_feed(path: Path, elements: int = 1_000_000, items: int = 3) -> Path:
    """An RSS feed with a few items after a very wide channel of ``elements`` tiny non-item elements (11 MB)."""
    with path.open("wb") as out:
        out.write(b'<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>')
        for _ in range(elements // 10_000):
            out.write(b"<g:x>1</g:x>" * 10_000)
        for _ in range(items):
            out.write(b"<item><g:id>AC-100</g:id><g:price>199.00 USD</g:price>" + b"<g:x>1</g:x>" * 1000
                      + b"</item>")
        out.write(b"</channel></rss>")
    return path
