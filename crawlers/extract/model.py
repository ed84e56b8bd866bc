"""What the extraction cascade returns: :class:`Extraction`, with its :class:`Candidate` prices and offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = ["Candidate", "Extraction", "Offer"]

Method = Literal["profile", "rule", "json-ld", "microdata", "rdfa", "opengraph", "embedded-json", "heuristic", "none"]
Outcome = Literal["price", "undecided", "hidden", "failure", "none"]
Visibility = Literal["visible", "cart_only", "login_only", "not_shown"]


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
    context: str | None = None  # the visible text around the amount, kept for a person who must choose

    def as_dict(self) -> dict[str, Any]:
        """Plain data (prices as dot-decimal strings)."""
        doc = {"method": self.method, "price": str(self.price), "currency": self.currency,
               "rawText": self.raw_text, "confidence": round(self.confidence, 3), "role": self.role, "note": self.note}
        if self.context is not None:
            doc["context"] = self.context
        return doc


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

    ``undecided`` says why the page has a price but the evidence does not single out one (two strong
    visible prices that disagree, structured data that disagrees with itself or with the buy box and
    nothing to break the tie, a confidence under the threshold); ``competing`` then holds the
    candidates in contention, each with its reason (``note``) and the text around it (``context``),
    and ``price`` stays ``None``. An undecided page is neither a price nor a crawl failure: a person
    picks the right candidate in the review app (``/undecided``), which becomes a rule of the site.
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
    undecided: str | None = None
    competing: list[Candidate] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """``price``, ``undecided``, ``hidden`` (cart or login only), ``failure`` or ``none`` (no price seen, or
        the page says it shows none: ``price_visibility`` = ``not_shown``)."""
        if self.failure is not None:
            return "failure"
        if self.price_visibility in {"cart_only", "login_only"}:
            return "hidden"
        if self.price is not None:
            return "price"
        return "undecided" if self.undecided is not None else "none"

    def to_schema(self) -> dict[str, Any]:
        """Plain data with schema.org-style keys, prices as dot-decimal strings (``--json`` output)."""

        def dec(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "url": self.url,
            "outcome": self.outcome,
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
            "undecided": None if self.undecided is None else {
                "reason": self.undecided, "candidates": [c.as_dict() for c in self.competing]},
            "candidates": [c.as_dict() for c in self.candidates],
        }
