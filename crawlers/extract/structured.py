"""Step 1 of the cascade: schema.org data the page declares (JSON-LD, microdata, RDFa, OpenGraph).

JSON-LD blocks, microdata, RDFa and OpenGraph are all read from the one selectolax tree with CSS
selectors (the JSON-LD scripts before the parse drops scripts from it: :attr:`Page.ld_json`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crawlers.extract.amounts import currency_for_symbol, find_amounts, parse_amount
from crawlers.extract.model import Candidate, Offer
from crawlers.extract.page import STRUCK, Page
from pricewarden.money import canonical_currency, whole_units

__all__ = ["Facts", "read_structured"]

_GTIN_KEYS = ("gtin13", "gtin", "gtin12", "gtin14", "gtin8", "isbn")


@dataclass
class Facts:
    """What structured or embedded data said about the product, before the cascade resolves it."""

    candidates: list[Candidate] = field(default_factory=list)
    currency: str | None = None
    availability: str | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    title: str | None = None
    sellers: list[Offer] = field(default_factory=list)
    is_product: bool = False
    # (price, seller's name) of each structured offer that names its seller, one seller or several
    offered_by: list[tuple[Decimal, str]] = field(default_factory=list)
    # The availability each structured offer states (``InStock`` / ``OutOfStock``), every offer's, not the first's
    stock: set[str] = field(default_factory=set)
    # (price, condition) of each JSON-LD offer (an AggregateOffer's lowest price aside): ``New``, ``Refurbished``,
    # ``Used``, ``Damaged``, or None when the offer names none (:func:`condition_of`)
    conditions: list[tuple[Decimal, str | None]] = field(default_factory=list)
    # The structured prices of offers for another condition than the page sells (:func:`set_aside_other_condition`)
    other_condition: list[Candidate] = field(default_factory=list)
    # Whether the product itself (not one of its offers) is declared refurbished, used or damaged
    used_item: bool = False

    @property
    def sold_out(self) -> bool:
        """Whether the structured offers say the product is out of stock (sold out, discontinued) and none says it
        is in stock."""
        return self.stock == {"OutOfStock"}

    def merge(self, other: Facts) -> None:
        """Fill what is still unknown from ``other`` and add its candidates."""
        self.candidates.extend(other.candidates)
        for name in ("currency", "availability", "sku", "gtin", "mpn", "title"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        if not self.sellers:
            self.sellers = other.sellers
        self.stock |= other.stock
        self.is_product = self.is_product or other.is_product


def _loads(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text.removeprefix("<!--").removesuffix("-->")
    text = text.replace("<![CDATA[", "").replace("]]>", "").strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except RecursionError:
        return None  # nested deeper than any real product data: unreadable, like broken JSON
    except ValueError:
        # Trailing commas are the commonest hand-written JSON-LD error.
        try:
            return json.loads(re.sub(r",\s*([}\]])", r"\1", text), strict=False)
        except (ValueError, RecursionError):
            return None


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", ())
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1] for k in kinds}


def _walk(data: Any) -> list[dict[str, Any]]:
    """Every dict in a JSON-LD document that is a Product (or ProductGroup / Offer-bearing item)."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if _types(item) & {"Product", "ProductGroup", "IndividualProduct", "ProductModel", "Book", "Vehicle",
                               "Car", "SoftwareApplication"} or ("offers" in item and "name" in item):
                found.append(item)
            for key in ("@graph", "mainEntity", "itemListElement", "hasVariant", "item"):
                if key in item:
                    if key == "itemListElement" and isinstance(item[key], list) and len(item[key]) > 1:
                        continue  # a list of several products (search results, a category): none is the page's
                    stack.append(item[key])
    return found


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def availability_of(value: Any) -> str | None:
    """``InStock`` / ``OutOfStock`` from a schema.org availability value (URL or bare word)."""
    text = (_text(value) or "").rsplit("/", 1)[-1].lower()
    if not text:
        return None
    if text in {"instock", "in_stock", "limitedavailability", "onlineonly", "instoreonly", "presale", "preorder",
                "in stock"}:
        return "InStock"
    if text in {"outofstock", "out_of_stock", "soldout", "discontinued", "out of stock"}:
        return "OutOfStock"
    return None


