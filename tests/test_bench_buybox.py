"""The tally of ``bench/bench_buybox.py --pages-from``: what confirmation lets through to a partner, page by page."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from crawlers.buybox import BuyBoxReading

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (bench/ is scripts, not an installed package)
from bench.bench_buybox import Row, tally


def _row(first: str, price: str | None, shown: str | None, *, currency: str = "EUR", advertised: str | None = None,
         needs: bool = True, rendered: bool = True, around: str | None = None) -> Row:
    reading = BuyBoxReading(None if shown is None else Decimal(shown), currency if shown else None, shown, {},
                            around=around)
    return Row("set", "id", "https://shop.example/p", frozenset({Decimal("10.00")}), "EUR", first,
               None if price is None else Decimal(price), None if advertised is None else Decimal(advertised),
               "EUR", "json-ld", 0.86, needs, reading if rendered else None)


def test_agreement_is_the_judged_or_advertised_amount_in_the_first_readings_currency() -> None:
    assert _row("right", "10.00", "10").agreed  # (the same amount, however written)
    # The price before a coupon, while the rendered page still shows the coupon around it; not without it.
    assert _row("right", "8.00", "10.00", advertised="10.00", around="€10.00 Coupon: save €2.00 at checkout").agreed
    assert not _row("wrong", "8.00", "10.00", advertised="10.00", around="€10.00 Add to cart").agreed
    assert not _row("wrong", "8.00", "10.00", advertised="10.00").agreed
    assert not _row("right", "10.00", "10.00", currency="USD").agreed
    assert not _row("right", "10.00", None).agreed
    assert not _row("right", "10.00", "10.00", rendered=False).agreed


def test_the_tally_counts_what_reaches_a_partner_what_is_held_and_what_is_caught() -> None:
    t = tally([
        _row("right", "10.00", "10.00"),  # agreed, right
        _row("wrong", "12.00", "12.00"),  # agreed, wrong: reaches a partner
        _row("right", "10.00", "9.00"),  # held: the cost
        _row("wrong", "12.00", None),  # caught
        _row("wrong", "11.00", "10.00", needs=False),  # stands alone: reaches a partner unread
        _row("none", None, "10.00", rendered=True),
        _row("undecided", None, None, rendered=False),
    ])
    assert (t["pages"], t["truth_priced"], t["first_right"], t["first_wrong"]) == (7, 7, 2, 3)
    assert (t["second_right"], t["second_wrong"], t["second_none"], t["second_failed"]) == (3, 2, 1, 1)
    assert (t["agreed_right"], t["agreed_wrong"], t["held_right"], t["held_wrong"]) == (1, 1, 1, 2)
    assert (t["partner_right"], t["partner_wrong"], t["alone_wrong"]) == (1, 2, 1)


def test_styles_says_which_saved_pages_carry_css_and_which_lost_a_stylesheet() -> None:
    from bench.bench_buybox import styles

    assert styles(b"<html><head><style>.p{font-size:30px}</style></head></html>") == (True, False)
    assert styles(b'<p style="font-weight:700">$1</p><link rel="stylesheet" href="/a.css">') == (True, True)
    assert styles(b"<link rel=stylesheet href=/a.css><p>$1</p>") == (False, True)
    assert styles(b"<p>$1</p>") == (False, False)


def test_the_bench_renders_a_saved_page_with_its_own_css_and_not_its_linked_stylesheet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the bench's own server as the network policy's upstream proxy, in real Chromium: the page's
    ``<style>`` and ``style`` attribute apply, its linked stylesheet (not saved) is answered 404 and does not."""
    import queue
    import threading

    from bench.bench_buybox import _offline_names, _page_key, _serve_pages
    from crawlers.buybox import read_buy_boxes
    from pricewarden.settings import get_settings

    html = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><style>.now{font-size:34px}</style>'
            b'<link rel="stylesheet" href="/static/app.css"></head><body><main><h1>Acme</h1>'
            b'<p><span class="now" style="font-weight:800">$49.00</span> <span>$9.99</span></p>'
            b'<button>Add to cart</button></main></body></html>')
    pages = {_page_key("https://shop.example/p/1"): html}  # (and no /static/app.css: answered 404)
    ports: queue.Queue[int] = queue.Queue()
    threading.Thread(target=_serve_pages, args=(pages, ports), daemon=True).start()
    monkeypatch.setenv("PRICEWARDEN_CRAWL__PROXY", f"http://127.0.0.1:{ports.get(timeout=30)}")
    get_settings.cache_clear()
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)  # (restored after: _offline_names replaces it)
    _offline_names()
    reading = read_buy_boxes({1: "http://shop.example/p/1"}, currencies={1: "USD"})[1]
    assert (reading.price, reading.currency) == (Decimal("49.00"), "USD")
    assert (reading.where["font_size"], reading.where["font_weight"]) == (34, 800)
