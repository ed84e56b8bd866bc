"""Scrapy's downloader with its per-site connection limit kept under the asyncio reactor.

Scrapy 2.19 hands each queued request of a site to a new asyncio task and counts it as
"transferring" only when that task starts. Its dispatch loop checks the free slots before any of
those tasks has run, so every request queued for a site leaves at once: with no download delay
(AutoThrottle off, or on at its start delay of 0) a site limited to 4 connections got up to the
crawl's whole concurrency (11-17 at once, measured). Here a request counts as transferring the
moment it is dispatched (Scrapy's own ``_download`` adds it again, a set, and removes it when done).
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from scrapy.core.downloader import Downloader as _ScrapyDownloader
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro

__all__ = ["Downloader"]


class Downloader(_ScrapyDownloader):
    """Scrapy's downloader; a site never has more requests in flight than its slot's concurrency."""

    def _process_queue(self, slot: Any) -> None:
        if slot.latercall:
            return  # processing waits for the delayed call
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # counted now, not when the task gets to run
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay: no burst
                self._process_queue(slot)
                break