OTHER_CONDITIONS = frozenset({"Refurbished", "Used", "Damaged"})


def condition_of(value: Any) -> str | None:
    """``New`` / ``Refurbished`` / ``Used`` / ``Damaged`` from a schema.org ``itemCondition`` (URL or bare word)."""
    text = (_text(value) or "").rsplit("/", 1)[-1].lower().removesuffix("condition")
    for name in ("New", "Refurbished", "Used", "Damaged"):
        if text == name.lower():
            return name
    return None


def _price(value: Any, currency: str | None, locale: str | None) -> tuple[Decimal, str] | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    raw = str(value).strip()
    if raw.startswith(("-", "−")):
        return None  # a negative amount is no price (the sign must not be dropped)
    # Structured prices are machine data: a dot is the decimal separator ("1299.00", "1.5"), except
    # in a currency priced in whole units, where "12.990" is how a Chilean shop writes 12990 pesos.
    dot = re.fullmatch(r"\d+\.\d+", raw) is not None
    if dot and currency is not None and whole_units(currency) and re.fullmatch(r"\d{1,3}\.\d{3}", raw):
        dot = False
    parsed = parse_amount(raw, decimal_separator="." if dot else None, locale=locale, currency=currency)
    if parsed is None or parsed.amount <= 0:
        return None
    return parsed.amount, raw


def _currency(code: str | None, page: Page) -> str | None:
    """An ISO 4217 code from a ``priceCurrency`` as sent (``usd``, ``RUR``, ``$``), or None."""
    if not code:
        return None
    return canonical_currency(code) or currency_for_symbol(code, locale=page.locale)


def _offers(product: dict[str, Any]) -> list[dict[str, Any]]:
    offers = product.get("offers")
    if isinstance(offers, dict):
        inner = offers.get("offers")
        if isinstance(inner, list) and inner:
            return [offers, *[o for o in inner if isinstance(o, dict)]]
        return [offers]
    if isinstance(offers, list):
        return [o for o in offers if isinstance(o, dict)]
    return []


_PERIODS = {"MON", "ANN", "WEE", "DAY"}  # (UN/CEFACT codes of a month, a year, a week, a day)


def _recurring(spec: dict[str, Any]) -> bool:
    """Whether a ``priceSpecification`` prices a period, not the product: a billing duration or increment (a rental,
    a subscription, a lease), or a unit price whose reference quantity is a month, a year, a week or a day."""
    if spec.get("billingDuration") is not None or spec.get("billingIncrement") is not None:
        return True
    quantity = spec.get("referenceQuantity")
    return isinstance(quantity, dict) and str(quantity.get("unitCode") or "").upper() in _PERIODS


def _several(offer: dict[str, Any], specs: list[dict[str, Any]]) -> bool:
    """Whether an offer (or its price specification) is for several units at least: ``eligibleQuantity`` with a
    ``minValue`` (or ``value``) over one, a quantity tier's price ("10+ € 5,38"), never the price of one."""
    for holder in (offer, *specs):
        quantity = holder.get("eligibleQuantity")
        if isinstance(quantity, dict):
            least = quantity.get("minValue", quantity.get("value"))
            try:
                if least is not None and float(least) > 1:
                    return True
            except (TypeError, ValueError):
                continue
    return False


