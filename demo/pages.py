"""HTML of partner product pages, one renderer per storefront family, each showing its price its own way."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from demo.weight import filler, pools

SCHEMA_AVAIL = {"in_stock": "https://schema.org/InStock", "out_of_stock": "https://schema.org/OutOfStock"}


def usd(amount: Decimal) -> str:
    """``$1,299.00``."""
    return f"${amount:,.2f}"


def eur(amount: Decimal) -> str:
    """``1.299,00 €`` (German grouping and decimal comma)."""
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{text} €"


def cny(amount: Decimal, *, gbk: bool = False) -> str:
    """``¥1299.00``; GBK pages use the full-width ``￥`` (``¥`` is not in GBK)."""
    return f"{'￥' if gbk else '¥'}{amount:.2f}"


def show(amount: Decimal, currency: str, *, gbk: bool = False) -> str:
    """``amount`` as the family's shoppers read it."""
    return {"USD": usd, "EUR": eur}.get(currency, lambda a: cny(a, gbk=gbk))(amount)


@dataclass
class PageSpec:
    """Everything a renderer needs for one product page on one day."""

    seed: int
    key: str
    family: str
    shop: str
    title: str
    sku: str
    gtin: str
    handle: str
    currency: str
    price: Decimal | None          # advertised (effective) price; None when hidden in the cart
    sale: Decimal | None = None    # shown price before a coupon
    list_price: Decimal | None = None
    coupon: Decimal | None = None
    high: Decimal | None = None    # top of the variant price range
    cart_price: Decimal | None = None
    availability: str = "in_stock"
    layout_changed: bool = False
    reviews: int = 0
    related: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (title, url, price)
    xhr_url: str = ""
    cart_url: str = ""


def _related(spec: PageSpec, gbk: bool = False) -> str:
    items = "".join(f'<li class="rel"><a href="{html.escape(u)}">{html.escape(t)}</a> '
                    f'<span class="rel-price">{show(p, spec.currency, gbk=gbk)}</span></li>'
                    for t, u, p in spec.related)
    head = {"EUR": "Kunden kauften auch", "CNY": "看了又看"}.get(spec.currency, "Customers also viewed")
    return f'<aside class="related"><h2>{head}</h2><ul>{items}</ul></aside>'


def _traps(spec: PageSpec) -> str:
    """Numbers that sit near the price and are not the price: installments, shipping, review counts."""
    base = spec.price if spec.price is not None else (spec.cart_price or Decimal(0))
    monthly = (base / 12).quantize(Decimal("0.01"))
    if spec.currency == "EUR":
        count = f"{spec.reviews:,}".replace(",", ".")
        return (f'<div class="versand">Kostenloser Versand ab 50,00 €</div><div class="rate">ab {eur(monthly)} '
                f'/ Monat (12 Raten)</div><a class="bewertung" href="#reviews">({count} Bewertungen)</a>')
    if spec.currency == "CNY":
        gbk = spec.family == "cngbk"
        return (f'<div class="fenqi">分期 {cny(monthly, gbk=gbk)}/期 × 12</div><div class="baoyou">满99包邮</div>'
                f'<div class="sales">月销 {spec.reviews}+ · 累计评价 {spec.reviews * 3}</div>')
    return (f'<div class="promo-strip">Free shipping on orders over $50</div><div class="financing">or '
            f'{usd(monthly)}/mo for 12 months with PayLater</div><a class="rating" href="#reviews">4.6 out of 5 '
            f"({spec.reviews:,} reviews)</a>")


