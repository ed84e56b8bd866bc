"""Report templates for partners: the expected columns, an example row, instructions in their language.

XLSX: a ``Prices`` sheet (header + example row) and an ``Instructions`` sheet, which the importer
skips. CSV: a comment line would not be valid CSV, so the CSV holds only the header and the example
row (UTF-8 with BOM, so Excel shows Chinese headers) and the instructions go to a sidecar
``<name>.instructions.txt``. The example row uses SKU ``EXAMPLE``, which the importer rejects with
"example row from the template; delete it" should a partner forget to remove it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawlers.reports._validate import EXAMPLE_SKU
from crawlers.reports._values import COLUMNS, decimal_separator
from pricewarden.cells import csv_line, safe_text
from pricewarden.errors import ReportImportError
from store._types import utcnow

HEADERS = {
    "en": {"sku": "sku", "price": "price", "currency": "currency", "date": "date", "channel": "channel",
           "quantity": "quantity"},
    "zh": {"sku": "货号", "price": "价格", "currency": "币种", "date": "日期", "channel": "渠道", "quantity": "数量"},
}

TEXT = {
    "en": [
        "How to fill in this price report",
        "One row per SKU, date and channel. Row 1 holds the column names; do not rename or merge them.",
        "sku (required): the brand's SKU exactly as in the catalog, e.g. AC-100.",
        "price (required): the price you sell at, a positive number, no currency sign; decimal separator "
        "'{decimal}', no thousands separators (e.g. {example}).",
        "currency (required unless the policy fixes it): ISO 4217 code such as USD, EUR, CNY.",
        "date (required): YYYY-MM-DD or YYYY-MM-DD HH:MM (time zone {zone} unless you add an offset); "
        "not in the future and at most {max_age} days old.",
        "channel (optional{channel_note}): where the price is shown, a shop name or a URL.",
        "quantity (optional): units sold, a whole number.",
        "Type values, not formulas: cells with formulas are rejected.",
        "Save as XLSX or as CSV in UTF-8 (GBK is also accepted).",
        "Delete the example row (SKU {example_sku}) before sending.",
        "Every import returns a receipt listing each row, accepted or rejected with the reason. "
        "Sending the same file twice changes nothing.",
    ],
    "zh": [
        "价格报表填写说明",
        "每个货号、日期、渠道一行。第 1 行为列名，请勿修改或合并。",
        "货号（必填）：品牌目录中的货号，须完全一致，例如 AC-100。",
        "价格（必填）：实际售价，正数，不带货币符号；小数点用 '{decimal}'，不要使用千位分隔符（例如 {example}）。",
        "币种（必填，政策已规定币种时可留空）：ISO 4217 代码，如 CNY、USD、EUR。",
        "日期（必填）：YYYY-MM-DD 或 YYYY-MM-DD HH:MM（未注明时区时按 {zone}）；不得晚于当前时间，"
        "且不早于 {max_age} 天前。",
        "渠道（选填{channel_note}）：价格展示的店铺名称或网址。",
        "数量（选填）：销售件数，整数。",
        "请填写数值，不要使用公式：含公式的单元格将被拒收。",
        "保存为 XLSX，或 UTF-8 编码的 CSV（也接受 GBK）。",
        "发送前请删除示例行（货号 {example_sku}）。",
        "每次导入都会生成回执，逐行列出接受或拒收及原因。重复发送同一文件不会产生任何变化。",
    ],
}


def language(locale: str | None) -> str:
    """``zh``, ``zh_CN``, ``zh-Hant`` -> ``zh``; everything else -> ``en``."""
    return "zh" if (locale or "").lower().replace("-", "_").split("_")[0] == "zh" else "en"


def instructions(partner: Any, zone: str, max_age_days: int) -> list[str]:
    """The instruction lines for a partner, in its language."""
    lang = language(partner.locale)
    decimal = decimal_separator(partner.locale)
    channels = list(partner.authorised_channels or [])
    if channels:
        listed = ", ".join(str(c) for c in channels)
        note = f"; required: {listed}" if lang == "en" else f"；必填：{listed}"
    else:
        note = ""
    values = {"decimal": decimal, "example": "1299.00" if decimal == "." else "1299,00", "zone": zone,
              "max_age": max_age_days, "channel_note": note, "example_sku": EXAMPLE_SKU}
    return [line.format(**values) for line in TEXT[lang]]


def example_row(partner: Any) -> list[str]:
    """The example row: SKU EXAMPLE, a price in the partner's notation, today's date."""
    decimal = decimal_separator(partner.locale)
    channel = str((partner.authorised_channels or ["https://shop.example.com/product"])[0])
    currency = "CNY" if language(partner.locale) == "zh" else "USD"
    return [EXAMPLE_SKU, "199.00".replace(".", decimal), currency, utcnow().date().isoformat(), channel, "1"]


def write_template(partner_code: str, fmt: str = "xlsx", output: Path | None = None) -> list[Path]:
    """Write a template for ``partner_code``; returns the files written (CSV adds an instructions .txt)."""
    from sqlalchemy import select

    from pricewarden.errors import NotFoundError
    from pricewarden.identifiers import check_partner_code
    from pricewarden.settings import get_settings
    from store import session_scope
    from store.models import Partner

    check_partner_code(partner_code)  # the code names the template's file
    fmt = fmt.lower()
    if fmt not in {"xlsx", "csv"}:
        raise ReportImportError(f"unknown template format {fmt!r}: use xlsx or csv")
    settings = get_settings()
    with session_scope() as session:
        partner = session.scalar(select(Partner).where(Partner.code == partner_code))
        if partner is None:
            raise NotFoundError(f"no partner with code {partner_code!r}")
        session.expunge(partner)
    lang = language(partner.locale)
    header = [HEADERS[lang][c] for c in COLUMNS]
    lines = instructions(partner, settings.timezone, settings.reports.max_age_days)
    path = output or settings.reports_dir / "templates" / f"{partner.code}-price-report.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            handle.write(csv_line(header) + csv_line(safe_text(v) for v in example_row(partner)))
        sidecar = path.with_suffix(".instructions.txt")
        sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [path, sidecar]
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Prices" if lang == "en" else "价格"
    sheet.append(header)
    sheet.append(example_row(partner))
    notes = book.create_sheet("Instructions" if lang == "en" else "说明")
    for line in lines:
        notes.append([line])
    for cell in (c for ws in (sheet, notes) for row in ws.iter_rows() for c in row):
        if isinstance(cell.value, str):
            cell.data_type = "s"  # typed text: a channel "=1+1" from the catalog stays the characters
    for column in "ABCDEF":
        sheet.column_dimensions[column].width = 22
    notes.column_dimensions["A"].width = 120
    book.save(path)
    return [path]
