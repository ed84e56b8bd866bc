"""Re-capture evidence: a full-page screenshot of any URL or observation, stored by SHA-256.

Detection and flows call :func:`capture_screenshots` for each observation that breaks the policy so
that every violation has a picture, even when the page was crawled statically. Playwright runs in a
thread of its own with its own event loop, so the caller may be inside a running loop (Prefect).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from contextlib import nullcontext
from typing import Any

from pricewarden.errors import CrawlError

logger = logging.getLogger(__name__)

# Measures a rendered page: (page, render clock start, budget in seconds, url) -> its answer (crawlers.buybox).
Probe = Callable[[Any, float, float, str], Awaitable[Any]]
# A page taller than this (an endless feed) is photographed down to here: the buy box is at the top.
MAX_SHOT_HEIGHT = 30_000


async def full_page_png(page: Any) -> bytes:
    """A full-page PNG of a Playwright page, as Chromium encodes it fastest.

    Chromium's own ``Page.captureScreenshot`` beyond the viewport with ``optimizeForSpeed`` costs
    about a third less than Playwright's full-page screenshot (which resizes the viewport and
    encodes for size). Browsers without CDP get Playwright's screenshot.

    A page that fits in the viewport is captured as shown, not beyond it: capturing beyond the
    viewport resizes the view, and a cross-site frame (drawn by a renderer process of its own) that
    has not drawn itself again at the new size by then is left blank (7 shots in 12 on a busy
    machine, none within the viewport).
    """
    try:
        cdp = await page.context.new_cdp_session(page)
    except Exception:  # not Chromium
        shot: bytes = await page.screenshot(full_page=True, type="png")
        return shot
    try:
        metrics = await cdp.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        view = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
        clip = {"x": 0, "y": 0, "width": max(1, math.ceil(size["width"])),
                "height": max(1, min(MAX_SHOT_HEIGHT, math.ceil(size["height"]))), "scale": 1}
        beyond = clip["width"] > view["clientWidth"] or clip["height"] > view["clientHeight"]
        result = await cdp.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": beyond, "optimizeForSpeed": True, "clip": clip})
        return base64.b64decode(result["data"])
    finally:
        with contextlib.suppress(Exception):
            await cdp.detach()


async def _shoot(urls: dict[Any, str], concurrency: int, timeout_ms: float, *, html: bool = False,
                 probe: Probe | None = None, pictures: Collection[Any] = ()) -> dict[Any, Any]:
    """Each page's full-page screenshot (``html``: its rendered HTML; ``probe``: its answer), in a new Chromium."""
    from playwright.async_api import async_playwright

    from crawlers.network import FilteringProxy
    from crawlers.settings import chromium_launch_options
    from pricewarden.settings import get_settings

    settings = get_settings()
    # Every request of the pages goes through the network policy's filtering proxy.
    async with FilteringProxy.from_settings(settings) as proxy, async_playwright() as pw:
        browser = await pw.chromium.launch(**chromium_launch_options(settings, proxy=proxy))
        try:
            return await _shoot_in(browser, urls, concurrency, timeout_ms, html=html, probe=probe,
                                   pictures=pictures)
        finally:
            await browser.close()


async def _shoot_in(browser: Any, urls: dict[Any, str], concurrency: int, timeout_ms: float, *,
                    html: bool = False, probe: Probe | None = None,
                    pictures: Collection[Any] = ()) -> dict[Any, Any]:
    """Each page's full-page screenshot (or HTML, or ``probe``'s answer), rendered as a crawl renders, in a new
    context of ``browser``. With ``probe``, the pages whose keys are in ``pictures`` are photographed too, right
    after the probe and within the same budget: their answer is ``(probe's answer, PNG or None)``."""
    from crawlers.rendering import _bounded, finish_render
    from crawlers.settings import CHROMIUM_CONTEXT
    from pricewarden.settings import get_settings

    settings = get_settings()
    shots: dict[Any, Any] = {}
    gate = asyncio.Semaphore(concurrency)
    context = await browser.new_context(**CHROMIUM_CONTEXT, user_agent=settings.crawl.user_agent,
                                        viewport={"width": 1280, "height": 900})

    async def one(key: Any, url: str) -> None:
        async with gate:
            page = await context.new_page()
            started = time.monotonic()
            try:
                # As a crawl renders (crawlers.rendering): the DOM, then a price or a quiet network,
                # all within the render budget; never every third-party resource's "load".
                await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
                if probe is not None:  # a measurement of the page instead of its picture (crawlers.buybox)
                    deadline = started + timeout_ms / 1000
                    answer = await asyncio.wait_for(probe(page, started, timeout_ms / 1000, url),
                                                    max(0.1, deadline - time.monotonic()))
                    if key not in pictures:
                        shots[key] = answer
                        return
                    # The same page's picture, as finish_render would take it (the probe only reads the page).
                    picture: bytes | None = None
                    with contextlib.suppress(TimeoutError):
                        picture = await _bounded(full_page_png(page), deadline)
                    shots[key] = (answer, picture)
                    return
                rendered, shot, _how = await finish_render(page, [], started=started,
                                                           budget=timeout_ms / 1000, url=url)
                if html:
                    shots[key] = rendered
                    return
                if shot is None:
                    raise TimeoutError(f"the render budget of {timeout_ms / 1000:g} s ended before the screenshot")
                shots[key] = shot
            except Exception as exc:  # one page's failure must not lose the others' pictures
                logger.warning("screenshot of %s failed: %s", url, exc)
            finally:
                await page.close()

    try:
        await asyncio.gather(*(one(key, url) for key, url in urls.items()))
    finally:
        await context.close()
    return shots


