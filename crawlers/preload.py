"""What a crawl process would import once it starts, imported once in the crawl fork server instead.

:mod:`crawlers.run` forks crawl processes from a server that has imported this module: Scrapy's
default components (middlewares, extensions, scheduler, queues, robots.txt parser), our own
middlewares and settings. A crawl process then starts with none of that to import (~0.5 s of CPU
each). Nothing here installs a Twisted reactor: each crawl process installs its own.

The extraction cascade is run once here too, over a small page (:func:`warm_up_extraction`): its
first page in a process otherwise loads Babel's locale data and the modules Babel imports lazily,
and fills the caches of its patterns (~60 ms of CPU, in every crawl process).
"""

from __future__ import annotations

import sys

from scrapy.settings import default_settings as _defaults
from scrapy.utils.misc import load_object

import crawlers.browser
import crawlers.compression
import crawlers.politeness
import crawlers.settings  # noqa: F401  (pricewarden.settings and its pydantic models)


def _component_paths() -> list[str]:
    paths = [*_defaults.SPIDER_MIDDLEWARES_BASE, *_defaults.DOWNLOADER_MIDDLEWARES_BASE,
             *_defaults.EXTENSIONS_BASE, *_defaults.DOWNLOAD_HANDLERS_BASE.values()]
    for name in ("SCHEDULER", "STATS_CLASS", "LOG_FORMATTER", "DUPEFILTER_CLASS", "SCHEDULER_DISK_QUEUE",
                 "SCHEDULER_MEMORY_QUEUE", "SCHEDULER_PRIORITY_QUEUE", "ROBOTSTXT_PARSER",
                 "REQUEST_FINGERPRINTER_CLASS", "DOWNLOADER", "ITEM_PROCESSOR", "SPIDER_LOADER_CLASS"):
        value = getattr(_defaults, name, None)
        if isinstance(value, str):
            paths.append(value)
    # Scrapy imports every listed component, disabled ones included, to build its lists.
    return paths


def preload() -> list[str]:
    """Import every component a crawl loads; returns those that could not be imported (optional extras)."""
    missing = []
    for path in _component_paths():
        try:
            load_object(path)
        except Exception:  # an optional dependency that is not installed: the crawl does not use it
            missing.append(path)
    import tldextract  # noqa: F401  (the cookies middleware's, with requests behind it)

    warm_up_extraction()
    if "twisted.internet.reactor" in sys.modules:
        # A reactor installed here would be every crawl process's, and Scrapy would refuse it.
        raise RuntimeError("preloading the crawl installed a Twisted reactor; crawl processes need their own")
    return missing


# A product page with what the cascade's steps read: JSON-LD, microdata, a struck list price, a buy box.
_SAMPLE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Sample</title>'
    '<script type="application/ld+json">{{"@type":"Product","name":"Sample","offers":{{"@type":"Offer",'
    '"price":"{price}","priceCurrency":"USD"}}}}</script></head><body><nav><a href="/">Home</a></nav>'
    '<main itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Sample</h1>'
    '<div class="price-box"><del class="was-price">$129.00</del> <span class="price">${price}</span> '
    '<span class="save">Save 20%</span></div><p>Or 4 payments of $24.75</p>'
    '<button class="add-to-cart">Add to cart</button></main><footer>Free shipping over $50</footer></body></html>'
)


def warm_up_extraction() -> None:
    """Run the cascade over a few small pages, so that the crawl processes forked from here start warm.

    Its first page otherwise loads Babel's locale data (and ``babel.dates``, ``pytz``) and compiles and
    caches patterns in every crawl process. Every cache it fills is a pure function's: no result changes.
    """
    from crawlers.extract import extract

    for lang in ("en", "en-US"):
        for price, host in (("99.00", "127.0.0.1"), ("98.00", "shop.example.com")):
            # (one page that structured data and the buy box agree on, one the visible scan decides)
            html = _SAMPLE.format(lang=lang, price=price).encode()
            extract(html, f"http://{host}/p/1", encoding="utf-8")
            extract(html.replace(b"ld+json", b"x-none"), f"http://{host}/p/2")


preload()
