"""Partner-reported prices: CSV/XLSX/JSON files, API payloads and product feeds, validated row by row.

``import_file`` and ``import_rows`` turn a partner's report into one ``ReportBatch`` (one
transaction) with a receipt listing every row, accepted or rejected with the reason;
``import_feed`` pulls a Google Merchant-style feed; ``find_misreports`` (pure) and
``cross_check`` (store adapter) compare reported prices with what the web showed.
"""

from crawlers.reports._crosscheck import Misreport, PricePoint, cross_check, find_misreports
from crawlers.reports._feed import import_feed, open_feed, split_price
from crawlers.reports._importer import (
    ImportResult,
    import_file,
    import_rows,
    list_batches,
    receipt_path,
    run_import,
)
from crawlers.reports._read import detect_encoding
from crawlers.reports._receipt import safe_cell
from crawlers.reports._template import instructions, write_template
from crawlers.reports._validate import Catalog, PartnerInfo, RowValidator
from crawlers.reports._values import decimal_separator, parse_instant, parse_price

__all__ = [
    "Catalog",
    "ImportResult",
    "Misreport",
    "PartnerInfo",
    "PricePoint",
    "RowValidator",
    "cross_check",
    "decimal_separator",
    "detect_encoding",
    "find_misreports",
    "import_feed",
    "import_file",
    "import_rows",
    "instructions",
    "list_batches",
    "open_feed",
    "parse_instant",
    "parse_price",
    "receipt_path",
    "run_import",
    "safe_cell",
    "split_price",
    "write_template",
]
