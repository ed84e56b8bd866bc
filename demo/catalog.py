"""The sandbox brand's catalog: products, partners, marketplace sellers and listings, derived from a seed.

Everything here is a pure function of ``(seed, products)``: the same arguments give the same catalog,
byte for byte, on every machine (``random.Random`` seeded with a string hashes it with SHA-512, so
``PYTHONHASHSEED`` plays no part).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

# Family -> port offset from the base port; offset 0 is the control port. Fixed, so URLs are stable.
FAMILIES: dict[str, int] = {
    "jsonld": 1,        # schema.org JSON-LD (+ variants, + Shopify-style /products/<handle>.json)
    "microdata": 2,     # schema.org microdata
    "opengraph": 3,     # only <meta property="product:price:amount">
    "rdfa": 4,          # schema.org RDFa Lite
    "plain": 5,         # no structured data: needs a profile
    "jsshop": 6,        # price arrives by XHR after load
    "marketplace": 7,   # several sellers per product, search and category pages
    "cnmall": 8,        # Chinese storefront, UTF-8
    "cngbk": 9,         # Chinese storefront, GBK-encoded
    "eushop": 10,       # 1.299,00 € inkl. MwSt.
    "cartshop": 11,     # "add to cart to see price"
    "deals": 12,        # list price + sale price + visible coupon
}
CONTROL_OFFSET = 0
DEFAULT_BASE_PORT = 8600
DAY_ONE = date(2026, 3, 1)  # simulated day 1; day N is DAY_ONE + (N - 1)
TIMEZONE = "America/New_York"
LAST_SCENARIO_DAY = 28
CATEGORIES = ("headphones", "earbuds", "speakers", "soundbars", "turntables", "amplifiers")
_NOUNS = {"headphones": "Wireless Headphones", "earbuds": "True Wireless Earbuds", "speakers": "Bookshelf Speakers",
          "soundbars": "Dolby Atmos Soundbar", "turntables": "Belt-Drive Turntable", "amplifiers": "Stereo Amplifier"}
_MODELS = ("Aria", "Bolt", "Crest", "Drift", "Echo", "Flux", "Glide", "Halo", "Ion", "Jet", "Kite", "Lumen",
           "Mira", "Nova", "Orbit", "Pulse", "Quill", "Rift", "Sable", "Tide")


def day_date(day: int) -> date:
    """The calendar date of simulated day ``day`` (day 1 is 2026-03-01)."""
    return DAY_ONE + timedelta(days=day - 1)


def rng(*parts: object) -> random.Random:
    """A random generator determined by ``parts`` alone."""
    return random.Random(":".join(str(p) for p in parts))


def unit(*parts: object) -> float:
    """A number in [0, 1) determined by ``parts`` alone (cheaper than building a Random)."""
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True, slots=True)
class Product:
    """One SKU of the brand, with its reference prices in each market."""

    sku: str
    gtin: str
    mpn: str
    title: str
    category: str
    handle: str
    asin: str
    map_v1: Decimal       # US MAP, policy version 1 (USD)
    map_v2: Decimal       # US MAP, policy version 2 (raised for a few SKUs)
    tier_a_map: Decimal | None  # tier-A override of the MAP (both versions), when the SKU has one
    msrp: Decimal         # USD list price
    rrp_eur: Decimal      # EU recommended retail price
    cap_cny: Decimal | None  # CN maximum resale price, for the SKUs that have one
    list_cny: Decimal     # CN 原价 (list price)


@dataclass(frozen=True, slots=True)
class Partner:
    """A channel partner: its shop lives on one family's origin under ``/<prefix>/``."""

    code: str
    name: str
    tier: str
    region: str
    currency: str
    family: str
    locale: str
    manager: str
    seller_id: str | None  # its seller id on the marketplace, when it sells there

    @property
    def prefix(self) -> str:
        """URL path prefix of this partner's shop on its family's origin."""
        return self.code.lower()


@dataclass(frozen=True, slots=True)
class Seller:
    """A marketplace seller; ``partner`` is None for sellers that are not partners (unauthorised)."""

    seller_id: str
    name: str
    partner: str | None


# code, name, tier, region, family, locale, manager, marketplace seller id
_PARTNERS = (
    ("P001", "SoundHub", "A", "US", "jsonld", "en_US", "carl", "S-P001"),
    ("P002", "BeatBarn", "A", "US", "microdata", "en_US", "carl", "S-P002"),
    ("P003", "AudioNest", "B", "US", "opengraph", "en_US", "carl", None),
    ("P004", "HiFi Depot", "B", "US", "rdfa", "en_US", "dana", None),
    ("P005", "Sonic Street", "B", "US", "plain", "en_US", "dana", None),
    ("P006", "WaveCart", "C", "US", "jsshop", "en_US", "dana", None),
    ("P007", "DealDrum", "C", "US", "deals", "en_US", "carl", "S-P007"),
    ("P008", "CartCrafters", "C", "US", "cartshop", "en_US", "dana", None),
    ("P009", "EchoMart", "B", "US", "plain", "en_US", "carl", "S-P009"),
    ("P010", "BassBay", "C", "US", "jsonld", "en_US", "dana", None),
    ("P011", "KlangHaus", "A", "EU", "eushop", "de_DE", "elke", None),
    ("P012", "Son & Co", "B", "EU", "eushop", "fr_FR", "elke", None),
    ("P013", "AudioEuropa", "B", "EU", "jsonld", "en_GB", "elke", None),
    ("P014", "TonWerk", "C", "EU", "microdata", "de_DE", "elke", None),
    ("P015", "HörBar", "C", "EU", "eushop", "de_DE", "elke", None),
    ("P016", "声海旗舰店", "A", "CN", "cnmall", "zh_CN", "wang", None),
    ("P017", "乐声数码", "B", "CN", "cngbk", "zh_CN", "wang", None),
    ("P018", "悦音商城", "B", "CN", "cnmall", "zh_CN", "wang", None),
    ("P019", "音悦汇", "C", "CN", "cngbk", "zh_CN", "li", None),
    ("P020", "声动电器", "C", "CN", "cnmall", "zh_CN", "li", None),
)
_CURRENCY = {"US": "USD", "EU": "EUR", "CN": "CNY"}
# Marketplace sellers that are not partners: every offer of theirs is an unauthorised sale.
NON_PARTNER_SELLERS = (Seller("S-ZX9", "ZX Deals", None), Seller("S-GO4", "Gadget Outlet 4U", None))


