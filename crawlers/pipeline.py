"""The item pipeline: buffer what the spider yields and write it to the store in batches, off the reactor.

A full batch is written in a worker thread (gzip, hashing and the database release the GIL) while
the crawl goes on and the next batch fills; batches are written one at a time, in order. Memory
stays flat: at most two batches of pages are held (the one being filled and the one being written).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from typing import Any

from crawlers.persist import Batch, add_item, as_error, close_run, open_run, seller_partner_map, write_batch
from store._types import utcnow

logger = logging.getLogger(__name__)


# Shared counters of this crawl process's pages (done, failed) for the caller's progress bar; set by
# crawlers.run.crawl_shard when the caller shows one.
PROGRESS: tuple[Any, Any] | None = None


class StorePipeline:
    """Store observations, failures and evidence of one crawl process, and its ``CrawlRun``."""

    def __init__(self, crawler: Any) -> None:
        from pricewarden.settings import get_settings
        from store.db import get_engine
        from store.evidence import EvidenceStore

        self.crawler = crawler
        self.engine = get_engine()
        self.evidence = EvidenceStore.from_settings()
        self.batch_size = get_settings().crawl.store_batch
        self.items: list[dict[str, Any]] = []
        self.writing: asyncio.Task[None] | None = None
        self.counts: Counter[str] = Counter()
        self.sites: dict[str, Counter[str]] = {}
        self.run_id: int | None = None
        self.started = time.monotonic()
        self.seller_partners: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        with self.engine.begin() as conn:
            self.run_id = open_run(conn, spider.run_key, spider.shard, utcnow())
            self.seller_partners = seller_partner_map(conn)
        spider.run_id = self.run_id

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        site = item["target"]["url"].split("/")[2].lower()
        per_site = self.sites.setdefault(site, Counter())
        per_site["pages"] += 1
        self.counts["pages"] += 1
        for failure in item.get("failures", ()):
            per_site[f"failure:{failure['kind']}"] += 1
            self.counts[f"failure:{failure['kind']}"] += 1
        if item.get("rendered"):
            self.counts["rendered"] += 1
        if PROGRESS is not None:
            done, failed = PROGRESS
            with done.get_lock():
                done.value += 1
            if item.get("failures"):
                with failed.get_lock():
                    failed.value += 1
        self.items.append(item)
        if len(self.items) >= self.batch_size:
            # Write this batch in the background while the next one fills; wait only when the
            # previous write is still running (back-pressure keeps memory to two batches).
            if self.writing is not None:
                await self.writing
            items, self.items = self.items, []
            self.writing = asyncio.ensure_future(self._flush(items))
        # The HTML and screenshot now live in the batch; Scrapy keeps only this.
        return {"url": item["target"]["url"]}

    async def _flush(self, items: list[dict[str, Any]]) -> None:
        new_obs, new_fail = await asyncio.to_thread(self._write, items)
        self.counts["observations"] += new_obs
        self.counts["failures"] += new_fail

    def _write(self, items: list[dict[str, Any]]) -> tuple[int, int]:
        # Hashing, row building and compression happen here, off the reactor thread.
        batch = Batch()
        for item in items:
            rows = Batch()  # one item's rows, added whole or not at all
            try:
                add_item(rows, item, run_id=self.run_id, seller_partners=self.seller_partners)
            except Exception as exc:
                # An item whose rows cannot be built is stored as the page's failure, with its HTML.
                logger.warning("storing %s failed: %s: %s", item["target"]["url"], type(exc).__name__, exc)
                rows = Batch()
                add_item(rows, as_error(item, exc), run_id=self.run_id, seller_partners=self.seller_partners)
            batch.merge(rows)
        with self.engine.begin() as conn:
            return write_batch(conn, batch, self.evidence)

    async def close_spider(self, spider: Any = None) -> None:
        if self.writing is not None:
            await self.writing
        if self.items:
            items, self.items = self.items, []
            await self._flush(items)
        elapsed = time.monotonic() - self.started
        stats: dict[str, Any] = dict(self.counts)
        stats["elapsed_s"] = round(elapsed, 3)
        stats["pages_per_s"] = round(self.counts["pages"] / elapsed, 1) if elapsed else None
        # This process's own peak (a forked crawl process is not its caller's child to measure).
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
        # CPU this process spent (every thread, start-up included): the figure that noise moves least.
        stats["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
        stats["sites"] = {site: dict(c) for site, c in self.sites.items()}
        render_stats = getattr(spider or self.crawler.spider, "render_stats", None)
        if render_stats is not None and (render_stats.rendered or render_stats.skipped):
            stats["browser"] = render_stats.as_dict(getattr(spider or self.crawler.spider, "breaker", None))
        if self.run_id is not None:
            with self.engine.begin() as conn:
                close_run(conn, self.run_id, utcnow(), stats)
        logger.info("crawl run %s stored: %s", self.run_id, {k: v for k, v in stats.items() if k != "sites"})