def _from_json_ld(page: Page) -> Facts:
    facts = Facts()
    for block in page.ld_json:
        data = _loads(block)
        if data is None:
            continue
        for product in _walk(data):
            facts.is_product = True
            facts.used_item = facts.used_item or condition_of(product.get("itemCondition")) in OTHER_CONDITIONS
            facts.title = facts.title or _text(product.get("name"))
            facts.sku = facts.sku or _text(product.get("sku"))
            facts.mpn = facts.mpn or _text(product.get("mpn"))
            for key in _GTIN_KEYS:
                facts.gtin = facts.gtin or _text(product.get(key))
            for offer in _offers(product):
                currency = _currency(_text(offer.get("priceCurrency")), page)
                facts.currency = facts.currency or currency
                stock = availability_of(offer.get("availability"))
                facts.availability = facts.availability or stock
                facts.stock |= {stock} if stock else set()
                value = offer.get("price")
                if value is None:
                    value = offer.get("lowPrice")
                spec = offer.get("priceSpecification")
                specs = [s for s in (spec if isinstance(spec, list) else [spec]) if isinstance(s, dict)]
                if any(_recurring(item) for item in specs):
                    continue  # (a rental's or a subscription's price a month: the buy-outright offer is the price)
                if _several(offer, specs):
                    continue  # (a quantity tier's price: the price of one is another offer's, or the buy box's)
                for item in specs:
                    kind = str(item.get("priceType", "")).rsplit("/", 1)[-1]
                    got = _price(item.get("price"), currency, page.locale)
                    if got is None:
                        continue
                    if kind in {"ListPrice", "StrikethroughPrice", "MSRP", "SRP"}:
                        facts.candidates.append(Candidate("json-ld", got[0], currency, got[1], 0.9, "regular"))
                    elif value is None:
                        value = item.get("price")
                        currency = currency or _currency(_text(item.get("priceCurrency")), page)
                got = _price(value, currency, page.locale)
                if got is None:
                    continue
                seller = offer.get("seller")
                seller_name = _text(seller)
                if seller_name:
                    facts.offered_by.append((got[0], seller_name))
                if seller_name and _text(product.get("name")) != seller_name:
                    facts.sellers.append(Offer(seller_name, _text(seller.get("@id")) if isinstance(seller, dict)
                                               else None, got[0], currency, got[1]))
                note = "lowPrice" if "price" not in offer and "lowPrice" in offer else None
                if note is None:  # (an AggregateOffer's lowest price is some offer's, of whatever condition)
                    facts.conditions.append((got[0], condition_of(offer.get("itemCondition"))))
                    # which variant the offer sells: the cascade matches it with the variant the URL selects
                    ids = [v for v in (_text(offer.get("url")), _text(offer.get("sku")), _text(product.get("sku")))
                           if v]
                    note = ("offer " + " ".join(ids)) if ids else None
                facts.candidates.append(Candidate("json-ld", got[0], currency, got[1], 0.9, note=note))
    if len(facts.sellers) < 2:
        facts.sellers = []  # one seller is the shop itself, not a marketplace offer list
    return facts


def _attr(node: Any) -> str | None:
    attrs = node.attributes
    for key in ("content", "value", "href", "datetime"):
        if attrs.get(key):
            return str(attrs[key]).strip()
    text = node.text(deep=True)
    return " ".join(text.split()) or None


def _unstruck(node: Any, page: Page) -> str | None:
    """The text of a price element showing two amounts, the list price struck through and the current
    one ("<s>$79.99</s> $39.99" marked up as one ``itemprop=price``): the amounts not struck through.

    None when the element has a ``content`` value, or shows one amount (read as it is).
    """
    attrs = node.attributes
    if any(attrs.get(key) for key in ("content", "value")):
        return None
    text = node.text(deep=True)
    if len(text) > 400 or len(find_amounts(text, locale=page.locale)) < 2:
        return None
    struck = {part.mem_id for part in node.css(STRUCK) if part.mem_id != node.mem_id}
    if not struck:
        return None
    kept = []
    for child in node.traverse(include_text=True):
        if child.tag != "-text":
            continue
        parent, inside = child.parent, False
        while parent is not None and parent.mem_id != node.mem_id:
            if parent.mem_id in struck:
                inside = True
                break
            parent = parent.parent
        if not inside:
            kept.append(child.text_content or "")
    return " ".join("".join(kept).split()) or None


