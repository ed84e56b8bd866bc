"""Bare ``itemprop=price`` in a block of other products is theirs, not the page's structured price.

Some platforms mark up the price of every tile of "Other customers also bought" with ``itemprop="price"``
and no ``itemscope``, while the product itself carries JSON-LD (here a wrong one, the RRP) and no microdata.
Those tiles were read as three rival structured sources and left the page undecided (heldout23's chemist).
"""

from __future__ import annotations

from decimal import Decimal

from crawlers.extract import extract

_PAGE = """<!doctype html><html lang="en-AU"><head><title>Fish Oil 1000mg 400 Capsules</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Product",
"name": "Fish Oil 1000mg 400 Capsules", "offers": {{"@type": "Offer", "priceCurrency": "AUD", "price": "54.99"}}}}
</script></head><body>
<ul class="breadcrumb" itemscope itemtype="http://schema.org/BreadcrumbList"><li>Home</li></ul>
<div class="product"><h1>Fish Oil 1000mg 400 Capsules</h1>
<div class="price-box"><span class="price">$29.99</span> <span class="rrp">RRP <s>$54.99</s></span>
<span class="save">Save $25.00 (45%)</span></div>
<button type="submit">Add to Cart</button></div>
<div class="{block}"><h3>Other customers also bought</h3>
<div class="thumbnail"><a href="/fish-oil-200">Fish Oil 200 Capsules</a>
<p class="price"><span itemprop="price">$17.99</span></p>
<p class="rrp">RRP $32.99</p></div>
<div class="thumbnail"><a href="/glucosamine">Glucosamine 180 Tablets</a>
<p class="price"><span itemprop="price">$24.99</span>
</p><p class="rrp">RRP $44.99</p></div>
<div class="thumbnail"><a href="/vitamin-d3">Vitamin D3 250 Capsules</a>
<p class="price"><span itemprop="price">$12.49</span>
</p></div></div>
</body></html>"""


def test_bare_itemprop_prices_in_an_also_bought_block_are_not_the_pages() -> None:
    ext = extract(_PAGE.format(block="thumbnail-related"), "https://www.chemist.example.com.au/fish-oil-400")
    assert ext.price == Decimal("29.99"), (ext.flags, ext.undecided, ext.candidates)
    assert not any(c.method == "microdata" for c in ext.candidates)


def test_bare_itemprop_prices_elsewhere_still_count() -> None:
    """A block whose name says nothing about other products keeps its bare itemprop prices as structured data."""
    ext = extract(_PAGE.format(block="more-info"), "https://www.chemist.example.com.au/fish-oil-400")
    assert {c.price for c in ext.candidates if c.method == "microdata"} == {Decimal("17.99"), Decimal("24.99"),
                                                                          Decimal("12.49")}
