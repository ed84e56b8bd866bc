"""Fuzz benchmark: mutate real partner report files and feeds for N seconds and import each through the real importer.

Seeds: a comma CSV, a semicolon CSV with decimal commas and a title row, a GBK CSV, an XLSX (openpyxl,
title rows, a second sheet), a JSON payload file, an XML feed and a TSV feed. Mutations: byte flips,
truncation, inserted bytes (NUL, separators, quotes, formula starts), a huge cell, duplicated and
shuffled lines, and for XLSX a corrupted, truncated or swapped zip member or a bomb (8 million shared
strings, a million junk rows). Each input goes through ``import_file`` (feeds through ``run_import``
with the feed reader, as ``import_feed`` does after its download).

A crash is any exception other than ``ReportImportError`` (a clean refusal of the whole file) and
must be 0. Prints inputs tried, accepted / refused, crashes (each saved with its traceback), the peak
RSS of this process and of the slowest inputs, and the load average.

Usage: .venv/bin/python bench/fuzz_reports.py [SECONDS] [--seed N] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SKUS = ["AC-100", "AC-200", "AC-300", "货号-4"]
INSERTS = [b"\x00", b";", b",", b'"', b"\n", b"\r", b"\t", b"=", b"@", b"+", b"-", b".", b"\xff", b"\xe4\xb8",
           b"<", b">", b"&", b"]]>", b"PK\x03\x04", b"1e309", b"9" * 40, b"\xef\xbb\xbf"]


def seeds(folder: Path) -> dict[str, bytes]:
    """Real-looking report files of every kind the importer reads."""
    import openpyxl

    rows = [["sku", "price", "currency", "date", "channel", "quantity"],
            ["AC-100", "199.00", "USD", "2026-11-20", "https://shop.example/ac-100", "3"],
            ["AC-200", "1,299.50", "USD", "2026-11-19T10:00:00+08:00", "web", ""],
            ["AC-300", "49", "USD", "2026-11-18", "tmall", "1"],
            ["货号-4", "12.5", "CNY", "2026-11-17", "天猫", ""]]
    out: dict[str, bytes] = {}
    out["comma.csv"] = "\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows).encode()
    out["semicolon.csv"] = (b"Preisliste November;;;\n\nsku;price;currency;date\nAC-100;1.299,00;EUR;2026-11-20\n"
                            b"AC-200;4.800;EUR;2026-11-19\nAC-300;12,50;EUR;2026-11-18\n")
    out["gbk.csv"] = "货号,价格,币种,日期\nAC-100,199.00,CNY,2026-11-20\n货号-4,88,CNY,2026-11-19\n".encode("gb18030")
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append(["see the next sheet"])
    data = book.create_sheet("Data")
    data["A1"] = "Price report"
    data.merge_cells("A1:D1")
    data.append([])
    data.append(["SKU", "Price", "Currency", "Date", "Channel"])
    data.append(["AC-100", 434.9999999999999, "USD", datetime(2026, 11, 20, 9, 30), "web"])
    data.append(["AC-200", "=1+2", "USD", "2026-11-20", "web"])
    data.append(["AC-300", 19.99, "USD", "2026-11-19", "a;=cmd|' /C calc'!A0"])
    buffer = io.BytesIO()
    book.save(buffer)
    out["book.xlsx"] = buffer.getvalue()
    out["payload.json"] = json.dumps([dict(zip(rows[0], r, strict=True)) for r in rows[1:]]).encode()
    out["feed.xml"] = (b'<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>'
                       b"<title>Shop</title><item><g:id>AC-100</g:id><g:price>199.00 USD</g:price>"
                       b"<g:sale_price>179.00 USD</g:sale_price><g:link>https://shop.example/a</g:link></item>"
                       b"<item><g:id>AC-200</g:id><g:price>1999.00 USD</g:price></item></channel></rss>")
    out["feed.tsv"] = b"id\tprice\tavailability\tlink\nAC-100\tUSD 1999.00\tin stock\thttps://shop.example/a\n"
    del folder
    return out


def flip(rng: random.Random, data: bytes) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if raw:
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return bytes(raw)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def insert(rng: random.Random, data: bytes) -> bytes:
    raw = data
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + rng.choice(INSERTS) + raw[at:]
    return raw


def huge_cell(rng: random.Random, data: bytes) -> bytes:
    at = data.find(b"\n", rng.randrange(len(data) + 1))
    at = len(data) if at < 0 else at
    return data[:at] + b"," + rng.choice([b"x", b"9", b"=", b"\xe4\xb8\xad"]) * rng.choice([5_000, 300_000]) + data[at:]


def lines(rng: random.Random, data: bytes) -> bytes:
    parts = data.split(b"\n")
    head, body = parts[:1], parts[1:]
    body = (body * rng.randint(1, 50))[:2000]
    rng.shuffle(body)
    return b"\n".join(head + body)


def zip_member(rng: random.Random, data: bytes) -> bytes:
    """Rewrite an XLSX with one member flipped, truncated, emptied, swapped or duplicated."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        members = [(i.filename, source.read(i)) for i in source.infolist()]
    except Exception:
        return flip(rng, data)
    index = rng.randrange(len(members))
    name, body = members[index]
    action = rng.choice(["flip", "truncate", "empty", "insert", "swap", "drop"])
    if action == "flip":
        members[index] = (name, flip(rng, body))
    elif action == "truncate":
        members[index] = (name, truncate(rng, body))
    elif action == "empty":
        members[index] = (name, b"")
    elif action == "insert":
        members[index] = (name, insert(rng, body))
    elif action == "swap":
        other = rng.randrange(len(members))
        members[index] = (name, members[other][1])
    else:
        del members[index]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member, content in members:
            target.writestr(member, content)
    return out.getvalue()