def _rdfa_name(value: str) -> str | None:
    """The schema.org property names in an RDFa ``property`` value (``schema:price``, full IRIs), else None."""
    names = []
    for token in value.split():
        if token.startswith(("http://schema.org/", "https://schema.org/")):
            token = token.rsplit("/", 1)[1]
        elif token.startswith("schema:"):
            token = token[7:]
        elif ":" in token:
            continue  # og:, product:, twitter: ... belong to the meta-tag reader
        names.append(token)
    return " ".join(names) or None


# Microdata / RDFa nodes, and OpenGraph-style meta tags: one lexbor search finds both (each search
# is a pass over the whole tree). It returns a node once for each selector it matches, in this
# order; :func:`_marked_nodes` gives each reader the list its own search would have returned.
_MARKED = "[itemprop], [itemtype], [property], [typeof], meta[name]"
_MICRODATA_ATTRS = ("itemprop", "itemtype", "property", "typeof")


def _marked_nodes(page: Page) -> tuple[list[Any], list[Any]]:
    """What ``css("[itemprop], [itemtype], [property], [typeof]")`` and ``css("meta[property], meta[name]")``
    return, from one search: each node as many times as it matches selectors of the list, in document order."""
    microdata: list[Any] = []
    meta: list[Any] = []
    last = None
    for node in page.tree.css(_MARKED):
        if node.mem_id == last:
            continue  # the same node again, for the next selector it matches: counted below
        last = node.mem_id
        attrs = node.attributes
        microdata.extend([node] * sum(name in attrs for name in _MICRODATA_ATTRS))
        if node.tag == "meta":
            meta.extend([node] * (("property" in attrs) + ("name" in attrs)))
    return microdata, meta


def _from_microdata(page: Page, nodes: list[Any]) -> Facts:
    """``nodes``: the page's microdata and RDFa nodes (:func:`_marked_nodes`)."""
    facts = Facts()
    first: dict[str, Any] = {}
    prices: list[Any] = []
    rdfa: list[Any] = []
    rdfa_first: dict[str, Any] = {}
    # Pages mark up hundreds of reviews and menu items: per node, only the attributes it has are read.
    for node in nodes:
        attrs = node.attributes
        kind = attrs.get("itemtype")
        if kind and ("schema.org/product" in kind.lower() or "schema.org/offer" in kind.lower()):
            facts.is_product = True
        prop = attrs.get("itemprop")
        if prop:
            for name in prop.split():
                if name not in first:
                    first[name] = node
                if name == "price" or name == "lowPrice":
                    prices.append(node)
        typeof = attrs.get("typeof")
        if typeof and {t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for t in typeof.lower().split()} & {"product", "offer"}:
            facts.is_product = True
        # RDFa Lite: property="price" / "schema:price" / "https://schema.org/price" (never og:, product:)
        rdfa_prop = attrs.get("property")
        if not rdfa_prop:
            continue
        for name in (_rdfa_name(rdfa_prop) or "").split():
            rdfa_first.setdefault(name, node)
            if name in {"price", "lowPrice"}:
                rdfa.append(node)
    for key, node in rdfa_first.items():
        first.setdefault(key, node)  # microdata first, then RDFa: the same schema.org vocabulary
    for prop, name in (("sku", "sku"), ("mpn", "mpn"), ("gtin13", "gtin"), ("gtin12", "gtin"), ("gtin", "gtin")):
        if getattr(facts, name) is None and prop in first:
            setattr(facts, name, _attr(first[prop]))
    if "priceCurrency" in first:
        facts.currency = _currency(_attr(first["priceCurrency"]), page)
    if "availability" in first:
        facts.availability = availability_of(_attr(first["availability"]))
        facts.stock |= {facts.availability} if facts.availability else set()
    if facts.is_product and "name" in first:
        facts.title = _attr(first["name"])
    # The first itemprop=price is usually the product's own; the next two may be its sale price
    # (list and sale both marked up), later ones are related items. The cascade checks them
    # against the visible page.
    for rank, node in enumerate(_own_item(prices)[:3]):
        value = _unstruck(node, page) or _attr(node)
        got = _price(value, facts.currency, page.locale) if value else None
        if got is None and value:
            parsed = parse_amount(node.text(deep=True), locale=page.locale, currency=facts.currency)
            got = (parsed.amount, parsed.raw) if parsed else None
        if got is not None:
            facts.candidates.append(Candidate("microdata", got[0], facts.currency, got[1], 0.85 - 0.1 * rank))
    for node in rdfa[:1]:
        got = _price(_attr(node), facts.currency, page.locale)
        if got is not None:
            facts.candidates.append(Candidate("rdfa", got[0], facts.currency, got[1], 0.8))
    return facts


