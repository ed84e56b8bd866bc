"""What a crawl process would import once it starts, imported once in the crawl fork server instead.

:mod:`crawlers.run` forks crawl processes from a server that has imported this module: Scrapy's
default components (middlewares, extensions, scheduler, queues, robots.txt parser), our own
middlewares and settings. A crawl process then starts with none of that to import (~0.5 s of CPU
each). Nothing here installs a Twisted reactor: each crawl process installs its own.
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

    if "twisted.internet.reactor" in sys.modules:
        # A reactor installed here would be every crawl process's, and Scrapy would refuse it.
        raise RuntimeError("preloading the crawl installed a Twisted reactor; crawl processes need their own")
    return missing


preload()
