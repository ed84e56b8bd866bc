"""Scrapy settings derived from ``get_settings().crawl``: the only place where Scrapy is configured.

Politeness: robots.txt (``obey_robots_txt``), AutoThrottle, a per-site concurrency cap, retries with
exponential backoff that honour ``Retry-After`` (:class:`crawlers.politeness.PoliteRetryMiddleware`),
a User-Agent and an optional proxy. Truncated bodies fail the request (``DOWNLOAD_FAIL_ON_DATALOSS``)
so that half a page is never read as a price; it is retried, then recorded as ``truncated``.
"""

from __future__ import annotations

from typing import Any

from pricewarden.settings import Settings, get_settings

PLAYWRIGHT_HANDLER = "crawlers.browser.LazyPlaywrightHandler"  # scrapy-playwright's, started on first use
# Launch arguments verified with Debian's Chromium (see KNOWN-GOOD.md). The sandbox is decided per
# process (crawlers.sandbox); pages are isolated per site; WebRTC may not send UDP around the proxy
# that carries all of Chromium's traffic (crawlers.network.proxy).
CHROMIUM_ARGS = [
    "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--site-per-process", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Fewer services per page: rendering is CPU-bound on a small machine.
    "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--disable-features=Translate,BackForwardCache,OptimizationHints,MediaRouter",
]
# The longest delay AutoThrottle puts between two requests to one site (seconds).
AUTOTHROTTLE_MAX_DELAY = 60.0
# Every browser context: no service workers (a page must not leave code running behind it).
CHROMIUM_CONTEXT: dict[str, Any] = {"service_workers": "block"}


def chromium_launch_options(settings: Settings | None = None, *, proxy: Any = None,
                            sandbox: bool | None = None) -> dict[str, Any]:
    """Playwright launch options: the configured Chromium (or Playwright's own) with the known-good args.

    ``proxy`` is the running :class:`crawlers.network.FilteringProxy` that every request of the
    browser goes through. The sandbox is on wherever :func:`crawlers.sandbox.chromium_sandbox`
    allows (decided now unless ``sandbox`` says; the crawl decides when the browser first starts).
    """
    from crawlers.sandbox import chromium_sandbox

    settings = settings or get_settings()
    if sandbox is None:
        sandbox = chromium_sandbox().enabled
    options: dict[str, Any] = {"args": list(CHROMIUM_ARGS), "headless": True, "chromium_sandbox": sandbox}
    path = settings.chromium()
    if path is not None:
        options["executable_path"] = path
    if proxy is not None:
        options["proxy"] = proxy.playwright_proxy()
    return options


def scrapy_settings(*, browser: bool = True, settings: Settings | None = None) -> dict[str, Any]:
    """The Scrapy settings of one crawl process.

    ``browser`` installs scrapy-playwright's download handler; it only starts Chromium when a
    request asks for rendering, so plain pages pay nothing for it.
    """
    settings = settings or get_settings()
    crawl = settings.crawl
    values: dict[str, Any] = {
        "BOT_NAME": "pricewarden",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_domain_concurrency,
        # A page yields one item (rarely two): Scrapy's default of 100 starts 100 tasks per page.
        "CONCURRENT_ITEMS": 4,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_MAX_DELAY": AUTOTHROTTLE_MAX_DELAY,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.per_domain_concurrency),
        "DOWNLOAD_DELAY": 0.0,
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "REDIRECT_MAX_TIMES": 10,
        "COOKIES_ENABLED": True,
        # No way into a crawl process from outside: Scrapy's telnet console, and its remote control
        # (2.19: an HTTP server on localhost per process that runs Python code sent with the token
        # it writes to the user's state folder).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        # The network policy (crawlers.network): refused URLs stop before robots.txt; only checked
        # addresses are connected to; what was refused below the HTTP client is said as ``refused``.
        "TWISTED_DNS_RESOLVER": "crawlers.network.PolicyResolver",
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "DOWNLOADER_MIDDLEWARES": {
            "crawlers.network.NetworkPolicyMiddleware": 50,
            "crawlers.network.RefusalMiddleware": 950,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawlers.politeness.RobotsTxtMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.politeness.PoliteRetryMiddleware": 550,
            "crawlers.politeness.ProxyMiddleware": 740,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawlers.politeness.MetaRefreshMiddleware": 580,
            # A compressed body cut off before its end is flagged, retried, then a failure (not half a page).
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "crawlers.compression.HttpCompressionMiddleware": 590,
            # Scrapy's byte counts of every request and response, which nothing here reads.
            "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
        },
        # Spider middlewares with nothing to do here (the spider follows no links; every page is
        # one item) still wrap every callback's output: ~2 % of a crawl's CPU.
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "ITEM_PIPELINES": {"crawlers.pipeline.StorePipeline": 300},
        # The heartbeat its caller watches (crawlers.liveness); off outside a supervised crawl process.
        "EXTENSIONS": {"crawlers.liveness.Heartbeat": 0},
        # Our pipeline keeps memory flat; Scrapy's own per-response buffers must not grow either.
        "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        # Scrapy's, keeping each site's connection limit under the asyncio reactor (crawlers.downloader).
        "DOWNLOADER": "crawlers.downloader.Downloader",
        "PRICEWARDEN_MAX_RETRY_AFTER": crawl.max_retry_after,
        "PRICEWARDEN_RETRY_BACKOFF": crawl.retry_backoff,
        "PRICEWARDEN_PROXY": crawl.proxy.get_secret_value() if crawl.proxy else None,
    }
    if browser:
        values["DOWNLOAD_HANDLERS"].update({"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER})
        # The filtering proxy and the sandbox are settled when the browser first starts (crawlers.browser).
        values["PLAYWRIGHT_LAUNCH_OPTIONS"] = chromium_launch_options(settings, sandbox=False)
        values["PLAYWRIGHT_CONTEXTS"] = {"default": dict(CHROMIUM_CONTEXT)}
        values["PLAYWRIGHT_BROWSER_TYPE"] = "chromium"
        values["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"] = crawl.browser_concurrency
        values["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] = crawl.download_timeout * 1000
    return values
