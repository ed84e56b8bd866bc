"""The one generic storefront spider: fetch each target page, hand its HTML to the extraction cascade.

Site specifics are data (site profiles); the spider never parses money. For each page it yields a
``page`` item: the raw HTML (evidence), the :class:`~crawlers.extract.Extraction`, a full-page
screenshot when the page was rendered, and any failures. A page that is no price (404, block page,
login wall, broken profile...) is a failure item with no extraction: failures are never prices.

Rendering: a profile with ``render: true`` always goes through Chromium (its ``browser_steps`` become
scrapy-playwright ``PageMethod`` calls); with ``crawl.render_fallback`` a page that looks like a
product page but yields no price statically is fetched once more through the browser, and so is one
whose price came only from the script state that fills its empty price slot (``price_placeholder``). Every render
waits for the DOM and then for a price, within ``crawl.render_budget`` (:mod:`crawlers.rendering`);
a site whose renders keep failing is rendered less often (``render_skipped`` failures).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure as TwistedFailure

from crawlers.compression import DATALOSS
from crawlers.failures import Failure, FailureKind, block_kind, from_exception, from_status
from crawlers.politeness import GAVE_UP_META
from crawlers.rendering import (
    RENDER_CLOCK,
    RenderBreaker,
    RenderSkipped,
    RenderStats,
    RenderTimeout,
    finish_render,
    start_clock,
)
from crawlers.targets import Target, by_site
from store._types import utcnow

logger = logging.getLogger(__name__)

# Extraction's names for pages that are not product pages, in our failure kinds.
_EXTRACTION_FAILURES = {"captcha": FailureKind.BLOCKED, "blocked": FailureKind.BLOCKED,
                        "login_wall": FailureKind.LOGIN_WALL, "not_found": FailureKind.NOT_FOUND}


def page_methods(steps: list[Any] | None) -> list[Any]:
    """scrapy-playwright ``PageMethod`` calls from a profile's ``browser_steps`` data.

    ``{wait_for_selector: "span.price"}`` → ``PageMethod("wait_for_selector", "span.price")``; a list
    value gives positional arguments, a mapping gives keyword arguments.
    """
    from scrapy_playwright.page import PageMethod

    methods = []
    for step in steps or ():
        if isinstance(step, str):
            methods.append(PageMethod(step))
            continue
        for name, value in dict(step).items():
            if isinstance(value, dict):
                methods.append(PageMethod(name, **value))
            elif isinstance(value, list):
                methods.append(PageMethod(name, *value))
            elif value is None:
                methods.append(PageMethod(name))
            else:
                methods.append(PageMethod(name, value))
    return methods


def interleave_sites(targets: list[Target]) -> list[Target]:
    """Targets in round-robin order over their sites.

    Scrapy takes start requests only as fast as it has free slots; in listing order it would crawl
    one site after another, each held to its per-site concurrency, and wait on each in turn.
    """
    queues = list(by_site(targets).values())
    ordered: list[Target] = []
    for i in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[i] for q in queues if i < len(q))
    return ordered


class StorefrontSpider(scrapy.Spider):
    """Fetch listing pages of any storefront and yield their HTML, extraction and failures."""

    name = "storefront"

    def __init__(
        self,
        targets: list[dict[str, Any]],
        *,
        run_key: str,
        shard: str = "0",
        run_at: Any = None,
        render_fallback: bool = True,
        browser: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.targets = [Target(**t) for t in targets]
        self.run_key = run_key
        self.shard = shard
        self.run_at = run_at
        self.run_id: int | None = None  # set by the pipeline when it opens the CrawlRun
        self.render_fallback = render_fallback and browser
        self.browser = browser
        from crawlers.profiles import load_profiles
        from pricewarden.settings import get_settings

        self.profiles = load_profiles()
        self.profile_worked: set[str] = set()
        crawl = get_settings().crawl
        self.render_budget = crawl.render_budget
        self.undecided_below = crawl.undecided_below
        self.breaker = RenderBreaker(after=crawl.render_breaker_after, every=crawl.render_breaker_every)
        self.render_stats = RenderStats()

    async def start(self) -> AsyncIterator[Any]:
        """Requests for every target (Scrapy 2.13+ asynchronous start)."""
        from crawlers.persist import profile_successes
        from store.db import get_engine

        with get_engine().connect() as conn:
            self.profile_worked = profile_successes(conn, (t.url for t in self.targets))
        for target in interleave_sites(self.targets):
            yield self.request_for(target)

    # Requests -------------------------------------------------------------------------------

    def profile_for(self, target: Target) -> Any:
        from crawlers.profiles import find_profile
        from pricewarden.errors import NotFoundError

        try:
            return find_profile(self.profiles, target.url, name=target.profile)
        except NotFoundError:
            logger.warning("listing %s names profile %r, which does not exist; matching by domain",
                           target.url, target.profile)
            return find_profile(self.profiles, target.url)

    def request_for(self, target: Target, *, render: bool = False) -> scrapy.Request:
        """A request for ``target``: static first; ``render`` fetches it again through the browser.

        Every page is fetched statically first, even for ``render: true`` profiles: HTTP errors,
        retries, truncated bodies, redirect loops and block pages are then classified the same way
        for every site, and Chromium only renders pages that are worth it.
        """
        profile = self.profile_for(target)
        meta: dict[str, Any] = {"target": target, "profile": profile, "rendered": render and self.browser}
        if render and self.browser:
            meta.update(
                playwright=True,
                playwright_include_page=True,
                # The DOM, not "load": a tracker or image that never finishes must not hold the page.
                playwright_page_goto_kwargs={"wait_until": "domcontentloaded",
                                             "timeout": self.render_budget * 1000},
                playwright_page_init_callback=start_clock,
                # Steps run in the callback, after the status is known: an error page is retried
                # or recorded at once instead of waiting for a price selector that never comes.
                # Without steps the callback waits for a price to appear (crawlers.rendering).
                browser_steps=list(getattr(profile, "browser_steps", None) or ()),
            )
        return scrapy.Request(target.url, callback=self.on_page, errback=self.on_error, meta=meta,
                              dont_filter=True)

    # Callbacks ------------------------------------------------------------------------------

    def _item(self, response_or_request: Any, target: Target, **values: Any) -> dict[str, Any]:
        return {"target": target.as_dict(), "run_at": self.run_at, "fetched_at": utcnow(),
                "final_url": getattr(response_or_request, "url", target.url), **values}

    async def on_page(self, response: Response) -> AsyncIterator[Any]:
        """Read one fetched page: a price (or offers), hidden pricing, or a failure; never nothing.

        Whatever goes wrong while reading the page (JSON-LD nested past the recursion limit, an
        amount no arithmetic can hold, a bug) becomes a failure of kind ``error`` with the page's
        HTML as evidence: a page that raised would otherwise vanish from the crawl, its counts and
        its site's health.
        """
        read: dict[str, Any] = {}
        try:
            async for result in self._read_page(response, read):
                yield result
        except Exception as exc:
            logger.warning("reading %s failed: %s: %s", response.url, type(exc).__name__, exc,
                           exc_info=logger.isEnabledFor(logging.DEBUG))
            target: Target = response.meta["target"]
            yield self._item(response, target, status=response.status, rendered=bool(response.meta.get("rendered")),
                             html=read.get("html", response.body) or None, screenshot=read.get("screenshot"),
                             failures=[_row(error_failure(exc, response.status))])

    async def _read_page(self, response: Response, read: dict[str, Any]) -> AsyncIterator[Any]:
        """:meth:`on_page`'s work; ``read`` keeps the rendered HTML and screenshot once they exist."""
        from crawlers.extract import extract

        target: Target = response.meta["target"]
        cut = cut_off(response)
        if cut is not None:  # after the retries
            yield self._item(response, target, status=response.status, rendered=False, html=None, screenshot=None,
                             failures=[_row(Failure(FailureKind.TRUNCATED, response.status, cut))])
            return
        profile = response.meta.get("profile")
        rendered = bool(response.meta.get("rendered"))
        try:
            body, screenshot = await self._rendered(response)
        except RenderTimeout as exc:
            self._render_done(target, response.meta, ok=False, over_budget=True)
            yield self._item(response, target, status=response.status, rendered=True, html=response.body or None,
                             screenshot=None, failures=[_row(Failure(FailureKind.TIMEOUT, response.status, str(exc)))])
            return
        read.update(html=body, screenshot=screenshot)
        base = {"status": response.status, "rendered": rendered, "html": body, "screenshot": screenshot}
        status_kind = from_status(response.status)
        if status_kind is not None:  # reached only with handle_httpstatus; kept for safety
            yield self._item(response, target, **base, failures=[_row(Failure(status_kind, response.status))])
            return
        # A rendered page's HTML comes from the browser as UTF-8 whatever the site sent.
        encoding = "utf-8" if screenshot is not None else getattr(response, "encoding", None)
        extraction = extract(body, response.url, profile=profile, encoding=encoding,
                             undecided_below=self.undecided_below)
        has_price = extraction.price is not None or any(o.price is not None for o in extraction.sellers)
        undecided = extraction.undecided is not None
        kind = _EXTRACTION_FAILURES.get(extraction.failure or "") or block_kind(body, has_price=has_price or undecided)
        if rendered:
            self._render_done(target, response.meta, ok=kind is None and (
                has_price or undecided or extraction.price_visibility != "visible"), over_budget=screenshot is None)
        if kind is not None:
            detail = f"{kind.value} page" + (f" ({extraction.failure})" if extraction.failure else "")
            yield self._item(response, target, **base,
                             failures=[_row(Failure(kind, response.status, detail))])
            return
        if not rendered and self.browser and profile is not None and profile.render:
            yield self._render_or_skip(target, response, base)
            return
        hidden = extraction.price_visibility in {"cart_only", "login_only"}
        # An undecided page has prices but nothing singles out one: it is stored as such (neither a
        # price nor a failure) for a person to pick, not rendered again (the browser shows the same).
        if not has_price and not hidden and not undecided:
            if (extraction.looks_like_product and self.render_fallback and not rendered
                    and extraction.price_visibility != "not_shown"):
                # Static HTML had no price but the page is a product page: the price may be drawn by JS.
                yield self._render_or_skip(target, response, base)
                return
            yield self._item(response, target, **base,
                             failures=[_row(self._no_price(target, profile, extraction, response.status))])
            return
        if (has_price and not undecided and "price_placeholder" in extraction.flags and self.render_fallback
                and not rendered and extraction.price_visibility != "not_shown"
                and not self.breaker.is_open(target.site)):
            # The buy box's price slot is empty and the price came from the script state that fills it: the
            # rendered page says what a shopper is shown (the state may hold another variant's, a member's or
            # a stale price), and its reading replaces this one. (While the site's renders keep failing, the
            # state's reading is kept, flagged: it is confirmed before any partner hears of it.)
            yield self.request_for(target, render=True)
            return
        moved = _moved_elsewhere(target.url, response)
        if moved and (extraction.method in _UNIDENTIFIED or undecided) and not extraction.sellers:
            # The listing's address now leads to another page (a category, the home page, a
            # "similar products" page): a price read there from the visible page alone belongs to
            # whatever that page shows first, not to this listing's product (and prices that tie
            # there are other products' prices, not a question for a person).
            seen = extraction.raw_text if not undecided else f"undecided: {extraction.undecided}"
            yield self._item(response, target, **base, failures=[_row(Failure(
                FailureKind.NOT_PRODUCT, response.status,
                f"redirected to {response.url}, which shows no product data (read {seen!r} there, "
                "not recorded as a price)"))])
            return
        if moved:
            extraction.flags.append("redirected")  # to another address with product data: kept, and said
        if self._profile_stopped(target, profile, extraction):
            # A layout change is a crawl failure, never a price (DESIGN): the price another step
            # found on a page the profile no longer understands is kept in the failure's detail only.
            yield self._item(response, target, **base, failures=[_row(Failure(
                FailureKind.PROFILE_BROKEN, response.status,
                f"profile {getattr(profile, 'name', '?')} selectors matched nothing on a page they used to read; "
                f"{extraction.method} saw {extraction.raw_text!r}, not recorded as a price"))])
            return
        item = self._item(response, target, **base, extraction=extraction)
        cart = profile.cart if profile is not None else None
        if extraction.price_visibility == "cart_only" and cart:
            cart_url = _cart_url(cart["url"], target, response.url)
            if cart_url:
                yield scrapy.Request(cart_url, callback=self.on_cart, errback=self.on_cart_error,
                                     meta={"page_item": item, "profile": profile, "dont_redirect": False},
                                     dont_filter=True)
                return
        yield item

    def _render_or_skip(self, target: Target, response: Response, base: dict[str, Any]) -> Any:
        """The render request for ``target``, or a ``render_skipped`` failure while its site's breaker is open."""
        if not self.breaker.is_open(target.site):
            return self.request_for(target, render=True)  # the gate looks again when its turn comes
        if self.breaker.allow(target.site):
            request = self.request_for(target, render=True)
            request.meta[_PROBE] = True
            return request
        self.render_stats.skipped += 1
        return self._item(response, target, **base, failures=[_row(Failure(
            FailureKind.RENDER_SKIPPED, response.status, self._skipped_detail(target.site)))])

    def _skipped_detail(self, site: str) -> str:
        return (f"not rendered: {self.breaker.failures.get(site, 0)} renders of {site} in a row failed "
                f"(timeout, error or no price); one page in {self.breaker.every} is rendered until one gives a price")

    def render_gate(self, request: scrapy.Request) -> None:
        """Called by the browser's download handler before it opens a tab: raises :class:`RenderSkipped`
        for a page of a site whose renders keep failing (pages queued before the breaker opened)."""
        target: Target | None = request.meta.get("target")
        if target is None or request.meta.get(_PROBE) or self.breaker.allow(target.site):
            return
        raise RenderSkipped(self._skipped_detail(target.site))

    def _render_done(self, target: Target, meta: dict[str, Any], *, ok: bool, over_budget: bool = False) -> None:
        """Count a finished render (in the run's stats) and tell the site's breaker how it went."""
        self.breaker.record(target.site, ok)
        started = meta.get(RENDER_CLOCK)
        if started is not None:
            self.render_stats.add(started, meta.get(_RENDER_ENDED) or time.monotonic(), ok, over_budget)
        else:  # the browser never opened a tab for it (the launch failed)
            self.render_stats.rendered += 1
            self.render_stats.failed += 1

    def _no_price(self, target: Target, profile: Any, extraction: Any, status: int = 200) -> Failure:
        if profile is not None and target.url in self.profile_worked:
            return Failure(FailureKind.PROFILE_BROKEN, status,
                           f"profile {getattr(profile, 'name', '?')} selectors matched nothing on a page "
                           "they used to read")
        if extraction.price_visibility == "not_shown":
            said = next((f.split(":", 1)[1] for f in extraction.flags if f.startswith("no_price_shown:")), "")
            reason = {"on_request": "price on request",
                      "from_only": "only where its prices start, and nothing to buy at them"}.get(
                said, "no longer sold or sold out")
            return Failure(FailureKind.NO_PRICE, status, f"the page shows no price for the product ({reason})")
        if extraction.looks_like_product:
            return Failure(FailureKind.NO_PRICE, status, "product page without a price")
        return Failure(FailureKind.NOT_PRODUCT, status, "not a product page" if status != 204 else
                       "204 No Content: the server sent no page")

    def _profile_stopped(self, target: Target, profile: Any, extraction: Any) -> bool:
        return (
            profile is not None
            and "price" in getattr(profile, "selectors", {})
            and target.url in self.profile_worked
            and extraction.method != "profile"
            and not extraction.sellers
        )

    async def on_cart(self, response: Response) -> AsyncIterator[Any]:
        """The cart page of a hidden-price product: record the cart price in ``details`` (still hidden)."""
        item = response.meta["page_item"]
        try:
            await self._read_cart(response, item)
        except Exception as exc:
            # The page's own observation is kept; only the cart price is missing, and says why.
            logger.warning("reading cart %s failed: %s: %s", response.url, type(exc).__name__, exc)
            item["cart"] = {"url": response.url, "error": FailureKind.ERROR.value,
                            "detail": error_failure(exc, response.status).detail}
        yield item

    async def _read_cart(self, response: Response, item: dict[str, Any]) -> None:
        """Record the cart page's price (or why there is none) in ``item["cart"]``."""
        import dataclasses

        from crawlers.extract import extract
        from crawlers.profiles import Selector

        if DATALOSS in response.flags:
            item["cart"] = {"url": response.url, "error": FailureKind.TRUNCATED.value}
            return
        profile = response.meta["profile"]
        # The cart page is read with the same profile, its price selector being the cart's.
        cart_profile = dataclasses.replace(profile, selectors={"price": Selector(profile.cart["price"])},
                                           offers={}, cart={}, render=False, browser_steps=())
        cart = extract(response.body, response.url, profile=cart_profile,
                       encoding=getattr(response, "encoding", None))
        item["cart"] = {
            "url": response.url,
            "price": None if cart.price is None else str(cart.price),
            "currency": cart.currency,
            "raw_text": cart.raw_text,
        }

    async def on_cart_error(self, failure: TwistedFailure) -> AsyncIterator[Any]:
        """A cart that cannot be fetched leaves the hidden-price observation without a cart price."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
        item = request.meta["page_item"]
        item["cart"] = {"url": request.url, "error": from_exception(_value(failure)).kind.value}
        yield item

    async def on_error(self, failure: TwistedFailure) -> AsyncIterator[Any]:
        """A request that failed (HTTP error after retries, network, timeout, redirect loop...)."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
        page = request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        target: Target = request.meta["target"]
        if isinstance(failure.value, RenderSkipped):
            self.render_stats.skipped += 1
            yield self._item(request, target, status=None, html=None, screenshot=None, rendered=False,
                             failures=[_row(Failure(FailureKind.RENDER_SKIPPED, None, str(failure.value)))])
            return
        classified = from_exception(_value(failure))
        if request.meta.get("rendered"):
            self._render_done(target, request.meta, ok=False, over_budget=classified.kind == FailureKind.TIMEOUT)
        response = getattr(failure.value, "response", None)
        html = None
        if response is not None:
            html = response.body or None
            if classified.status in (403, 200) and html:
                kind = block_kind(html, has_price=False)
                if kind is not None:
                    classified = Failure(kind, classified.status, f"{kind.value} page (HTTP {classified.status})")
            gave_up = request.meta.get(GAVE_UP_META)
            if gave_up:
                classified = Failure(FailureKind.RATE_LIMITED, classified.status, gave_up)
        yield self._item(request, target, status=classified.status, html=html, screenshot=None,
                         rendered=bool(request.meta.get("rendered")), failures=[_row(classified)])

    async def _rendered(self, response: Response) -> tuple[bytes, bytes | None]:
        """The HTML after the profile's browser steps and a full-page screenshot; the plain body if not rendered."""
        page = response.meta.get("playwright_page")
        if page is None:
            return response.body, None
        try:
            started = response.meta.get(RENDER_CLOCK)
            html, shot, _how = await finish_render(
                page, page_methods(response.meta.get("browser_steps")), url=response.url,
                started=started if started is not None else time.monotonic(), budget=self.render_budget)
            return html, shot
        finally:
            response.meta[_RENDER_ENDED] = time.monotonic()
            await page.close()


