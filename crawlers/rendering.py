"""Rendering that cannot stall a crawl: wait for the DOM, then for a price, all inside a hard budget.

A page is rendered (scrapy-playwright) only when its profile says so or its static HTML looked like a
product page without a price. Such a page loads third-party scripts, trackers and images, some of
which never finish; waiting for ``load`` or ``networkidle`` could cost ``download_timeout`` (30 s) per
page, every crawl. Here:

- navigation waits for ``DOMContentLoaded`` only, within the budget;
- then the profile's ``browser_steps`` run, or, without steps, the page is watched until a price
  appears (more amounts in its text than when the DOM was ready) or its network goes quiet;
- the HTML and the full-page screenshot are taken before the budget (``crawl.render_budget``, counted
  from the moment the browser page was opened, so waiting for a free tab is not charged) ends.
  Whatever is not done by then is cut: a page that cannot give its HTML in time is a ``timeout``
  failure, a screenshot that cannot be had in time is left out.

:class:`RenderBreaker` renders a site less often when its renders keep failing (timeouts, errors, or
no price even rendered): after ``crawl.render_breaker_after`` such renders in a row, only one page in
``crawl.render_breaker_every`` is rendered (a probe; the others are ``render_skipped`` failures) until a
probe gives a price again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RENDER_CLOCK", "RenderBreaker", "RenderSkipped", "RenderStats", "RenderTimeout", "finish_render", "start_clock",
]

logger = logging.getLogger(__name__)

RENDER_CLOCK = "pricewarden_render_started"
# Share of the budget kept for the HTML and the screenshot after waiting for the price.
_RESERVE = 0.3
_RESERVE_CAP = 2.0

# Amounts in the page's text: a currency sign or code next to digits (either side). Counted, not read:
# the extraction cascade reads the rendered HTML afterwards.
_SIGNS = "$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u20ba\u20aa"
_AMOUNT = (r"(?:[" + _SIGNS + r"]|\b(?:USD|EUR|GBP|CHF|JPY|CNY|RMB|CAD|AUD|SEK|NOK|DKK|PLN|CZK|HUF|INR|Rs)\b\.?)\s?\d"
           r"|\d[\d.,'\u00a0 ]*\s?(?:[" + _SIGNS + r"\u5143\u5186]"
           r"|\b(?:USD|EUR|GBP|CHF|kr|z\u0142|K\u010d|Ft|[Ll]ei)\b)")
_COUNT_AMOUNTS = """() => {
  const text = document.body ? document.body.textContent : "";
  const found = text.match(/AMOUNT/g);
  return (found ? found.length : 0) + document.querySelectorAll("[itemprop=price]").length;
}""".replace("AMOUNT", _AMOUNT)


class RenderTimeout(Exception):
    """The render of one page did not finish within its budget."""


class RenderSkipped(Exception):
    """A page was not rendered: its site's renders keep failing (the message says how many)."""


async def start_clock(page: Any, request: Any) -> None:
    """scrapy-playwright's page-init callback: the budget starts when the page has its browser tab."""
    request.meta[RENDER_CLOCK] = time.monotonic()


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


async def _bounded(awaitable: Any, deadline: float) -> Any:
    left = _left(deadline)
    if left <= 0:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise TimeoutError
    return await asyncio.wait_for(awaitable, left)


