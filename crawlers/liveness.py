"""A crawl process's heartbeat: a shared counter it counts up whenever a piece of its work finishes.

The process that started the crawl (:func:`crawlers.run.run_crawl`) watches each process's counter and
stops one whose counter stands still for ``crawl.stall_timeout`` seconds (:mod:`crawlers.watchdog`). The
counter moves when a download attempt leaves the downloader (a response, a timeout, a refused connection,
robots.txt and every retry included: Scrapy's ``request_left_downloader``), and when a page's item has been
through the store pipeline (a page stored or its failure recorded: ``item_scraped``, ``item_dropped``,
``item_error``) or a callback raised (``spider_error``). Counting each attempt, not each page, bounds the
quiet a healthy process can have by one wait and one attempt, however many retries a page takes.

Only the reactor's thread counts (signals are sent there), and the watcher only compares what it reads
with what it read before, so the counter has no lock (a process killed while holding one would leave it
held, and its watcher stuck).
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

# The shared counter (a ``multiprocessing`` ``Value`` without a lock) of this crawl process; set by
# ``crawlers.run.crawl_shard``. ``None`` outside a supervised crawl process: the extension is then off.
BEAT: Any = None

SIGNALS = (signals.spider_opened, signals.request_left_downloader, signals.item_scraped, signals.item_dropped,
           signals.item_error, signals.spider_error)


class Heartbeat:
    """Scrapy extension: count :data:`BEAT` up on each signal that says a piece of work finished."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    @classmethod
    def from_crawler(cls, crawler: Any) -> Heartbeat:
        if BEAT is None:
            raise NotConfigured
        extension = cls(BEAT)
        for signal in SIGNALS:
            crawler.signals.connect(extension.beat, signal=signal)
        return extension

    def beat(self, **_kwargs: Any) -> None:
        """Count one finished piece of work."""
        self.counter.value += 1
