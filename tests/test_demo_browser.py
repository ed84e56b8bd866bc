"""The JavaScript shop in real Chromium: the price appears only after the XHR, where the profile waits for it."""

from __future__ import annotations

import urllib.request
from decimal import Decimal

import lxml.html
import pytest

from crawlers.settings import chromium_launch_options
from demo import World, serve
from demo.pages import show

pytestmark = pytest.mark.browser


def test_js_shop_renders_the_truth_price_after_load() -> None:
    from playwright.sync_api import sync_playwright

    world = World(seed=7, products=20, day=9)
    with serve(world) as running:
        truth = world.truth(9, running.origins)
        page_truth = next(p for p in truth["pages"] if p["family"] == "jsshop" and p["failure"] is None)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**chromium_launch_options())
            try:
                # The price is fetched 150 ms after the load event: the HTML as served has none (read
                # from the served bytes: on a busy machine the browser may have run the script already).
                served = lxml.html.fromstring(urllib.request.urlopen(page_truth["url"], timeout=30).read())
                assert served.cssselect("#price-slot .loading") and not served.cssselect("#price-slot span.price")
                page = browser.new_page()
                page.goto(page_truth["url"], wait_until="domcontentloaded")
                page.wait_for_selector("span.price")  # the profile's browser step
                shown = page.inner_text("#price-slot span.price")
                assert shown == show(Decimal(page_truth["price"]), "USD")
                assert page.inner_text("#stock") in ("In stock", "Out of stock")
            finally:
                browser.close()
