"""The sandbox world: one brand's online channel on day N, its pages, and the ground truth about them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Any

from demo import faults as fl
from demo import pricing as pr
from demo.catalog import (
    CATEGORIES,
    DEFAULT_BASE_PORT,
    FAMILIES,
    TIMEZONE,
    Listing,
    Partner,
    Product,
    Seller,
    build_partners,
    build_products,
    day_date,
    lists,
    marketplace_sellers,
    offers_on,
    page_path,
    rng,
    unit,
)
from demo.market import Offer, buy_box
from demo.pages import PageSpec

MIN_PRODUCTS = 20


def _m(amount: Decimal | None) -> str | None:
    """A money amount as ground truth: a dot-decimal string with two places."""
    return None if amount is None else f"{amount:.2f}"


def default_origins(base_port: int = DEFAULT_BASE_PORT, host: str = "127.0.0.1") -> dict[str, str]:
    """Origin of each family for ``base_port`` (base + the family's fixed offset)."""
    return {family: f"http://{host}:{base_port + offset}" for family, offset in FAMILIES.items()}


@dataclass
class PageTruth:
    """A partner product page on one day: the fields of its ground truth and what renders it."""

    listing: Listing
    truth: dict[str, Any]
    spec: PageSpec | None
    offers: list[Offer]


class World:
    """A deterministic simulation of the brand's channel: ``World(seed=7, products=50, day=1)``.

    The same ``seed`` and ``products`` give the same pages and the same truth on every run; ``day``
    is the simulated day the server shows (1 is 2026-03-01).
    """

    def __init__(self, seed: int = 7, products: int = 50, day: int = 1, *, slow_seconds: float = 1.5) -> None:
        if products < MIN_PRODUCTS:
            raise ValueError(f"a world needs at least {MIN_PRODUCTS} products (scenarios use the first 14)")
        if day < 1:
            raise ValueError("days start at 1")
        self.seed = seed
        self.day = day
        self.slow_seconds = slow_seconds
        self.products: list[Product] = build_products(seed, products)
        self.partners: list[Partner] = build_partners()
        self.sellers: list[Seller] = marketplace_sellers(self.partners)
        self.partner_by_code = {p.code: p for p in self.partners}
        self.product_by_sku = {p.sku: p for p in self.products}
        self.product_by_asin = {p.asin: p for p in self.products}
        self.forced = pr.forced_pairs(self.products)
        self.listings: list[Listing] = []
        for partner in self.partners:
            for product in self.products:
                if lists(seed, partner, product, self.forced):
                    self.listings.append(Listing(partner.family, page_path(partner, product), product.sku,
                                                 partner.code, partner.region, partner.currency))
        for product in self.products:
            self.listings.append(Listing("marketplace", f"/dp/{product.asin}", product.sku, None, "US", "USD"))
        self.by_path = {(x.family, x.path): x for x in self.listings}
        self.by_partner_sku = {(x.partner, x.sku): x for x in self.listings if x.partner}
        self._eligible = [x for x in self.listings if x.partner and x.partner != fl.LAYOUT_PARTNER
                          and x.family != "cartshop" and (x.partner, x.sku) not in self.forced]
        self._layout_keys = [x.key for x in self.listings if x.partner == fl.LAYOUT_PARTNER]
        self.faults = lru_cache(maxsize=64)(self._faults)

    # ---- prices -------------------------------------------------------------------------------------
    def price(self, partner: Partner, product: Product, day: int) -> Decimal:
        """What ``partner`` charges for ``product`` on ``day`` (effective price; the cart price if hidden)."""
        if partner.region == "US":
            return pr.us_price(self.seed, self.products, partner, partner.code, product, day)
        if partner.region == "EU":
            return pr.eu_price(self.seed, self.products, partner, product, day)
        return pr.cn_price(self.seed, self.products, partner, product, day)

    def offers(self, product: Product, day: int) -> list[Offer]:
        """The marketplace offers on ``product``'s page on ``day``."""
        index = int(product.sku[3:]) // 10 - 10
        out = []
        for seller in self.sellers:
            if offers_on(self.seed, seller, product, index, self.forced):
                partner = self.partner_by_code.get(seller.partner or "")
                price = pr.us_price(self.seed, self.products, partner, seller.seller_id, product, day)
                out.append(Offer(seller.seller_id, seller.name, price, seller.partner))
        if not out:  # every product page has at least one partner seller
            seller = [s for s in self.sellers if s.partner][index % 4]
            partner = self.partner_by_code[seller.partner or ""]
            out.append(Offer(seller.seller_id, seller.name,
                             pr.us_price(self.seed, self.products, partner, seller.seller_id, product, day),
                             seller.partner))
        return out

    def _faults(self, day: int) -> dict[str, fl.Fault]:
        return fl.plan(self.seed, day, self._eligible, self._layout_keys)

    # ---- pages --------------------------------------------------------------------------------------
    def page(self, listing: Listing, day: int, origin: str = "", *, related: bool = True) -> PageTruth:
        """The page of ``listing`` on ``day``: its ground truth and its renderer input.

        ``related=False`` skips the related-products block (only the renderer needs it).
        """
        product = self.product_by_sku[listing.sku]
        fault = self.faults(day).get(listing.key)
        key = listing.key
        reviews = int(unit(self.seed, "reviews", key) * 4000) + 3
        availability = "out_of_stock" if unit(self.seed, "oos", key, (day - 1) // 7) < 0.07 else "in_stock"
        truth: dict[str, Any] = {
            "day": day, "url": origin + listing.path, "family": listing.family, "path": listing.path,
            "page_type": "product", "sku": listing.sku, "partner": listing.partner, "seller_id": None,
            "seller": None, "price": None, "currency": listing.currency, "list_price": None, "coupon": None,
            "price_range": None, "sale_price": None, "cart_price": None, "offers": None,
            "availability": availability, "price_visibility": "page",
            "failure": fault.as_truth(self.slow_seconds) if fault else None,
        }
        if listing.partner is None:
            offers = self.offers(product, day)
            box = buy_box(offers)
            truth.update(page_type="offers", seller_id=box.seller_id, seller=box.seller, price=_m(box.price),
                         availability="in_stock",
                         offers=[{"seller_id": o.seller_id, "seller": o.seller, "partner": o.partner,
                                  "price": _m(o.price), "buy_box": o is box} for o in offers])
            return PageTruth(listing, truth, None, offers)
        partner = self.partner_by_code[listing.partner]
        truth["seller"] = partner.name
        price = self.price(partner, product, day)
        spec = PageSpec(seed=self.seed, key=key, family=listing.family, shop=partner.name, title=product.title,
                        sku=product.sku, gtin=product.gtin, handle=product.handle, currency=partner.currency,
                        price=price, availability=availability, reviews=reviews,
                        layout_changed=fault is not None and fault.kind == "layout_changed")
        deco = unit(self.seed, "deco", key)
        family = listing.family
        if family == "jsonld" and deco < 0.2:
            spec.high = (price * Decimal("1.15")).quantize(Decimal("1"), rounding=ROUND_CEILING) - pr.CENT
            truth["price_range"] = [_m(price), _m(spec.high)]
        elif family == "plain" and deco < 0.5:
            spec.list_price = product.msrp
        elif family == "deals":
            spec.list_price = product.msrp
            spec.coupon = Decimal((5, 10, 20)[int(deco * 3)]) if deco < 0.7 else None
            spec.sale = price + (spec.coupon or 0)
        elif family in ("cnmall", "cngbk"):
            spec.list_price = product.list_cny
            spec.coupon = Decimal(50) if price >= 250 else None
            spec.sale = price + (spec.coupon or 0)
        elif family == "eushop":
            spec.list_price = product.rrp_eur
        elif family == "jsshop":
            spec.xhr_url = f"/{partner.prefix}/api/price/{product.sku.lower()}"
            truth["price_visibility"] = "xhr"
        elif family == "cartshop":
            spec.cart_url = f"/cart?add={product.sku}"
            if price < pr.us_floor(self.products, product, partner.tier, partner.code, day):
                spec.price, spec.cart_price = None, price
                truth.update(price_visibility="cart", cart_price=_m(price))
        if spec.price is not None:
            truth["price"] = _m(spec.price)
        truth["list_price"] = _m(spec.list_price) if spec.list_price is not None else None
        truth["coupon"] = _m(spec.coupon) if spec.coupon is not None else None
        truth["sale_price"] = _m(spec.sale) if spec.sale is not None else None
        if related:
            others = rng(self.seed, "related", product.sku).sample(self.products, k=6)
            spec.related = [(p.title, page_path(partner, p), self.price(partner, p, day)) for p in others
                            if p.sku != product.sku]
        return PageTruth(listing, truth, spec, [])

    def findings(self, page: PageTruth, day: int) -> list[dict[str, Any]]:
        """The violations and deviations a perfect monitor raises from ``page`` on ``day``."""
        truth = page.truth
        failure = truth["failure"]
        if failure and failure["persistent"]:
            return []
        product = self.product_by_sku[page.listing.sku]
        base = {"day": day, "date": day_date(day).isoformat(), "sku": product.sku, "url": truth["url"],
                "policy_version": pr.version(day)}
        out = []
        if page.listing.partner is None:
            for offer in page.offers:
                if offer.partner is None:
                    out.append({**base, "rule": "unauthorised_seller", "kind": "violation", "scope": "us",
                                "partner": None, "seller_id": offer.seller_id, "price": _m(offer.price),
                                "currency": "USD", "limit": None})
                    continue
                tier = self.partner_by_code[offer.partner].tier
                found = pr.judge(self.products, product, "US", tier, offer.partner, offer.price, day)
                if found:
                    out.append({**base, "rule": found.rule, "kind": found.kind, "scope": found.scope,
                                "partner": offer.partner, "seller_id": offer.seller_id, "price": _m(offer.price),
                                "currency": "USD", "limit": _m(found.limit)})
            return out
        partner = self.partner_by_code[page.listing.partner]
        hidden = truth["price_visibility"] == "cart"
        price = Decimal(truth["cart_price"] if hidden else truth["price"])
        found = pr.judge(self.products, product, partner.region, partner.tier, partner.code, price, day,
                         hidden=hidden)
        if found:
            out.append({**base, "rule": found.rule, "kind": found.kind, "scope": found.scope,
                        "partner": partner.code, "seller_id": None, "price": _m(price),
                        "currency": partner.currency, "limit": _m(found.limit)})
        return out

    def market_lists(self, day: int) -> list[tuple[str, bool, str, list[tuple[str, str, str, Offer, int]]]]:
        """Search and category pages: (path, is_search, heading, rows) for every category."""
        out = []
        for category in CATEGORIES:
            members = [p for p in self.products if p.category == category][:48]
            rows: list[tuple[str, str, str, Offer, int]] = []
            cat_rows: list[tuple[str, str, str, Offer, int]] = []
            for p in members:
                offers = self.offers(p, day)
                rows.append((p.asin, p.title, p.sku, buy_box(offers), len(offers)))
                cat_rows.extend((p.asin, p.title, p.sku, o, len(offers)) for o in offers)
            out.append((f"/s?k={category}", True, f'Results for "{category}"', rows))
            out.append((f"/c/{category}", False, category.title(), cat_rows[:200]))
        return out

    # ---- truth --------------------------------------------------------------------------------------
    def truth(self, day: int | None = None, origins: dict[str, str] | None = None) -> dict[str, Any]:
        """Ground truth for every page of ``day``: prices, sellers, failures and the findings they raise."""
        day = self.day if day is None else day
        origins = origins or default_origins()
        pages, violations = [], []
        for listing in self.listings:
            page = self.page(listing, day, origins[listing.family], related=False)
            pages.append(page.truth)
            violations.extend(self.findings(page, day))
        for path, is_search, _heading, rows in self.market_lists(day):
            pages.append({**dict.fromkeys(pages[0]), "day": day, "url": origins["marketplace"] + path,
                          "family": "marketplace", "path": path, "currency": "USD",
                          "page_type": "search" if is_search else "category", "failure": None,
                          "offers": [{"sku": sku, "seller_id": o.seller_id, "seller": o.seller,
                                      "partner": o.partner, "price": _m(o.price)} for _a, _t, sku, o, _n in rows]})
        failures: dict[str, int] = {}
        for p in pages:
            if p["failure"]:
                failures[p["failure"]["kind"]] = failures.get(p["failure"]["kind"], 0) + 1
        rules: dict[str, int] = {}
        for v in violations:
            rules[v["rule"]] = rules.get(v["rule"], 0) + 1
        return {
            "seed": self.seed, "products": len(self.products), "day": day, "date": day_date(day).isoformat(),
            "timezone": TIMEZONE, "policy_version": pr.version(day),
            "scenarios": [{"name": s.name, "description": s.description, "days": s.days} for s in pr.SCENARIOS],
            "summary": {"pages": len(pages), "failures": dict(sorted(failures.items())),
                        "violations": dict(sorted(rules.items()))},
            "pages": pages, "violations": violations,
        }

    def partner_reports(self, day: int, out_dir: Any) -> dict[str, Any]:
        """Write the partner report files of ``day`` under ``out_dir``; returns the truth about their rows."""
        from demo.reports import write_reports

        return write_reports(self, day, out_dir)
