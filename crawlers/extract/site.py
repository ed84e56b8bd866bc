"""Step 3 of the cascade: a site profile's selectors (CSS, or XPath with ``xpath:``), read as data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crawlers.extract.amounts import ParsedAmount, parse_amount
from crawlers.extract.model import Candidate, Offer
from crawlers.extract.page import Page
from crawlers.extract.structured import availability_of
from crawlers.profiles import Profile, Selector

__all__ = ["SiteFacts", "cart_url", "read_cart_price", "read_profile"]

_BARE_ATTR = re.compile(r"\[([\w:-]+)\]$")


@dataclass
class SiteFacts:
    """What a profile's selectors found."""

    price: Candidate | None = None
    regular: Candidate | None = None
    texts: dict[str, str] = field(default_factory=dict)
    sellers: list[Offer] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _xpath_root(page: Page) -> Any:
    import lxml.html

    # XPath needs lxml; only profiles that use it pay for the second parse.
    return lxml.html.document_fromstring(page.html)


def _values(root: Any, selector: Selector, page: Page) -> list[str]:
    if selector.is_xpath:
        out: list[str] = []
        for hit in root.xpath(selector.query.removeprefix("xpath:")):
            if isinstance(hit, str):
                out.append(" ".join(hit.split()))
            elif selector.attr:
                out.append(str(hit.get(selector.attr) or ""))
            else:
                out.append(" ".join(hit.text_content().split()))
        return [v for v in out if v]
    nodes = root.css(selector.query)
    if not nodes and root is page.tree:
        # (a person's selector for an element the page hides, written against the page as served: read there; one
        # that also matches what the shopper sees reads that)
        nodes = [node for part in page.hidden for node in part.css(selector.query)]
    # "[data-sku]" names the attribute that holds the value: read it, not the element's text.
    attr = selector.attr or (m.group(1) if (m := _BARE_ATTR.search(selector.query)) else None)
    values = []
    for node in nodes:
        value = node.attributes.get(attr) if attr else node.text(deep=True, separator=" ")
        if value:
            values.append(" ".join(str(value).split()))
    return values


def _money(text: str, profile: Profile, page: Page) -> ParsedAmount | None:
    return parse_amount(text, decimal_separator=profile.decimal_separator, locale=profile.locale or page.locale,
                        currency=profile.currency)


def read_profile(page: Page, profile: Profile) -> SiteFacts:
    """Apply ``profile``'s selectors to the page; a selector that matches nothing is listed in ``missing``."""
    facts = SiteFacts()
    uses_xpath = any(s.is_xpath for s in [*profile.selectors.values(), *profile.offers.values()])
    xroot = _xpath_root(page) if uses_xpath else None

    def values(selector: Selector, scope: Any = None) -> list[str]:
        if selector.is_xpath:
            return _values(scope if scope is not None else xroot, selector, page)
        return _values(scope if scope is not None else page.tree, selector, page)

    for key, selector in profile.selectors.items():
        found = values(selector)
        if not found:
            facts.missing.append(key)
            continue
        facts.texts[key] = found[0]
    if "price" in facts.texts:
        parsed = _money(facts.texts["price"], profile, page)
        if parsed is not None and parsed.amount > 0:
            facts.price = Candidate("profile", parsed.amount, parsed.currency or profile.currency, parsed.raw, 0.95)
        else:
            facts.missing.append("price")
    if "list_price" in facts.texts:
        parsed = _money(facts.texts["list_price"], profile, page)
        if parsed is not None and parsed.amount > 0:
            facts.regular = Candidate("profile", parsed.amount, parsed.currency or profile.currency, parsed.raw, 0.95,
                                      "regular")
    if "availability" in facts.texts:
        facts.texts["availability"] = availability_of(facts.texts["availability"]) or facts.texts["availability"]
    container = profile.offers.get("container")
    if container is not None:
        scopes = (xroot.xpath(container.query.removeprefix("xpath:")) if container.is_xpath and xroot is not None
                  else page.tree.css(container.query))
        for index, scope in enumerate(scopes):
            def first(key: str, scope: Any = scope) -> str | None:
                sel = profile.offers.get(key)
                if sel is None:
                    return None
                if sel.is_xpath:
                    sel = Selector("xpath:." + sel.query.removeprefix("xpath:").lstrip("."), sel.attr)
                found = values(sel, scope)
                return found[0] if found else None

            raw = first("price") or ""
            parsed = _money(raw, profile, page) if raw else None
            buy_box_sel = profile.offers.get("buy_box")
            buy_box = index == 0 if buy_box_sel is None else bool(first("buy_box"))
            facts.sellers.append(Offer(first("seller_name"), first("seller_id"),
                                       parsed.amount if parsed else None,
                                       (parsed.currency if parsed else None) or profile.currency, raw, buy_box))
    return facts


def cart_url(profile: Profile, page_url: str, sku: str | None) -> str | None:
    """The cart URL of a hidden-price page from the profile's ``cart.url`` template (``{origin}``, ``{sku}``)."""
    from urllib.parse import urlsplit

    template = profile.cart.get("url")
    if not template:
        return None
    parts = urlsplit(page_url)
    return template.format(origin=f"{parts.scheme}://{parts.netloc}", sku=sku or "", url=page_url)


def read_cart_price(html: bytes | str, url: str, profile: Profile) -> Candidate | None:
    """The price a cart page shows for a hidden-price item (``cart.price`` selector), or None.

    A price seen only in the cart is recorded as hidden pricing, not as the advertised price.
    """
    selector = profile.cart.get("price")
    if not selector:
        return None
    page = Page.parse(html, url)
    sel = Selector(selector)
    root = _xpath_root(page) if sel.is_xpath else page.tree
    found = _values(root, sel, page)
    parsed = _money(found[0], profile, page) if found else None
    if parsed is None or parsed.amount <= 0:
        return None
    return Candidate("cart", parsed.amount, parsed.currency or profile.currency, parsed.raw, 0.95,
                     note="price shown only in the cart")
