"""What the extraction cascade returns: :class:`Extraction`, with its :class:`Candidate` prices and offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = ["Candidate", "Extraction", "Offer"]

Method = Literal["profile", "json-ld", "microdata", "rdfa", "opengraph", "embedded-json", "heuristic", "none"]
Visibility = Literal["visible", "cart_only", "login_only"]


@dataclass(slots=True)
class Candidate:
    """One price a step of the cascade found: the step (``method``), the value and how sure it is."""

    method: str
    price: Decimal
    currency: str | None
    raw_text: str
    confidence: float
    role: Literal["current", "regular"] = "current"
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (prices as dot-decimal strings)."""
        return {"method": self.method, "price": str(self.price), "currency": self.currency,
                "rawText": self.raw_text, "confidence": round(self.confidence, 3), "role": self.role, "note": self.note}


@dataclass(slots=True)
class Offer:
    """One seller's offer on a marketplace page; ``buy_box`` marks the offer the page sells by default."""

    seller_name: str | None
    seller_id: str | None
    price: Decimal | None
    currency: str | None
    raw_text: str
    buy_box: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain data with schema.org-style keys."""
        return {"sellerName": self.seller_name, "sellerId": self.seller_id,
                "price": None if self.price is None else str(self.price), "currency": self.currency,
                "rawText": self.raw_text, "buyBox": self.buy_box}


@dataclass(slots=True)
class Extraction:
    """What one product page says, as a shopper would read it.

    ``price`` is the current price the page shows (the sale price; ``None`` when the page shows
    none, never 0); ``effective_price`` is that price after a visible coupon or instant discount
    ("clip coupon: extra $20 off", "券后价", "到手价"), equal to ``price`` when there is none. **The
    effective price is the advertised price that detection judges** (DESIGN: the effective advertised
    price accounts for visible coupons and instant discounts); ``price`` stays for the evidence.
    ``regular_price`` is the struck-through or list price. ``flags`` may hold ``price_placeholder``:
    the buy box's price slot still loads ("Loading price…"), so the page needs a browser.
    ``failure`` names a page that is not a product page at all
    (``captcha``, ``blocked``, ``login_wall``, ``not_found``); such a page never carries a price.
    ``candidates`` keeps every price each step found, so a disagreement stays visible.
    """

    url: str
    price: Decimal | None = None
    currency: str | None = None
    raw_text: str | None = None
    regular_price: Decimal | None = None
    regular_raw_text: str | None = None
    effective_price: Decimal | None = None
    coupon: str | None = None
    shipping: Decimal | None = None
    shipping_raw_text: str | None = None
    availability: Literal["InStock", "OutOfStock"] | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    title: str | None = None
    sellers: list[Offer] = field(default_factory=list)
    price_visibility: Visibility = "visible"
    method: str = "none"
    confidence: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    looks_like_product: bool = False
    failure: str | None = None

    def to_schema(self) -> dict[str, Any]:
        """Plain data with schema.org-style keys, prices as dot-decimal strings (``--json`` output)."""

        def dec(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "url": self.url,
            "price": dec(self.price),
            "currency": self.currency,
            "rawText": self.raw_text,
            "regularPrice": dec(self.regular_price),
            "effectivePrice": dec(self.effective_price),
            "coupon": self.coupon,
            "shipping": dec(self.shipping),
            "availability": self.availability,
            "sku": self.sku,
            "gtin": self.gtin,
            "mpn": self.mpn,
            "title": self.title,
            "sellers": [o.as_dict() for o in self.sellers],
            "priceVisibility": self.price_visibility,
            "method": self.method,
            "confidence": round(self.confidence, 3),
            "flags": list(self.flags),
            "looksLikeProduct": self.looks_like_product,
            "failure": self.failure,
            "candidates": [c.as_dict() for c in self.candidates],
        }
