"""Downloader middlewares: politeness (retries with backoff that honour Retry-After, robots.txt, the proxy).

:class:`PoliteRetryMiddleware` replaces Scrapy's ``RetryMiddleware``: a 429 or 503 that carries a
``Retry-After`` is retried after that delay (seconds or an HTTP date) when it is no longer than
``crawl.max_retry_after``, and given up at once when it is longer; the site's other pages wait as
long (its download slot sends nothing until then; without a ``Retry-After``, for the backoff); other retryable statuses,
network errors and compressed bodies cut off before their end (``dataloss``, see
:mod:`crawlers.compression`) are retried after ``retry_backoff * 2**n`` seconds. The wait is an ``asyncio.sleep``
on the reactor's loop: it delays that one request and blocks nothing else.

:class:`RobotsTxtMiddleware` makes every request wait for its site's robots.txt, and says in one
warning line, not a traceback, that a site's robots.txt could not be fetched (its pages are then
crawled as allowed, Scrapy's rule; each of them fails on its own if the whole site is down).

:class:`MetaRefreshMiddleware` is Scrapy's meta-refresh redirect without decoding every whole page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as _ScrapyMetaRefresh
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobots
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.utils.response import response_status_message

from crawlers.compression import DATALOSS

GAVE_UP_META = "pricewarden_gave_up"
BACKOFF_CAP = 60.0


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), ``None`` if absent or bad."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting first: Retry-After when the site says, exponential backoff otherwise."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_retry_after = settings.getfloat("PRICEWARDEN_MAX_RETRY_AFTER", 300.0)
        self.backoff = settings.getfloat("PRICEWARDEN_RETRY_BACKOFF", 0.5)

    def _pause_site(self, request: Any, seconds: float) -> None:
        """Send nothing more to ``request``'s site for ``seconds`` (its download slot waits), then go on
        at the pace it had (AutoThrottle keeps adjusting it)."""
        crawler = getattr(self, "crawler", None)
        downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
        if downloader is None or seconds <= 0:
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return
        before = slot.delay
        if before >= seconds:
            return
        slot.delay = seconds
        slot.lastseen = time.monotonic()  # Scrapy counts the delay from the last request sent

        def restore() -> None:
            if slot.delay == seconds:
                slot.delay = before

        asyncio.get_running_loop().call_later(seconds, restore)

    def _delay(self, request: Any) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        return float(min(self.backoff * (2**attempt), BACKOFF_CAP))

    async def _retry_after(self, request: Any, reason: Any, delay: float | None = None) -> Any:
        """The retry of ``request`` after its wait (``delay``, else the backoff), or ``None`` when it
        has had its retries."""
        retry = self._retry(request, reason)
        if retry is None:
            return None
        delay = self._delay(request) if delay is None else delay
        if delay > 0:
            await asyncio.sleep(delay)
        return retry

    async def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:  # type: ignore[override]
        if request.meta.get("dont_retry", False):
            return response
        if DATALOSS in response.flags:
            # A compressed body cut off before its end (crawlers.compression): fetched again, and if
            # it stays cut off, passed on flagged for the spider to record as ``truncated``.
            return await self._retry_after(request, "truncated compressed body") or response
        if response.status not in self.retry_http_codes:
            return response
        retry_after = None
        if response.status in (429, 503):
            retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        if retry_after is not None and retry_after > self.max_retry_after:
            # Waiting that long would hold the crawl; record the failure instead.
            request.meta[GAVE_UP_META] = f"Retry-After {retry_after:.0f}s exceeds {self.max_retry_after:.0f}s"
            return response
        if response.status in (429, 503):
            # The site asked to slow down: that holds for its other pages too, not only this one.
            self._pause_site(request, retry_after if retry_after is not None else self._delay(request))
        return await self._retry_after(request, response_status_message(response.status), retry_after) or response

    async def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> Any:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        return await self._retry_after(request, exception)


class ProxyMiddleware:
    """Send every request through ``crawl.proxy`` (Scrapy's HttpProxyMiddleware then handles its credentials)."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyMiddleware:
        proxy = crawler.settings.get("PRICEWARDEN_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Any, spider: Any = None) -> None:
        request.meta.setdefault("proxy", self.proxy)


class _RobotsErrorAsWarning(logging.Filter):
    """Scrapy logs a robots.txt it could not download at ERROR with the whole traceback (~60 lines).

    That is one line per site here, a warning: the site's pages are still crawled, and each one that
    cannot be fetched is recorded as a crawl failure with its kind.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.exc_info and isinstance(record.args, dict):
            error = record.exc_info[1]
            url = urlsplit(str(getattr(record.args.get("request"), "url", "")))
            record.msg = "%(robots)s could not be fetched (%(error)s); the site's pages are crawled as allowed"
            record.args = {"robots": f"{url.scheme}://{url.netloc}/robots.txt",
                           "error": f"{type(error).__name__}: {error}" if error else "unknown error"}
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


ROBOTS_LOG_FILTER = _RobotsErrorAsWarning()


class RobotsTxtMiddleware(_ScrapyRobots):
    """Scrapy's robots.txt middleware, with every request waiting for the site's robots.txt.

    Scrapy 2.19 hands the parsed robots.txt to the first request that waited for it and ``None``
    (= allowed) to the others that arrived while it was downloading, so concurrent requests slipped
    past a Disallow. Each waiter gets its own Deferred here.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        logging.getLogger(_ScrapyRobots.__module__).addFilter(ROBOTS_LOG_FILTER)

    async def robot_parser(self, request: Any) -> Any:
        from scrapy.utils.defer import maybe_deferred_to_future
        from scrapy.utils.httpobj import urlparse_cached
        from twisted.internet.defer import Deferred

        parser = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(parser, Deferred):
            waiter: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                waiter.callback(result)
                return result

            parser.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)


# A response header line may be this long (Twisted's default, 16 KB, drops the connection on a long
# Content-Security-Policy, as real shops send; browsers take far more).
MAX_HEADER_LINE = 256 * 1024


def prepare_crawl_process() -> None:
    """Process-wide adjustments of Scrapy and Twisted, made once when a crawl process starts.

    - Response bodies collected as chunks and joined once (:mod:`crawlers.bodies`).
    - Scrapy's cookies middleware uses the Public Suffix List that tldextract carries. Its own
      ``TLDExtract`` downloads the list with ``requests`` the first time a page sets a cookie, on the
      reactor's thread and without a timeout: offline that prints a long traceback, and behind
      egress that swallows connections the whole crawl waits forever.
    - Response header lines up to :data:`MAX_HEADER_LINE`.
    """
    from scrapy.downloadermiddlewares import cookies
    from tldextract import TLDExtract
    from twisted.web._newclient import HTTPParser

    from crawlers import bodies

    bodies.install()
    cookies._split_domain = TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)
    HTTPParser.MAX_LENGTH = MAX_HEADER_LINE


# Scrapy reads a meta refresh from the first 4,096 characters of the page: at most 16 KB of UTF-8.
_REFRESH_WINDOW = 16 * 1024


class MetaRefreshMiddleware(_ScrapyMetaRefresh):
    """Scrapy's meta-refresh redirects, looked for only on pages whose head says ``refresh``.

    Scrapy's own decodes every whole page to text (and keeps that copy) to read its first 4,096
    characters: ~2 % of a static crawl's CPU on 430 KB pages. A page whose first 16 KB do not
    contain the word (in any case) cannot carry the tag; UTF-16/32 pages (NUL bytes) still go the
    full way.
    """

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        head = response.body[:_REFRESH_WINDOW]
        if b"\x00" not in head and b"refresh" not in head.lower():
            return response
        result = super().process_response(request, response)
        if isinstance(result, Request) and result.url.split("#")[0] == response.url.split("#")[0]:
            return response  # a page that reloads itself every N seconds: it is here already
        return result