def _run_in_thread(urls: dict[Any, str], concurrency: int, timeout_ms: float, *,
                   html: bool = False, probe: Probe | None = None, pictures: Collection[Any] = ()) -> dict[Any, Any]:
    from crawlers.shared_browser import current

    shared = current()
    if shared is not None and shared.start():
        # The cycle's one Chromium for its evidence (crawlers.shared_browser): no launch of its own.
        try:
            return shared.run(lambda browser: _shoot_in(browser, urls, concurrency, timeout_ms, html=html,
                                                        probe=probe, pictures=pictures))
        except Exception as exc:
            raise CrawlError(f"screenshots failed: {exc}", kind="browser") from exc
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["shots"] = asyncio.run(_shoot(urls, concurrency, timeout_ms, html=html, probe=probe,
                                                 pictures=pictures))
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, name="pricewarden-screenshots")
    thread.start()
    thread.join()
    if "error" in result:
        raise CrawlError(f"screenshots failed: {result['error']}", kind="browser") from result["error"]
    shots: dict[Any, Any] = result["shots"]
    return shots


def render_pages(urls: dict[Any, str]) -> dict[Any, bytes]:
    """The HTML of each page after Chromium rendered it (as a crawl renders, under the network policy).

    One browser for all of them; a page that cannot be rendered is missing from the result (and logged).
    """
    from pricewarden.settings import get_settings

    if not urls:
        return {}
    settings = get_settings()
    return _run_in_thread(urls, settings.crawl.browser_concurrency, settings.crawl.render_budget * 1000, html=True)


def capture_screenshots(
    items: Iterable[int | str], *, session: Any = None, concurrency: int | None = None,
    taken: Mapping[str, bytes] | None = None,
) -> dict[int | str, str]:
    """Full-page screenshots of URLs and/or observations (by id); returns ``{id or url: evidence sha256}``.

    An observation without a screenshot gets this one as its ``screenshot_sha256``; one that has a
    screenshot keeps it (evidence is never replaced) and the new picture is only returned. Pages that
    cannot be captured, even on a second try one at a time with twice the budget, are missing from the
    result (and logged). ``taken``: pictures of some of these pages (by URL) taken moments ago, in the same
    step, by a render made for another reason (the second reading of a price, :func:`crawlers.buybox.read_buy_boxes`
    with ``pictures``): filed as they are, those pages are not rendered again.
    """
    from sqlalchemy import select

    from pricewarden.settings import get_settings
    from store.db import session_scope
    from store.evidence import EvidenceStore
    from store.models import Observation

    items = list(items)
    settings = get_settings()
    with session_scope() if session is None else nullcontext(session) as session:
        ids = [i for i in items if isinstance(i, int)]
        observations = {o.id: o for o in session.scalars(select(Observation).where(Observation.id.in_(ids)))}
        urls: dict[int | str, str] = {}
        for item in items:
            if isinstance(item, int):
                obs = observations.get(item)
                if obs is None or not obs.url:
                    logger.warning("observation %s has no URL to capture", item)
                    continue
                urls[item] = obs.url
            else:
                urls[item] = item
        if not urls:
            return {}
        budget = settings.crawl.render_budget * 1000
        shots: dict[Any, Any] = {key: taken[url] for key, url in urls.items() if taken and taken.get(url)}
        render = {key: url for key, url in urls.items() if key not in shots}
        if render:
            shots.update(_run_in_thread(render, concurrency or settings.crawl.browser_concurrency, budget))
        missed = {key: url for key, url in urls.items() if key not in shots}
        if missed:
            # Evidence for an accusation is worth a second try: on a busy machine the pages shot side by side
            # miss their budget together. Once more, one page at a time, with twice the budget.
            logger.info("screenshots: %d of %d missed; once more, one at a time", len(missed), len(urls))
            shots.update(_run_in_thread(missed, 1, 2 * budget))
        store = EvidenceStore.from_settings()
        result: dict[int | str, str] = {}
        for key in [key for key in urls if key in shots]:  # in the order asked
            png = shots[key]
            sha = store.put(session, png, kind="screenshot", content_type="image/png", compress=False)
            result[key] = sha
            obs = observations.get(key) if isinstance(key, int) else None
            if obs is not None and obs.screenshot_sha256 is None:
                obs.screenshot_sha256 = sha
        session.flush()
        return result
