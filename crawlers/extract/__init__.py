"""The extraction cascade: what price, currency and offers a product page shows, from its HTML alone.

``extract(html, url, profile=None)`` is pure (no network I/O) and returns an :class:`Extraction`.
"""

from crawlers.extract.amounts import ParsedAmount, currency_for_symbol, find_amounts, parse_amount
from crawlers.extract.cascade import extract, structured_only
from crawlers.extract.model import Candidate, Extraction, Offer
from crawlers.extract.site import cart_url, read_cart_price

__all__ = [
    "Candidate",
    "Extraction",
    "Offer",
    "ParsedAmount",
    "cart_url",
    "currency_for_symbol",
    "extract",
    "find_amounts",
    "parse_amount",
    "read_cart_price",
    "structured_only",
]