def _money(value: Decimal | int) -> Decimal:
    # Whole currency units, kept with two decimal places like every other amount.
    return Decimal(value).quantize(Decimal("1")).quantize(Decimal("0.01"))


def _gtin13(body: str) -> str:
    """``body`` (12 digits) with its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def build_products(seed: int, count: int) -> list[Product]:
    """``count`` products with reference prices; SKUs are AC-100, AC-110, ... in catalog order."""
    products = []
    bases = (29, 49, 79, 99, 129, 149, 199, 249, 299, 349, 399, 499, 599, 799, 999, 1299)
    for i in range(count):
        r = rng(seed, "product", i)
        category = CATEGORIES[i % len(CATEGORIES)]
        base = _money(r.choice(bases))
        map_v1 = base
        # Policy version 2 raises the MAP of SKUs 5..9 by 10% (whole dollars).
        map_v2 = _money(base * Decimal("1.10")) if 5 <= i <= 9 else base
        tier_a = _money(base * Decimal("0.95")) if i % 7 == 3 else None
        msrp = _money(base * Decimal("1.25"))
        rrp_eur = _money(base * Decimal("0.95"))
        cap = _money(base * 7 * Decimal("1.10")) if i % 3 == 0 else None
        sku = f"AC-{100 + 10 * i}"
        model = f"{_MODELS[i % len(_MODELS)]} {100 + 10 * i}"
        gtin = _gtin13(f"084000{640000 + i:06d}")
        products.append(Product(
            sku=sku, gtin=gtin, mpn=f"{sku.replace('-', '')}-BLK", title=f"Acme {model} {_NOUNS[category]}",
            category=category, handle=f"acme-{model.lower().replace(' ', '-')}-{category}",
            asin="B0" + hashlib.blake2b(f"{seed}:{sku}".encode(), digest_size=4).hexdigest().upper(),
            map_v1=map_v1, map_v2=map_v2, tier_a_map=tier_a, msrp=msrp, rrp_eur=rrp_eur, cap_cny=cap,
            list_cny=_money(base * 7 * Decimal("1.25")),
        ))
    return products


def build_partners() -> list[Partner]:
    """The twenty partners of the sandbox brand (fixed: scenarios refer to them by code)."""
    return [Partner(code=c, name=n, tier=t, region=r, currency=_CURRENCY[r], family=f, locale=loc, manager=m,
                    seller_id=s) for c, n, t, r, f, loc, m, s in _PARTNERS]


def marketplace_sellers(partners: list[Partner]) -> list[Seller]:
    """Every marketplace seller: partners with a seller id, then the non-partners."""
    return [Seller(p.seller_id, p.name, p.code) for p in partners if p.seller_id] + list(NON_PARTNER_SELLERS)


@dataclass(frozen=True, slots=True)
class Listing:
    """One product page of a partner's shop (``partner`` set) or one marketplace product page."""

    family: str
    path: str
    sku: str
    partner: str | None
    region: str
    currency: str

    @property
    def key(self) -> str:
        """Stable identity of the page (family + path)."""
        return f"{self.family}{self.path}"


def page_path(partner: Partner, product: Product) -> str:
    """URL path of ``product`` in ``partner``'s shop; each family has its own URL style."""
    style = {
        "jsonld": "/{p}/products/{h}", "microdata": "/{p}/p/{h}", "opengraph": "/{p}/shop/{h}.html",
        "rdfa": "/{p}/catalog/{h}", "plain": "/{p}/item.php?id={s}", "jsshop": "/{p}/item/{h}",
        "cnmall": "/{p}/item/{s}.html", "cngbk": "/{p}/goods/{s}.htm", "eushop": "/{p}/produkt/{h}",
        "cartshop": "/{p}/product/{h}", "deals": "/{p}/deal/{h}",
    }[partner.family]
    return style.format(p=partner.prefix, h=product.handle, s=product.sku.lower())


def lists(seed: int, partner: Partner, product: Product, forced: frozenset[tuple[str, str]]) -> bool:
    """Whether ``partner`` carries ``product`` (about 96% of the catalog each, plus scenario pairs)."""
    return (partner.code, product.sku) in forced or unit(seed, "lists", partner.code, product.sku) < 0.96


def offers_on(seed: int, seller: Seller, product: Product, index: int, forced: frozenset[tuple[str, str]]) -> bool:
    """Whether ``seller`` has an offer on the marketplace page of ``product``."""
    key = seller.partner or seller.seller_id
    if (key, product.sku) in forced:
        return True
    if seller.partner is None:
        # Non-partners show up on about one product in twelve.
        return unit(seed, "np-offer", seller.seller_id, product.sku) < 0.08
    return unit(seed, "offer", seller.seller_id, product.sku) < 0.5 or index % 4 == 0