def bomb(rng: random.Random, data: bytes, folder: Path) -> bytes:
    from report_bombs import junk_rows_bomb, shared_strings_bomb

    del data
    path = folder / "bomb.xlsx"
    if rng.random() < 0.5:
        shared_strings_bomb(path)
    else:
        junk_rows_bomb(path, cell=rng.choice([1, "x", "AC-100"]))
    return path.read_bytes()


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": flip, "truncate": truncate, "insert": insert, "huge_cell": huge_cell, "lines": lines,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", nargs="?", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="Where crashing inputs are saved.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pw-fuzz-reports-"))
    os.environ["PRICEWARDEN_WORKSPACE"] = str(work / "workspace")
    out = args.out or work / "crashes"

    from crawlers.reports import import_file, open_feed, run_import
    from pricewarden.errors import ReportImportError
    from store import session_scope, upgrade
    from store.models import Partner, Product

    upgrade()
    with session_scope() as session:
        session.add_all(Product(sku=sku) for sku in SKUS)
        session.add(Partner(code="P001", name="Fuzz partner", locale="en"))
    rng = random.Random(args.seed)
    files = seeds(work)
    bombs_every = 40
    tried = accepted = refused = crashes = 0
    rows = Counter[str]()
    kinds = Counter[str]()
    slowest: list[tuple[float, str]] = []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        # workbooks have the most ways to break: a third of the inputs
        seed_name = "book.xlsx" if rng.random() < 0.33 else rng.choice(sorted(files))
        data = files[seed_name]
        if tried % bombs_every == bombs_every - 1:
            kind, seed_name = "bomb", "bomb.xlsx"
            data = bomb(rng, data, work)
        elif seed_name.endswith(".xlsx") and rng.random() < 0.6:
            kind = "zip_member"
            data = zip_member(rng, data)
        else:
            kind = rng.choice(sorted(MUTATIONS))
            for _ in range(rng.randint(1, 3)):
                data = MUTATIONS[kind](rng, data)
        kinds[kind] += 1
        tried += 1
        path = work / f"in-{tried}{Path(seed_name).suffix}"
        path.write_bytes(data)
        started = time.perf_counter()
        try:
            if seed_name.startswith("feed"):
                sha = f"{tried:064x}"
                result = run_import(lambda p=path: open_feed(p, p.name, {}, NOW), partner="P001", file_name=path.name,
                                    sha=sha, submitted_by="fuzz", now=NOW, source_kind="feed")
            else:
                result = import_file(path, "P001", now=NOW)
            accepted += 1
            rows["accepted"] += result.rows_accepted
            rows["rejected"] += result.rows_rejected
        except ReportImportError:
            refused += 1
        except Exception:
            crashes += 1
            out.mkdir(parents=True, exist_ok=True)
            (out / path.name).write_bytes(data)
            (out / (path.name + ".txt")).write_text(traceback.format_exc(), encoding="utf-8")
            print(f"CRASH on {seed_name} ({kind}): saved {out / path.name}", file=sys.stderr)
        took = time.perf_counter() - started
        slowest = sorted([*slowest, (took, f"{seed_name}/{kind}")], reverse=True)[:3]
        path.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"inputs tried {tried:,} in {args.seconds:.0f} s ({tried / args.seconds:.1f}/s): {accepted:,} imported, "
          f"{refused:,} refused in one line, crashes {crashes}")
    print(f"rows accepted {rows['accepted']:,}, rejected {rows['rejected']:,}; mutations "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("slowest inputs: " + ", ".join(f"{name} {took:.2f} s" for took, name in slowest))
    print(f"peak RSS {peak:.0f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if crashes:
        print(f"crashing inputs and tracebacks in {out}")
        sys.exit(1)


if __name__ == "__main__":
    main()