def _jsonld(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    offer: dict[str, object]
    if spec.high is not None:
        offer = {"@type": "AggregateOffer", "lowPrice": f"{spec.price:.2f}", "highPrice": f"{spec.high:.2f}",
                 "offerCount": 3, "priceCurrency": spec.currency}
        visible = f"{show(spec.price, spec.currency)} – {show(spec.high, spec.currency)}"
    else:
        offer = {"@type": "Offer", "price": f"{spec.price:.2f}", "priceCurrency": spec.currency}
        visible = show(spec.price, spec.currency)
    offer.update({"availability": SCHEMA_AVAIL[spec.availability], "seller": {"@type": "Organization",
                                                                             "name": spec.shop}})
    data = {"@context": "https://schema.org", "@type": "Product", "name": spec.title, "sku": spec.sku,
            "gtin13": spec.gtin, "brand": {"@type": "Brand", "name": "Acme Audio"}, "offers": offer}
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Audio"}, {"@type": "ListItem", "position": 2,
                                                                "name": spec.title}]}
    head = (f'<script type="application/ld+json">{json.dumps(crumbs, ensure_ascii=False)}</script>'
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>')
    variants = ""
    if spec.high is not None:
        variants = ('<select class="variant"><option>Black</option><option>Silver</option>'
                    "<option>Limited</option></select>")
    main = (f'<h1 class="product-title">{html.escape(spec.title)}</h1><div class="product-price">'
            f'<span class="price">{visible}</span>{variants}</div>'
            f'<p class="availability">{"In stock" if spec.availability == "in_stock" else "Sold out"}</p>')
    return head, main


def _microdata(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    main = (f'<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">{html.escape(spec.title)}'
            f'</h1><meta itemprop="sku" content="{spec.sku}"><meta itemprop="gtin13" content="{spec.gtin}">'
            f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
            f'<meta itemprop="priceCurrency" content="{spec.currency}">'
            f'<span class="amount" itemprop="price" content="{spec.price:.2f}">{show(spec.price, spec.currency)}'
            f'</span><link itemprop="availability" href="{SCHEMA_AVAIL[spec.availability]}"></div></div>')
    return "", main


def _opengraph(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    avail = "instock" if spec.availability == "in_stock" else "oos"
    head = (f'<meta property="og:type" content="product"><meta property="og:title" '
            f'content="{html.escape(spec.title)}"><meta property="product:price:amount" content="{spec.price:.2f}">'
            f'<meta property="product:price:currency" content="{spec.currency}">'
            f'<meta property="product:availability" content="{avail}">'
            f'<meta property="product:retailer_item_id" content="{spec.sku}">')
    main = (f'<h1>{html.escape(spec.title)}</h1><div class="pp"><div class="pp-amt">'
            f"{show(spec.price, spec.currency)}</div></div>")
    return head, main


def _rdfa(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    main = (f'<div vocab="https://schema.org/" typeof="Product"><h1 property="name">{html.escape(spec.title)}</h1>'
            f'<span property="sku">{spec.sku}</span><div property="offers" typeof="Offer">'
            f'<meta property="priceCurrency" content="{spec.currency}"><span property="price" '
            f'content="{spec.price:.2f}">{show(spec.price, spec.currency)}</span>'
            f'<link property="availability" href="{SCHEMA_AVAIL[spec.availability]}"></div></div>')
    return "", main


def _plain(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    stock = "In stock" if spec.availability == "in_stock" else "Out of stock"
    was = usd(spec.list_price) if spec.list_price else ""
    if spec.layout_changed:
        main = (f'<div class="pdp" data-product="{spec.sku}"><h2 class="pdp-name">{html.escape(spec.title)}</h2>'
                f'<div class="pdp-price"><s class="pdp-price__compare">{was}</s><span class="pdp-price__value">'
                f'{usd(spec.price)}</span></div><p class="availability-msg">{stock}</p></div>')
    else:
        main = (f'<h1>{html.escape(spec.title)}</h1><div data-sku="{spec.sku}" class="item-no">Item {spec.sku}</div>'
                f'<div class="buybox"><span class="price-was">{was}</span> <span class="price-now">'
                f'{usd(spec.price)}</span><span class="stock">{stock}</span></div>')
    return "", main


def _jsshop(spec: PageSpec) -> tuple[str, str]:
    # The price is not in the HTML: a script fetches it after load and writes span.price.
    script = ("<script>window.addEventListener('load',function(){setTimeout(function(){fetch("
              f"{json.dumps(spec.xhr_url)}).then(function(r){{return r.json()}}).then(function(d){{"
              "var s=document.getElementById('price-slot');s.innerHTML='<span class=\"price\" data-currency=\"'"
              "+d.currency+'\">'+d.display+'</span>';document.getElementById('stock').textContent="
              "d.available?'In stock':'Out of stock';})},150)});</script>")
    main = (f'<div id="app"><h1>{html.escape(spec.title)}</h1><div id="price-slot" data-sku="{spec.sku}">'
            f'<span class="loading">Loading price…</span></div><p id="stock"></p></div>{script}')
    return "", main


def _cn(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None and spec.sale is not None
    gbk = spec.family == "cngbk"
    coupon = '<div class="coupon">店铺券 满300减50</div>' if spec.coupon else ""
    listp = f'<span class="origin-price">原价 <del>{cny(spec.list_price, gbk=gbk)}</del></span>' \
        if spec.list_price else ""
    stock = "有货" if spec.availability == "in_stock" else "无货"
    main = (f'<div class="tb-detail"><h1 class="tb-title">{html.escape(spec.title)}</h1><div class="price-box">'
            f'{listp}<span class="sale-price">售价 <em>{cny(spec.sale, gbk=gbk)}</em></span>{coupon}'
            f'<div class="final-price">到手价 <span class="value">{cny(spec.price, gbk=gbk)}</span></div></div>'
            f'<div class="stock">{stock}</div><div class="sku-code">商品编号 {spec.sku}</div></div>')
    return "", main


def _eu(spec: PageSpec) -> tuple[str, str]:
    assert spec.price is not None
    uvp = f'<span class="uvp">UVP {eur(spec.list_price)}</span>' if spec.list_price else ""
    stock = "Auf Lager" if spec.availability == "in_stock" else "Derzeit nicht verfügbar"
    main = (f'<div class="produkt"><h1>{html.escape(spec.title)}</h1><span class="artnr">Art.-Nr. {spec.sku}</span>'
            f'<div class="preis"><span class="betrag">{eur(spec.price)}</span><span class="mwst">inkl. MwSt., '
            f'zzgl. Versand</span></div>{uvp}<p class="lieferbar">{stock}</p></div>')
    return "", main


def _cart(spec: PageSpec) -> tuple[str, str]:
    if spec.price is None:
        box = (f'<div class="price-hidden">Add to cart to see price <a class="add-to-cart" '
               f'href="{html.escape(spec.cart_url)}">Add to cart</a></div>')
    else:
        box = f'<div class="price-box"><span class="our-price">{usd(spec.price)}</span></div>'
    return "", f'<h1>{html.escape(spec.title)}</h1><div class="sku">{spec.sku}</div>{box}'


def _deals(spec: PageSpec) -> tuple[str, str]:
    assert spec.sale is not None
    listp = f'<span class="price-list">List: <s>{usd(spec.list_price)}</s></span>' if spec.list_price else ""
    coupon = (f'<div class="coupon" data-amount="{spec.coupon:.2f}">Clip coupon: extra <span class="coupon-amount">'
              f"{usd(spec.coupon)}</span> off at checkout</div>") if spec.coupon else ""
    return "", (f'<h1>{html.escape(spec.title)}</h1><div class="deal" data-sku="{spec.sku}">{listp}'
                f'<span class="price-sale">{usd(spec.sale)}</span>{coupon}</div>')


RENDERERS: dict[str, Callable[[PageSpec], tuple[str, str]]] = {
    "jsonld": _jsonld, "microdata": _microdata, "opengraph": _opengraph, "rdfa": _rdfa, "plain": _plain,
    "jsshop": _jsshop, "cnmall": _cn, "cngbk": _cn, "eushop": _eu, "cartshop": _cart, "deals": _deals,
}
LANG = {"cnmall": "zh", "cngbk": "zh", "eushop": "de"}


def shell(seed: int, key: str, lang: str, title: str, head: str, main: str, charset: str = "utf-8") -> str:
    """A full page around ``main``: menus, styles, scripts, reviews and footer up to the page's weight."""
    p = pools(seed, lang)
    html_lang = {"zh": "zh-CN", "de": "de"}.get(lang, "en")
    head_js, reviews, tail_js = filler(seed, key, lang, len(head) + len(main) + 600)
    return (f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="{charset}"><title>{html.escape(title)}'
            f"</title>{head}{p.css}{head_js}</head>\n<body>{p.menu}<main>{main}</main>\n{reviews}{tail_js}"
            f"{p.footer}</body></html>\n")


def render(spec: PageSpec) -> bytes:
    """The page's bytes, in the family's encoding."""
    head, main = RENDERERS[spec.family](spec)
    main += _traps(spec) + _related(spec, gbk=spec.family == "cngbk")
    lang = LANG.get(spec.family, "en")
    if spec.family == "cngbk":
        return shell(spec.seed, spec.key, lang, spec.title, head, main, "gbk").encode("gbk")
    return shell(spec.seed, spec.key, lang, spec.title, head, main).encode()