_PROBE = "pricewarden_render_probe"  # a page rendered while its site's breaker is open, to test it
_RENDER_ENDED = "pricewarden_render_ended"

_PAGE_END = re.compile(rb"</(?:html|body)\s*>", re.I)


def cut_off(response: Response) -> str | None:
    """Why a static response holds only part of its page, if it does.

    A compressed body that stops before its end (``dataloss``, see :mod:`crawlers.compression`);
    a 206 Partial Content (the crawl never asks for a range); or a body with no length that ended
    when the connection closed (Scrapy's ``partial``: HTTP/1.0-style) without the page's end tag.
    """
    if DATALOSS in response.flags:
        return str(response.meta.get("pricewarden_dataloss", "truncated body"))
    if response.status == 206:
        return "206 Partial Content: only part of the page was sent"
    if "partial" in response.flags and not _PAGE_END.search(response.body[-4096:]):
        return "the connection closed before the end of the page (no Content-Length, no </html>)"
    return None


# Prices read from the visible page alone, with no product data naming what they belong to.
_UNIDENTIFIED = frozenset({"heuristic"})


def _moved_elsewhere(listed: str, response: Response) -> bool:
    """Whether the listing's URL was redirected (HTTP or meta refresh) to a different page.

    The same page is the same path, whatever the scheme, a ``www.`` prefix, a trailing slash or
    the query (tracking and variant parameters).
    """
    if not response.meta.get("redirect_urls"):
        return False

    def page_of(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return (host.removeprefix("www."), parts.path.rstrip("/").lower() or "/")

    return page_of(listed) != page_of(response.url)


def _value(failure: TwistedFailure) -> BaseException:
    return failure.value if failure.value is not None else RuntimeError("unknown download failure")


def error_failure(exc: BaseException, status: int | None = None) -> Failure:
    """The ``error`` failure of a page whose reading raised ``exc``: the exception's type and text."""
    text = str(exc) or repr(exc)
    return Failure(FailureKind.ERROR, status, f"reading the page failed: {type(exc).__name__}: {text}"[:2000])


def _row(failure: Failure) -> dict[str, Any]:
    return {"kind": failure.kind.value, "status": failure.status, "detail": failure.detail}


def _cart_url(template: str, target: Target, page_url: str) -> str | None:
    parts = urlsplit(page_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    url = str(template).format(origin=origin, sku=target.sku or "", url=page_url)
    return urljoin(page_url, url)
