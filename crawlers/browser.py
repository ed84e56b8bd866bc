"""scrapy-playwright's download handler, starting Playwright only when a page is first rendered.

The stock handler starts Playwright's Node driver when the crawl starts (~0.8 s of CPU per crawl
process). A crawl process always carries the handler (the render fallback may need it on any site),
yet most crawls of static shops render nothing: here the driver starts with the first request that
asks for the browser, and never otherwise.

Chromium's traffic all goes through the network policy's filtering proxy
(:class:`crawlers.network.FilteringProxy`), started with the browser and stopped with the handler.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

__all__ = ["LazyPlaywrightHandler"]


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]  # untyped package
    """Like scrapy-playwright's handler, but Playwright starts with the first ``playwright`` request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy_lock = asyncio.Lock()
        self._lazy_started = False
        self._filtering_proxy: Any = None

    async def _maybe_launch_in_thread(self) -> None:
        return None  # not at engine start: see download_request

    def _engine_started(self) -> Any:
        from twisted.internet.defer import succeed

        return succeed(None)

    async def download_request(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        gate = getattr(getattr(self._crawler, "spider", None), "render_gate", None)
        if request.meta.get("playwright") and gate is not None:
            gate(request)  # a site whose renders keep failing: raises before a tab is opened
        if request.meta.get("playwright") and not self._lazy_started:
            async with self._lazy_lock:  # the first request starts it; the others wait until it has
                if not self._lazy_started:
                    self._start_filtering_proxy()
                    await self._maybe_future_from_coro(self._launch())
                    self._lazy_started = True
        return await super().download_request(request, *args, **kwargs)

    def _start_filtering_proxy(self) -> None:
        """Every request Chromium makes goes through the network policy's proxy (started once); the
        sandbox is decided (and logged) here, in processes that do start a browser."""
        from crawlers.network import FilteringProxy
        from crawlers.sandbox import chromium_sandbox

        if self._filtering_proxy is None:
            self._filtering_proxy = FilteringProxy.from_settings()
            self._filtering_proxy.start()
            self.config.launch_options["proxy"] = self._filtering_proxy.playwright_proxy()
            self.config.launch_options["chromium_sandbox"] = chromium_sandbox().enabled

    async def _close(self) -> None:
        try:
            await super()._close()
        finally:
            if self._filtering_proxy is not None:
                self._filtering_proxy.stop()
                self._filtering_proxy = None
