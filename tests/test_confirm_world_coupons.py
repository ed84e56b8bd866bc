"""The sandbox world's coupon pages are still confirmed by the second reading, in real Chromium.

A deals page shows its price before a coupon and the coupon ("Clip coupon: extra $5.00 off at
checkout"); a CN page its price, the shop's coupon and the price after it (到手价). The first reading
(the cascade, no site profile) judges the price after the coupon; the buy box shows the price before
it, and the coupon is still shown around it: ``agrees`` confirms each of them (five of each family).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from decimal import Decimal

import pytest

from demo import Running, World, serve

DAY = 4


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with serve(World(seed=7, products=50, day=DAY)) as started:
        yield started


def test_every_coupon_page_of_the_world_is_confirmed_by_its_buy_box(running: Running) -> None:
    from crawlers.buybox import read_buy_boxes
    from crawlers.extract import extract
    from detection.confirm import agrees

    truth = running.world.truth(DAY, running.origins)
    coupons = [p for p in truth["pages"] if p.get("coupon") and p["failure"] is None
               and p.get("page_type") in ("product", "offers")]
    assert {p["family"] for p in coupons} == {"deals", "cnmall", "cngbk"}
    pages = [p for family in ("deals", "cnmall", "cngbk") for p in [p for p in coupons if p["family"] == family][:5]]
    firsts = {}
    for i, page in enumerate(pages):
        with urllib.request.urlopen(page["url"], timeout=10) as response:
            found = extract(response.read(), page["url"])
        judged = found.effective_price if found.effective_price is not None else found.price
        assert judged == Decimal(page["price"]), page["url"]
        if found.price != judged:  # (judged after a coupon: only the advertised price can confirm it)
            firsts[i] = (judged, found.price, found.currency)
    assert {pages[i]["family"] for i in firsts} == {"deals", "cnmall", "cngbk"}
    readings = read_buy_boxes({i: pages[i]["url"] for i in firsts}, currencies={i: f[2] for i, f in firsts.items()})
    for i, (judged, advertised, currency) in firsts.items():
        reading = readings[i]
        assert reading.price == advertised and agrees(reading, judged, currency, advertised=advertised), (
            pages[i]["url"], reading)
        assert not agrees(reading, judged - 1, currency, advertised=advertised)  # (another reduction: held)