async def wait_for_price(page: Any, until: float) -> str:
    """Wait until more amounts show than at DOM-ready, or the network is quiet, or ``until``; says which."""
    if _left(until) <= 0:
        return "budget"
    try:
        base = await _bounded(page.evaluate(_COUNT_AMOUNTS), until)
    except Exception:
        return "budget"
    timeout_ms = max(1.0, _left(until) * 1000)
    price = asyncio.ensure_future(page.wait_for_function(
        f"(base) => ({_COUNT_AMOUNTS})() > base", arg=base, polling=100, timeout=timeout_ms))
    idle = asyncio.ensure_future(page.wait_for_load_state("networkidle", timeout=timeout_ms))
    done, pending = await asyncio.wait({price, idle}, timeout=max(0.0, _left(until)),
                                       return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in (price, idle):  # retrieve every outcome: no "exception never retrieved" warnings
        with contextlib.suppress(BaseException):
            await task
    if price in done and not price.cancelled() and price.exception() is None:
        return "price"
    if idle in done and not idle.cancelled() and idle.exception() is None:
        return "idle"
    return "budget"


async def run_steps(page: Any, methods: list[Any], until: float, url: str) -> None:
    """The profile's browser steps, each cut at ``until``; a step that fails or times out ends the steps."""
    for method in methods:
        try:
            await _bounded(getattr(page, method.method)(*method.args, **method.kwargs), until)
        except Exception as exc:
            logger.info("browser step %s on %s failed: %s", method.method, url, exc or type(exc).__name__)
            break


async def finish_render(page: Any, methods: list[Any], *, started: float, budget: float,
                        url: str) -> tuple[bytes, bytes | None, str]:
    """(HTML, screenshot or ``None``, how the wait ended) of a page whose DOM is ready, within the budget.

    Raises :class:`RenderTimeout` when not even the HTML could be read before the budget ended.
    """
    from crawlers.screenshots import full_page_png

    deadline = started + budget
    wait_until = deadline - min(_RESERVE * budget, _RESERVE_CAP)
    if methods:
        await run_steps(page, methods, wait_until, url)
        waited = "steps"
    else:
        waited = await wait_for_price(page, wait_until)
    try:
        html = (await _bounded(page.content(), deadline)).encode("utf-8")
    except TimeoutError:
        raise RenderTimeout(f"render budget of {budget:g} s exceeded before the page's HTML was read") from None
    try:
        shot: bytes | None = await _bounded(full_page_png(page), deadline)
    except TimeoutError:
        logger.info("screenshot of %s left out: the render budget of %g s ended", url, budget)
        shot = None
        waited = "budget"
    return html, shot, waited


@dataclass
class RenderBreaker:
    """Per-site circuit breaker: a site whose renders keep failing is rendered one page in ``every``."""

    after: int = 3
    every: int = 10
    failures: dict[str, int] = field(default_factory=dict)
    waited: dict[str, int] = field(default_factory=dict)  # pages since the last probe of an open site

    def is_open(self, site: str) -> bool:
        """Whether ``site`` is rendered less often now."""
        return self.failures.get(site, 0) >= self.after

    def allow(self, site: str) -> bool:
        """Whether this page of ``site`` may be rendered (always, or as the open breaker's probe)."""
        if not self.is_open(site):
            return True
        count = self.waited.get(site, 0) + 1
        if count >= self.every:
            self.waited[site] = 0
            return True
        self.waited[site] = count
        return False

    def record(self, site: str, ok: bool) -> None:
        """A render of ``site`` gave a price (``ok``) or failed (timeout, error, still no price)."""
        if ok:
            self.failures.pop(site, None)
            self.waited.pop(site, None)
        else:
            self.failures[site] = self.failures.get(site, 0) + 1
            if self.failures[site] == self.after:
                logger.warning("renders of %s keep failing (%d in a row): rendering one page in %d until one "
                               "gives a price", site, self.after, self.every)

    def open_sites(self) -> list[str]:
        """Sites rendered less often at the moment."""
        return sorted(site for site in self.failures if self.is_open(site))


@dataclass
class RenderStats:
    """What the browser did in one crawl process: pages rendered, failed, skipped, and when."""

    rendered: int = 0
    failed: int = 0
    skipped: int = 0
    over_budget: int = 0
    seconds: float = 0.0  # summed render time of every page
    longest: float = 0.0  # the longest one page took
    first: float | None = None
    last: float | None = None

    def add(self, started: float, ended: float, ok: bool, over_budget: bool = False) -> None:
        """Count one render that began at ``started`` and ended (HTML and screenshot in hand, or given up)
        at ``ended`` (``time.monotonic``)."""
        now = ended
        self.rendered += 1
        self.failed += 0 if ok else 1
        self.over_budget += 1 if over_budget else 0
        self.seconds += now - started
        self.longest = max(self.longest, now - started)
        self.first = started if self.first is None else min(self.first, started)
        self.last = now if self.last is None else max(self.last, now)

    def as_dict(self, breaker: RenderBreaker | None = None) -> dict[str, Any]:
        """Plain data for the crawl run's stats (``browser``)."""
        span = (self.last - self.first) if self.first is not None and self.last is not None else 0.0
        return {
            "rendered": self.rendered, "failed": self.failed, "over_budget": self.over_budget,
            "skipped": self.skipped,
            "pages_per_s": round(self.rendered / span, 2) if span > 0 else None,
            "mean_s": round(self.seconds / self.rendered, 2) if self.rendered else None,
            "longest_s": round(self.longest, 2) if self.rendered else None,
            "sites_rendered_less": breaker.open_sites() if breaker is not None else [],
        }
