"""The marketplace family: product pages with several sellers' offers and a buy box, search and category pages."""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from demo.pages import shell, usd


@dataclass(frozen=True, slots=True)
class Offer:
    """One seller's offer on a marketplace product page."""

    seller_id: str
    seller: str
    price: Decimal
    partner: str | None


def buy_box(offers: list[Offer]) -> Offer:
    """The winning offer: lowest price, ties broken by seller id."""
    return min(offers, key=lambda o: (o.price, o.seller_id))


def product_page(seed: int, key: str, title: str, sku: str, offers: list[Offer], reviews: int) -> bytes:
    """``/dp/<asin>``: title, buy box, the full offer list, and the usual traps near the price."""
    box = buy_box(offers)
    rows = "".join(
        f'<div class="offer" data-seller-id="{o.seller_id}"><span class="offer-price">{usd(o.price)}</span>'
        f'<span class="offer-condition">New</span><span class="seller" data-seller-id="{o.seller_id}">'
        f'{html.escape(o.seller)}</span><span class="offer-ship">FREE delivery on orders over $35</span></div>'
        for o in offers)
    main = (f'<h1 id="title">{html.escape(title)}</h1><span class="asin-sku" data-sku="{sku}">Model {sku}</span>'
            f'<div id="buybox" data-seller-id="{box.seller_id}"><span class="bb-price">{usd(box.price)}</span>'
            f' Ships from and sold by <a class="bb-seller" href="/seller/{box.seller_id}">{html.escape(box.seller)}'
            f'</a><div class="financing">or {usd((box.price / 12).quantize(Decimal("0.01")))}/mo (12 mo.)</div>'
            f'<a class="rating" href="#reviews">({reviews:,} ratings)</a></div>'
            f'<div id="offers"><h2>Other sellers on Marketplace ({len(offers)})</h2>{rows}</div>')
    return shell(seed, key, "en", title, "", main).encode()


def listing_page(seed: int, key: str, heading: str, rows: list[tuple[str, str, str, Offer, int]],
                 *, search: bool) -> bytes:
    """A search (``/s?k=``) or category (``/c/<name>``) page: (asin, title, sku, offer, offer count) per row."""
    cls = "s-result" if search else "cat-item"
    items = "".join(
        f'<div class="{cls}" data-asin="{asin}" data-sku="{sku}"><a class="s-title" href="/dp/{asin}">'
        f'{html.escape(title)}</a><span class="s-price">{usd(o.price)}</span><span class="s-seller" '
        f'data-seller-id="{o.seller_id}">{html.escape(o.seller)}</span><span class="s-more">{n} offers</span></div>'
        for asin, title, sku, o, n in rows)
    main = f'<h1>{html.escape(heading)}</h1><div class="results">{items}</div>'
    return shell(seed, key, "en", heading, "", main).encode()