def _top_scope(node: Any) -> int | None:
    """The outermost ``itemscope`` element holding ``node`` (its item, or the item that item belongs to), if any."""
    top = None
    node = node.parent
    while node is not None:
        if "itemscope" in node.attributes:
            top = node.mem_id
        node = node.parent
    return top


def _own_item(prices: list[Any]) -> list[Any]:
    """The ``itemprop=price`` nodes of the page's own item: those in the top-level item of the first price
    that has one. A price in another item (a related product's, an accessory's in a carousel) or in no
    item at all (an ``itemprop`` no ``itemscope`` holds) belongs to something else; a page with no item
    at all keeps its prices as they come."""
    scopes = [_top_scope(node) for node in prices]
    own = next((scope for scope in scopes if scope is not None), None)
    if own is None:
        # (no item holds any: the prices a block of other products holds, "Other customers also bought" tiles
        # marked up with a bare itemprop=price, are theirs; the rest stand as they come)
        return [node for node in prices if not _in_others_block(node)]
    return [node for node, scope in zip(prices, scopes, strict=True) if scope == own]


# Class or id of a block of other products than the page's: related, recommended, also bought, recently viewed.
_OTHERS_BLOCK = re.compile(r"related|recommend|similar|carousel|upsell|up-sell|cross-?sell|recent|also|sponsor",
                           re.I)


def _in_others_block(node: Any) -> bool:
    node = node.parent
    while node is not None and node.tag not in {"body", "html"}:
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if names.strip() and _OTHERS_BLOCK.search(names):
            return True
        node = node.parent
    return False


def _from_meta(page: Page, nodes: list[Any]) -> Facts:
    """``nodes``: the page's ``meta`` tags with a ``property`` or ``name`` (:func:`_marked_nodes`)."""
    facts = Facts()
    meta: dict[str, str] = {}
    for node in nodes:
        key = (node.attributes.get("property") or node.attributes.get("name") or "").lower()
        value = node.attributes.get("content")
        if key and value and key not in meta:
            meta[key] = value.strip()
    if meta.get("og:type", "").lower() in {"product", "og:product", "product.item"}:
        facts.is_product = True
    facts.currency = _currency(meta.get("product:price:currency") or meta.get("og:price:currency")
                               or meta.get("product:sale_price:currency"), page)
    # A sale price beside the price (``product:sale_price:amount`` under ``product:price:amount``) is the
    # current one, and the other the list price it is taken off.
    sale = _price(meta.get("product:sale_price:amount"), facts.currency, page.locale)
    listed = _price(meta.get("product:price:amount") or meta.get("og:price:amount"), facts.currency, page.locale)
    if sale is not None and listed is not None and sale[0] < listed[0]:
        facts.candidates.append(Candidate("opengraph", sale[0], facts.currency, sale[1], 0.75))
        facts.candidates.append(Candidate("opengraph", listed[0], facts.currency, listed[1], 0.75, "regular"))
    for key in ("product:price:amount", "og:price:amount", "product:sale_price:amount", "twitter:data1"):
        if facts.candidates:
            break
        if key in meta:
            if key == "twitter:data1" and meta.get("twitter:label1", "").lower() != "price":
                continue
            got = _price(meta[key], facts.currency, page.locale)
            if got is not None:
                facts.candidates.append(Candidate("opengraph", got[0], facts.currency, got[1], 0.75))
                break
    for key in ("og:price:standard_amount", "product:original_price:amount", "product:retail_price:amount"):
        got = _price(meta[key], facts.currency, page.locale) if key in meta else None
        if got is not None:
            facts.candidates.append(Candidate("opengraph", got[0], facts.currency, got[1], 0.75, "regular"))
            break
    facts.availability = availability_of(meta.get("product:availability") or meta.get("og:availability"))
    facts.stock |= {facts.availability} if facts.availability else set()
    facts.title = meta.get("og:title")
    return facts


