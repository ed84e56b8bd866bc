"""Prices by day and the sample policy: what every partner charges, and what a perfect monitor concludes.

The policy here is the same one :mod:`demo.workspace` writes as YAML (two versions, a promotion
window and an exemption); the evaluation below is deliberately small and explicit so that the
ground truth can be read and checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from demo.catalog import Partner, Product, unit

POLICY_V2_DAY = 5            # version 2 is effective from 00:00 of this day
PROMO_DAYS = range(14, 18)   # Spring Sale: [day 14, day 18)
EXEMPT_DAYS = range(18, 25)  # P004 clearance exemption: [day 18, day 25)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Scenario:
    """One story the world tells; ``pairs`` are the (partner or seller, SKU index) it involves."""

    name: str
    description: str
    days: str
    pairs: tuple[tuple[str, int], ...]


SCENARIOS = (
    Scenario("compliant", "Most partners price at or above the floor every day.", "all", ()),
    Scenario("map_drop", "P003 drops AC-100 below MAP on days 4-6, then recovers on day 7.", "4-6",
             (("P003", 0),)),
    Scenario("price_war", "A price war on AC-120: P009 undercuts on day 8 (site and marketplace), P007 follows "
             "on day 9, P001 on day 10 (marketplace), P002 on day 11; everyone recovers on day 13.", "8-12",
             (("P009", 2), ("P007", 2), ("P001", 2), ("P002", 2), ("S-P009", 2), ("S-P001", 2))),
    Scenario("promotion", "Spring Sale on AC-200 and AC-210 (days 14-17, tiers A and B) at the promotion price; "
             "P010 (tier C) joins on AC-200 uninvited and violates.", "14-17",
             (("P001", 10), ("P003", 10), ("P010", 10), ("P002", 11), ("P004", 11))),
    Scenario("hidden_price", "P008 shows 'add to cart to see price' where its price is below MAP; the price is "
             "only in the cart (hidden pricing, not a MAP breach).", "all", (("P008", 3),)),
    Scenario("unauthorised_seller", "ZX Deals (not a partner) sells AC-140 and AC-160 on the marketplace below "
             "MAP; Gadget Outlet 4U appears on a few products.", "all", (("S-ZX9", 4), ("S-ZX9", 6))),
    Scenario("misreport", "P010 reports the MAP for AC-110 and AC-230 while its site sells 8% below (days 3+).",
             "3-28", (("P010", 1), ("P010", 13))),
    Scenario("exemption", "P004 has a clearance exemption on AC-220 (days 18-24) and prices at the exempted "
             "floor; it stays there one day too long (day 25).", "18-25", (("P004", 12),)),
    Scenario("policy_tightened", "Policy v2 (day 5) raises MAP on AC-150..AC-190; P009 keeps its old price on "
             "AC-150 and AC-160 on days 5-6.", "5-6", (("P009", 5), ("P009", 6))),
    Scenario("eu_deviation", "P012 sells AC-110 12% below the recommended price on days 3-9 (EU: recorded as a "
             "deviation, never a violation).", "3-9", (("P012", 1),)),
    Scenario("cn_above_cap", "P018 prices AC-100 15% above the CN maximum on days 6-7.", "6-7", (("P018", 0),)),
)


def forced_pairs(products: list[Product]) -> frozenset[tuple[str, str]]:
    """(partner or seller id, SKU) pairs the scenarios need to exist as listings or offers."""
    return frozenset((who, products[i].sku) for s in SCENARIOS for who, i in s.pairs if i < len(products))


def version(day: int) -> int:
    """Policy version in force on ``day``."""
    return 2 if day >= POLICY_V2_DAY else 1


def base_floor(product: Product, tier: str, day: int) -> Decimal:
    """US MAP for a partner of ``tier`` on ``day``, before promotions and exemptions."""
    if tier == "A" and product.tier_a_map is not None:
        return product.tier_a_map
    return product.map_v2 if version(day) == 2 else product.map_v1


def promo_price(product: Product) -> Decimal:
    """Spring Sale price of a promoted SKU (85% of MAP v2, whole units)."""
    return (product.map_v2 * Decimal("0.85")).quantize(Decimal("1")).quantize(CENT)


def exempt_floor(product: Product) -> Decimal:
    """P004's exempted floor during its clearance week (80% of MAP v2)."""
    return (product.map_v2 * Decimal("0.80")).quantize(Decimal("1")).quantize(CENT)


def promo_skus(products: list[Product]) -> list[str]:
    """SKUs in the Spring Sale."""
    return [p.sku for p in products[10:12]]


def exempt_skus(products: list[Product]) -> list[str]:
    """SKUs of P004's exemption."""
    return [p.sku for p in products[12:13]]


