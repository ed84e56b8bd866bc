"""One Chromium for a monitor cycle's evidence step (and for every day of the demo).

The evidence step took screenshots of new violations in a Chromium launched for them, then the second
reading of the prices to confirm in another: two launches a cycle, each ~1 s of CPU on a small machine
before a page is drawn. Inside ``with shared_browser():`` the first of them launches it (under the
network policy's filtering proxy, like any other launch) and the others run on it, each in a browser
context of its own; it is closed, with its proxy, when the block ends. A caller that knows the browser
will be wanted (a monitor cycle inside a block that outlives it, such as the demo's) may have it launched
early, in a thread, while it does other work (:meth:`SharedBrowser.start_soon`).

Crawl processes keep a Chromium of their own. Connected to this one over CDP instead, they cost more
CPU than the launches they saved (measured with ``bench/bench_demo.py``: +2-3 s of CPU a cycle in the
crawl processes, their drivers and Chromium): every Playwright client attached to the browser is told
of every page of the others.

Chromium lives in a thread with its own event loop, so callers may be inside a running loop
(Prefect) or in any thread. A browser that cannot be shared (the launch failed) is not retried in the
block: each user then launches its own, as without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

__all__ = ["SharedBrowser", "current", "shared_browser"]

T = TypeVar("T")
_LAUNCH_TIMEOUT = 60.0
_current: SharedBrowser | None = None
_current_lock = threading.Lock()


class SharedBrowser:
    """A Chromium launched on first use and kept until :meth:`close`; see the module's docstring."""

    def __init__(self, settings: Any = None) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._proxy: Any = None
        self._playwright: Any = None
        self.browser: Any = None
        self.failed = False
        self.launches = 0
        self._early: threading.Thread | None = None

    def start(self) -> bool:
        """Launch the browser if it is not running yet; False if it cannot be."""
        with self._lock:
            if self.browser is not None or self.failed:
                return self.browser is not None
            from crawlers.network import FilteringProxy
            from pricewarden.settings import get_settings

            settings = self._settings or get_settings()
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._thread = threading.Thread(target=loop.run_forever, name="pricewarden-shared-chromium",
                                            daemon=True)
            self._thread.start()
            try:
                self._proxy = FilteringProxy.from_settings(settings)
                self._proxy.start()
                asyncio.run_coroutine_threadsafe(self._launch(settings), loop).result(_LAUNCH_TIMEOUT)
            except Exception as exc:  # each user launches its own instead
                logger.warning("the shared Chromium did not start (%s); each step launches its own", exc)
                self.failed = True
                self._stop()
                return False
            self.launches += 1
            return True

    def start_soon(self) -> None:
        """Launch the browser now in a thread of its own, while the caller goes on (a monitor's crawl, which
        leaves part of a core idle); the first user then finds it running, or waits for the launch to end."""
        with self._lock:
            if self.browser is not None or self.failed or self._early is not None:
                return
            self._early = threading.Thread(target=self.start, name="pricewarden-shared-chromium-launch", daemon=True)
            self._early.start()

    async def _launch(self, settings: Any) -> None:
        from playwright.async_api import async_playwright

        from crawlers.settings import chromium_launch_options

        self._playwright = await async_playwright().start()
        self.browser = await self._playwright.chromium.launch(**chromium_launch_options(settings, proxy=self._proxy))

    def run(self, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
        """``work(browser)`` run to its end in the browser's loop (launching it first if needed)."""
        if not self.start() or self._loop is None:
            raise RuntimeError("the shared Chromium is not running")
        return asyncio.run_coroutine_threadsafe(work(self.browser), self._loop).result()

    def close(self) -> None:
        """Close Chromium, its driver and its proxy (a browser never launched: nothing to do; one launching
        early: once it has started)."""
        early = self._early
        if early is not None:
            early.join()
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        loop = self._loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            async def shut() -> None:
                if self.browser is not None:
                    with contextlib.suppress(Exception):
                        await self.browser.close()
                if self._playwright is not None:
                    with contextlib.suppress(Exception):
                        await self._playwright.stop()

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shut(), loop).result(_LAUNCH_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(10)
            loop.close()
        self.browser = self._playwright = None
        self._loop = self._thread = None
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None


def current() -> SharedBrowser | None:
    """The browser shared by the enclosing ``with shared_browser():`` block, if any."""
    return _current


@contextlib.contextmanager
def shared_browser(settings: Any = None) -> Iterator[SharedBrowser]:
    """Share one Chromium (launched on first use) for the block; an enclosing block's is reused."""
    global _current
    with _current_lock:
        outer = _current
        mine = SharedBrowser(settings)
        if outer is None:
            _current = mine
    if outer is not None:
        yield outer
        return
    try:
        yield mine
    finally:
        with _current_lock:
            _current = None
        mine.close()