# Words naming an item's condition other than new, as a listing of a used or refurbished item names it in its title
# or just below it. Kept as data: a language is a line.
_USED_LISTING = re.compile(
    r"refurbished|renewed|reconditioned|remanufactured|pre-?owned|\bused\b|second[- ]hand|open[- ]box|"
    r"reacondicionad[oa]|seminuev[oa]|de segunda mano|\busad[oa]\b|recondicionad[oa]|seminov[oa]|"
    r"ricondizionat[oa]|rigenerat[oa]|\busat[oa]\b|reconditionn[ée]|d'occasion|generalüberholt|gebraucht|b-ware|"
    r"tweedehands|\bgebruikt\b|odnowion[ya]|używan[ya]|powystawow[ya]|begagnad|\bbrugt\b|\bbrukt\b|käytetty|"
    r"kunnostettu|repasovan[ýá]|použit[ýá]|felújított|\bhasznált\b|resigilat|recondiționat|yenilenmiş|ikinci el|"
    r"восстановленн|\bб/у\b|уценк|відновлен|中古|整備済|リファービッシュ|二手|翻新|官翻|중고|리퍼|مجدد|مستعمل|"
    r"\bbekas\b|rekondisi|đã qua sử dụng|มือสอง", re.I)


def _used_listing(page: Page, facts: Facts) -> bool:
    """Whether the page sells a used, refurbished or damaged item as its own: its product is declared so, or its
    title or the text between the title and the first price names such a condition."""
    if facts.used_item:
        return True
    below = page.below_title_shown  # (the window the cascade reads below the title: the same title, the same reach)
    if below is None:
        return bool(_USED_LISTING.search(facts.title or page.title or ""))
    said = page.title_length
    first = next((a for a in find_amounts(below[said:], locale=page.locale, currency=facts.currency) if a.currency),
                 None)
    if first is not None:
        below = below[:said + first.start]
    return bool(_USED_LISTING.search(below))


def set_aside_other_condition(facts: Facts, page: Page) -> None:
    """Move the structured prices of offers for another condition than new out of ``facts.candidates`` into
    ``facts.other_condition``, unless the page sells such an item as its own.

    A marketplace's JSON-LD may describe a refurbished or used offer (``itemCondition`` RefurbishedCondition)
    while the buy box sells the new item: that amount is another offer's, printed under "other conditions", never
    the page's price. An amount a new (or unnamed) offer also has stays, and so does an AggregateOffer's lowest
    price unless it is only such an offer's.
    """
    other = {price for price, condition in facts.conditions if condition in OTHER_CONDITIONS}
    if not other:
        return
    plain = {price for price, condition in facts.conditions if condition not in OTHER_CONDITIONS}
    drop = other - plain
    if not drop or _used_listing(page, facts):
        return
    named = {price: condition for price, condition in facts.conditions if condition in OTHER_CONDITIONS}
    facts.other_condition = [Candidate(c.method, c.price, c.currency, c.raw_text, c.confidence, c.role,
                                       f"other condition: {named.get(c.price, 'lowPrice')}")
                             for c in facts.candidates if c.role == "current" and c.price in drop]
    facts.candidates = [c for c in facts.candidates if not (c.role == "current" and c.price in drop)]


def read_structured(page: Page) -> Facts:
    """Product facts and price candidates from JSON-LD, then microdata/RDFa, then OpenGraph meta tags; the prices
    of offers for another condition than the page sells set aside (:func:`set_aside_other_condition`)."""
    facts = _from_json_ld(page)
    microdata, meta = _marked_nodes(page)
    facts.merge(_from_microdata(page, microdata))
    facts.merge(_from_meta(page, meta))
    set_aside_other_condition(facts, page)
    return facts