def us_floor(products: list[Product], product: Product, tier: str, partner: str | None, day: int) -> Decimal:
    """The floor a perfect monitor applies: MAP, lowered inside a promotion or exemption window."""
    floor = base_floor(product, tier, day)
    if day in PROMO_DAYS and tier in ("A", "B") and product.sku in promo_skus(products):
        floor = min(floor, promo_price(product))
    if partner == "P004" and day in EXEMPT_DAYS and product.sku in exempt_skus(products):
        floor = min(floor, exempt_floor(product))
    return floor


def _above(value: Decimal, markup: float) -> Decimal:
    """``value`` raised by ``markup`` and ending in .99 (or ``value`` itself for no markup)."""
    if markup == 0:
        return value
    return (value * Decimal(str(1 + markup))).quantize(Decimal("1"), rounding=ROUND_CEILING) - CENT


def _below(value: Decimal, factor: str) -> Decimal:
    return (value * Decimal(factor)).quantize(Decimal("1"), rounding=ROUND_FLOOR) - CENT


def _markup(seed: int, who: str, sku: str) -> float:
    return (0.0, 0.0, 0.03, 0.06, 0.10)[int(unit(seed, "markup", who, sku) * 5)]


def _index(products: list[Product], product: Product) -> int:
    return int(product.sku[3:]) // 10 - 10


def us_price(seed: int, products: list[Product], partner: Partner | None, who: str, product: Product,
             day: int) -> Decimal:
    """What ``who`` (a partner code or a marketplace seller id) asks for ``product`` in USD on ``day``."""
    i = _index(products, product)
    tier = partner.tier if partner else "C"
    floor = base_floor(product, tier, day)
    code = partner.code if partner else who
    if who == "S-ZX9" and i in (4, 6):
        return _below(floor, "0.80")
    if code == "P003" and i == 0 and 4 <= day <= 6:
        return _below(floor, "0.90")
    if i == 2 and 8 <= day <= 12:
        start = {"P009": 8, "S-P009": 8, "P007": 9, "S-P001": 10, "P002": 11}.get(who)
        if start is not None and day >= start:
            return _below(floor, "0.88")
    if i in (10, 11) and day in PROMO_DAYS and code in ("P001", "P002", "P003", "P004", "P010"):
        return promo_price(product)
    if code == "P010" and i in (1, 13) and day >= 3:
        return _below(floor, "0.92")
    if code == "P004" and i == 12 and 18 <= day <= 25:
        return exempt_floor(product)
    if code == "P009" and i in (5, 6) and day in (5, 6):
        return product.map_v1
    if code == "P008" and (i == 3 or unit(seed, "hide", product.sku) < 0.12):
        return _below(floor, "0.90")  # shown only in the cart
    return _above(floor, _markup(seed, who, product.sku))


def eu_price(seed: int, products: list[Product], partner: Partner, product: Product, day: int) -> Decimal:
    """What an EU partner asks in EUR on ``day`` (at or above the recommended price, but for the scenario)."""
    if partner.code == "P012" and _index(products, product) == 1 and 3 <= day <= 9:
        return _below(product.rrp_eur, "0.88")
    return _above(product.rrp_eur, _markup(seed, partner.code, product.sku))


def cn_price(seed: int, products: list[Product], partner: Partner, product: Product, day: int) -> Decimal:
    """What a CN partner finally charges (到手价, after its coupon) in CNY on ``day``."""
    ref = product.cap_cny if product.cap_cny is not None else product.list_cny * Decimal("0.85")
    if partner.code == "P018" and _index(products, product) == 0 and day in (6, 7):
        return (ref * Decimal("1.15")).quantize(Decimal("1")).quantize(CENT)
    cut = Decimal(str(1 - _markup(seed, partner.code, product.sku)))
    return (ref * cut).quantize(Decimal("1"), rounding=ROUND_FLOOR).quantize(CENT)


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation (or EU deviation) a perfect monitor raises for one page, seller and SKU on one day."""

    rule: str       # map | recommended | maximum | unauthorised_seller | hidden_price
    kind: str       # violation | deviation
    scope: str      # us | eu | cn
    limit: Decimal | None


def judge(products: list[Product], product: Product, region: str, tier: str | None, partner: str | None,
          price: Decimal, day: int, *, hidden: bool = False) -> Finding | None:
    """The finding for ``price`` of a partner (or None when compliant); ``hidden`` = shown only in the cart."""
    if region == "US":
        floor = us_floor(products, product, tier or "C", partner, day)
        if price < floor:
            return Finding("hidden_price" if hidden else "map", "violation", "us", floor)
        return None
    if region == "EU":
        if price < product.rrp_eur:
            return Finding("recommended", "deviation", "eu", product.rrp_eur)
        return None
    if product.cap_cny is not None and price > product.cap_cny:
        return Finding("maximum", "violation", "cn", product.cap_cny)
    return None
