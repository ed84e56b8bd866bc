"""The plain alternative ``bench_crawl.py`` compares with: Scrapy + extruct + price-parser, nothing else.

What a developer would write in an afternoon: one spider, the price read from the page's structured
data (JSON-LD, microdata, OpenGraph) by extruct and parsed by price-parser, items written to a JSON
lines feed. It fetches with the same politeness as a PriceWarden crawl process (concurrency, per-site
concurrency, robots.txt, AutoThrottle), stores no evidence and writes no database.

    .venv/bin/python bench/plain_spider.py URLS_FILE FEED_FILE

``URLS_FILE`` holds one URL a line. Run as a process of its own: the caller measures its CPU and
peak RSS (``os.wait4``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import extruct
import scrapy
from price_parser import Price
from scrapy.crawler import CrawlerProcess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _offers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _offers(item)
    elif isinstance(node, dict):
        if "price" in node or "lowPrice" in node:
            yield node
        for key in ("offers", "@graph", "mainEntity"):
            if key in node:
                yield from _offers(node[key])


def read_price(html: str, url: str) -> tuple[Any, Any]:
    """(amount, currency) from the page's structured data, or (None, None)."""
    data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata", "opengraph"], uniform=True,
                           errors="ignore")
    for node in [*data.get("json-ld", []), *data.get("microdata", [])]:
        for offer in _offers(node):
            raw = offer.get("price", offer.get("lowPrice"))
            price = Price.fromstring(str(raw))
            if price.amount is not None:
                return price.amount, offer.get("priceCurrency") or price.currency
    for node in data.get("opengraph", []):
        props = dict(node.get("properties", ())) if isinstance(node.get("properties"), list) else node
        raw = props.get("product:price:amount") or props.get("og:price:amount")
        if raw:
            price = Price.fromstring(str(raw))
            if price.amount is not None:
                return price.amount, props.get("product:price:currency") or props.get("og:price:currency")
    return None, None


class PlainSpider(scrapy.Spider):
    """Fetch each URL, read its price from structured data."""

    name = "plain"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Any) -> Any:
        amount, currency = read_price(response.text, response.url)
        yield {"url": response.url, "price": None if amount is None else str(amount), "currency": currency}


def main() -> None:
    urls = Path(sys.argv[1]).read_text(encoding="utf-8").split()
    feed = sys.argv[2]
    from pricewarden.settings import get_settings

    crawl = get_settings().crawl
    process = CrawlerProcess(settings={
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_domain_concurrency,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.per_domain_concurrency),
        "DOWNLOAD_DELAY": 0.0,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "FEEDS": {feed: {"format": "jsonlines"}},
    })
    process.crawl(PlainSpider, urls=urls)
    process.start()


if __name__ == "__main__":
    main()
