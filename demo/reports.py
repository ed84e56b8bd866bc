"""Partner price reports for a day: CSV (UTF-8, GBK) and XLSX, with the mistakes real partners make.

Row numbers in the truth count the header as row 1, as a person opening the file sees them.
Planted mistakes: ``missing_sku``, ``bad_price`` (text in the price cell), ``wrong_currency``,
``duplicate`` (the second copy is the bad one), ``future_date``. P010 also misreports on purpose:
it reports the MAP for SKUs its site sells below it (``misreports`` in the truth).
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from demo import pricing as pr
from demo.catalog import day_date, rng
from demo.world import World

# partner -> (format, encoding, date column, mistakes to plant)
REPORTERS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "P001": ("csv", "utf-8", "observed_at", ()),
    "P002": ("xlsx", "", "observed_at", ("duplicate", "bad_price")),
    "P003": ("csv", "utf-8", "observed_at", ("missing_sku", "wrong_currency", "future_date")),
    "P010": ("csv", "utf-8", "observed_at", ()),
    "P011": ("xlsx", "", "date", ("bad_price",)),
    "P016": ("csv", "gbk", "date", ()),
    "P017": ("csv", "gbk", "date", ("future_date", "duplicate")),
}
_WRONG = {"USD": "EUR", "EUR": "USD", "CNY": "USD"}


def _rows(world: World, code: str, day: int) -> list[dict[str, Any]]:
    partner = world.partner_by_code[code]
    stamp = f"{day_date(day).isoformat()}T14:00:00Z"
    rows = []
    for product in world.products:
        listing = world.by_partner_sku.get((code, product.sku))
        if listing is None:
            continue
        price = world.price(partner, product, day)
        rows.append({"sku": product.sku, "price": f"{price:.2f}", "currency": partner.currency, "date": stamp,
                     "partner": code, "url": listing.path, "title": product.title, "site": f"{price:.2f}"})
        if code == "P010" and (code, product.sku) in world.forced and day >= 3 and product.sku not in \
                pr.promo_skus(world.products):
            rows[-1]["price"] = f"{pr.base_floor(product, partner.tier, day):.2f}"
    return rows


def _plant(world: World, code: str, day: int, rows: list[dict[str, Any]], mistakes: tuple[str, ...]
           ) -> list[tuple[dict[str, Any], str | None, str]]:
    out: list[tuple[dict[str, Any], str | None, str]] = [(r, None, "") for r in rows]
    r = rng(world.seed, "report", code, day)
    # Duplicates last, and every mistake on a clean row, so each bad row has exactly one problem.
    for kind in sorted(mistakes, key=lambda k: k == "duplicate"):
        i = r.choice([j for j, (_row, planted, _d) in enumerate(out) if planted is None])
        row = dict(out[i][0])
        if kind == "duplicate":
            out.insert(i + 1, (row, "duplicate", f"copy of row {i + 2}"))
            continue
        if kind == "missing_sku":
            row["sku"], detail = "", "SKU cell empty"
        elif kind == "bad_price":
            row["price"], detail = r.choice(("call us", "see website", "n/a")), "text in price"
        elif kind == "wrong_currency":
            row["currency"] = _WRONG[row["currency"]]
            detail = f"currency {row['currency']} for a {world.partner_by_code[code].currency} partner"
        else:  # future_date
            row["date"] = f"{(day_date(day) + timedelta(days=30)).isoformat()}T14:00:00Z"
            detail = "observed 30 days after the report day"
        out[i] = (row, kind, detail)
    return out


def write_reports(world: World, day: int, out_dir: str | Path) -> dict[str, Any]:
    """Write every reporting partner's file for ``day`` under ``out_dir``; return the truth about their rows."""
    from openpyxl import Workbook

    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    files, misreports = [], []
    for code, (fmt, encoding, date_col, mistakes) in REPORTERS.items():
        planted = _plant(world, code, day, _rows(world, code, day), mistakes)
        header = ["sku", "price", "currency", date_col, "partner", "url"]
        if encoding == "gbk":
            header.append("title")
        name = f"{code}-{day_date(day).isoformat()}.{fmt}"
        table = [[row["sku"], row["price"], row["currency"], row["date"][:10] if date_col == "date" else row["date"],
                  row["partner"], row["url"]] + ([_cn_title(row["title"])] if encoding == "gbk" else [])
                 for row, _k, _d in planted]
        if fmt == "csv":
            with (root / name).open("w", newline="", encoding=encoding) as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows(table)
        else:
            book = Workbook()
            sheet = book.active
            assert sheet is not None
            sheet.title = "prices"
            sheet.append(header)
            for line in table:
                sheet.append(line)
            book.save(root / name)
        bad = [{"row": i + 2, "sku": row["sku"], "problem": kind, "detail": detail}
               for i, (row, kind, detail) in enumerate(planted) if kind]
        for i, (row, kind, _d) in enumerate(planted):
            if not kind and row["price"] != row["site"]:
                misreports.append({"file": name, "row": i + 2, "partner": code, "sku": row["sku"],
                                   "reported": row["price"], "site_price": row["site"], "currency": row["currency"]})
        files.append({"file": name, "partner": code, "format": fmt, "encoding": encoding or None,
                      "rows": len(planted), "bad_rows": bad})
    return {"day": day, "date": day_date(day).isoformat(), "files": files, "misreports": misreports}


def _cn_title(title: str) -> str:
    # Chinese partners name products in Chinese; this is what makes the GBK encoding matter.
    return title.replace("Acme", "艾克美").replace("Wireless", "无线").replace("Headphones", "耳机")
