"""Step 2 of the cascade: the JSON state a single-page shop embeds for its own scripts.

``__NEXT_DATA__``, ``window.__INITIAL_STATE__`` / ``__PRELOADED_STATE__`` / ``__NUXT__`` style
assignments and Shopify's product JSON. The blobs are found by regex, parsed with
``parse_float=Decimal`` (never a float), and searched breadth-first for the shallowest object
that looks like a product: a name and a price.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crawlers.extract.amounts import is_price, parse_amount
from crawlers.extract.model import Candidate
from crawlers.extract.page import Page
from crawlers.extract.structured import Facts, availability_of
from pricewarden.money import canonical_currency

__all__ = ["read_embedded", "variant_amounts"]

_JSON_SCRIPTS = re.compile(
    r"""<script[^>]*(?:id=["'](?:__NEXT_DATA__|ProductJson[^"']*|product-json[^"']*)["']|data-product-json"""
    r"""|type=["']application/json["'][^>]*data-product)[^>]*>(.*?)</script>""",
    re.I | re.S,
)
# Global state assignments (``window.__INITIAL_STATE__ = {...}``); found with str.find, which is
# far cheaper than one alternation regex tried at every position of a 500 KB page.
_STATE_NAMES = ("__INITIAL_STATE__", "__PRELOADED_STATE__", "__APOLLO_STATE__", "__STATE__", "__INITIAL_DATA__",
                "__PRODUCT__", "productData", "product_data", "var meta")
_EQUALS_BRACE = re.compile(r"\s*=\s*\{")
# Any other global of the same form (``window.__PRODUCT_STATE__ = {...}``): a shop's own name for its state.
_WINDOW_GLOBAL = re.compile(r"window\.(__\w{2,40}__)\s*=\s*\{")
_PRICE_KEYS = ("salePrice", "sale_price", "currentPrice", "current_price", "finalPrice", "final_price",
               "offerPrice", "price", "priceAmount", "price_amount", "amount")
_REGULAR_KEYS = ("listPrice", "list_price", "regularPrice", "regular_price", "originalPrice", "original_price",
                 "compare_at_price", "compareAtPrice", "wasPrice", "msrp")
_NAME_KEYS = ("name", "title", "productName", "product_name")
_MAX_NODES = 20000  # bound the walk: a state blob can hold a whole catalogue


_SHARED_END = "STATE__"  # (four of the state names end so, and it overlaps no other place of itself)


def _places(page: Page, word: str) -> Iterator[int]:
    """Where the page's text holds ``word``, left to right, each past the end of the one before; the text is searched
    only when the source's bytes hold the word (:meth:`Page.mentions`)."""
    if not page.mentions(word):
        return
    html = page.html
    at = html.find(word)
    while at >= 0:
        yield at
        at = html.find(word, at + len(word))


def _state_places(page: Page) -> Iterator[tuple[str, int]]:
    """(name, start) of each place the page's text holds one of :data:`_STATE_NAMES`: name by name, each name's
    places left to right, none overlapping the one before (as ``str.find`` from the end of the last finds them).

    Each search reads all of a 600 KB page: a name is looked for in the text only when the source's bytes hold it
    (:meth:`Page.mentions`, half the cost; most pages hold none of them), and the names ending in "STATE__" are
    found by one search for that ending, not one each.
    """
    html = page.html
    ends = [at + len(_SHARED_END) for at in _places(page, _SHARED_END)]
    for name in _STATE_NAMES:
        if name.endswith(_SHARED_END):
            starts = [end - len(name) for end in ends if end >= len(name) and html.startswith(name, end - len(name))]
        else:
            starts = list(_places(page, name))
        last = 0
        for start in starts:
            if start >= last:
                yield name, start
                last = start + len(name)


def _blobs(page: Page) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for text in _JSON_SCRIPTS.findall(page.html):
        try:
            found.append(("script", json.loads(text, parse_float=Decimal)))
        except (ValueError, RecursionError):  # broken, or nested deeper than any real state
            continue
    decoder = json.JSONDecoder(parse_float=Decimal)
    html = page.html
    for name, at in _state_places(page):
        m = _EQUALS_BRACE.match(html, at + len(name))
        if m is not None and (at == 0 or not (html[at - 1].isalnum() or html[at - 1] in "_$")):
            # raw_decode stops at the end of the object: no brace matching in Python.
            with contextlib.suppress(ValueError, RecursionError):
                found.append((name.removeprefix("var "), decoder.raw_decode(html, m.end() - 1)[0]))
    for at in _places(page, "window.__"):
        m = _WINDOW_GLOBAL.match(html, at)
        if m is not None and m.group(1) not in _STATE_NAMES:
            with contextlib.suppress(ValueError, RecursionError):
                found.append((m.group(1), decoder.raw_decode(html, m.end() - 1)[0]))
    return found


def _money(value: Any, currency: str | None, page: Page, cents: bool) -> tuple[Decimal, str, str | None] | None:
    if isinstance(value, dict):
        code = value.get("currency") or value.get("currencyCode")
        currency = (canonical_currency(code) if isinstance(code, str) else None) or currency
        shown = next((value[k] for k in ("formatted", "formattedValue", "display") if isinstance(value.get(k), str)),
                     None)
        number = next((value[k] for k in ("value", "amount") if k in value), None)
        if shown is not None and isinstance(number, int) and not isinstance(number, bool):
            # {"value": 5995, "formatted": "59,95 €"}: the integer is in minor units when the text the page
            # prints says so; the printed text decides
            printed = _money(shown, currency, page, cents)
            if printed is not None and printed[0] * 100 == number:
                return printed
        for key in ("value", "amount", "raw", "price", "current", "sale", "final", "selling", "formatted",
                    "formattedValue", "display"):
            if key in value:
                return _money(value[key], currency if isinstance(currency, str) else None, page, cents)
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        # Shopify's product JSON gives integer cents (12999 = 129.99).
        amount = Decimal(value) / 100 if cents else Decimal(value)
        return (amount, str(value), currency) if is_price(amount) else None
    if isinstance(value, Decimal):
        # "1e309", "-199.00", 10**15: not finite, not positive or absurd, never a price
        return (value, str(value), currency) if is_price(value) else None
    if isinstance(value, str):
        parsed = parse_amount(value, locale=page.locale, currency=currency)
        if parsed is not None and is_price(parsed.amount):
            return parsed.amount, value, parsed.currency or currency
    return None


def _nodes(data: Any, skip: str | None = None) -> Iterator[dict[str, Any]]:
    """The objects of a JSON blob, breadth first: at most ``_MAX_NODES`` visited, a list's first 200 items;
    ``skip`` names a key whose value is not walked into."""
    queue: deque[Any] = deque([data])
    seen = 0
    while queue and seen < _MAX_NODES:
        node = queue.popleft()
        seen += 1
        if isinstance(node, list):
            queue.extend(node[:200])
        elif isinstance(node, dict):
            yield node
            queue.extend(v for k, v in node.items() if isinstance(v, (dict, list)) and k != skip)


_OFFER_KEYS = ("buybox", "buyBox", "buy_box", "offer", "pricing", "priceInfo", "price_info")


def _product_like(node: dict[str, Any]) -> bool:
    return any(k in node for k in _NAME_KEYS) and any(k in node for k in _PRICE_KEYS) and (
        any(k in node for k in ("sku", "id", "productId", "product_id", "handle", "variants", "offers"))
    )


def _priced_part(node: dict[str, Any]) -> dict[str, Any] | None:
    """Where a named product object without a price of its own keeps it: its offer object (``buybox``,
    ``pricing``), or each of its variants alike (every colour at the same price); None when neither says one price.
    """
    if not any(k in node for k in _NAME_KEYS) or any(k in node for k in _PRICE_KEYS):
        return None
    for key in _OFFER_KEYS:
        part = node.get(key)
        if isinstance(part, dict) and any(k in part for k in _PRICE_KEYS[:-3]):
            return part
    for value in node.values():
        if isinstance(value, list) and value and all(isinstance(v, dict) and "price" in v for v in value[:200]):
            prices = [json.dumps(v["price"], sort_keys=True, default=str) for v in value[:200]]
            if len(set(prices)) == 1:
                first: dict[str, Any] = value[0]
                return first  # (the variants' one price; variants at different prices decide nothing here)
    return None


_IDENTITY_KEYS = ("id", "sku", "productId", "product_id", "handle", "slug")
_PART_LISTS = ("variants", "children", "skus", "variations", "options", "items")


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()


def _in_address(value: Any, address: str) -> bool:
    """Whether ``value`` (an id, a SKU, a handle) is a whole token of the page's address (``p12077``, ``/TR-RC18``)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return False
    said = str(value).strip().lower()
    if len(said) < 4:
        return False
    edge = r"\d" if said.isdigit() else r"[0-9a-z]"
    return re.search(rf"(?<!{edge}){re.escape(said)}(?!{edge})", address) is not None


def _is_this_page(node: dict[str, Any], title: str, address: str) -> bool:
    """Whether a state's object is the product the page is about: its name is the page's title (or holds it, or is
    held by it), or its id, SKU or handle is in the page's address."""
    name = next((node[k] for k in _NAME_KEYS if isinstance(node.get(k), str)), None)
    if name is not None and title:
        said = _comparable(name)
        if said == title or (min(len(said), len(title)) >= 8 and (said in title or title in said)):
            return True
    return any(_in_address(node.get(k), address) for k in _IDENTITY_KEYS)


def _designated_part(node: dict[str, Any], wanted: set[str]) -> dict[str, Any] | None:
    """The variant of a product object (in its ``variants``, ``children``, ``skus``... list) whose id, SKU or code is a
    value of the page address's query (``?spid=12079``, ``?varian=putih``), when it has a price; else None."""
    for key in _PART_LISTS:
        parts = node.get(key)
        if not isinstance(parts, list):
            continue
        for part in parts[:200]:
            if isinstance(part, dict) and any(k in part for k in _PRICE_KEYS) and any(
                    isinstance(part.get(k), (str, int)) and str(part[k]).strip().lower() in wanted
                    for k in _VARIANT_IDS):
                return part
    return None


def read_embedded(page: Page, currency: str | None = None) -> Facts:
    """Price candidates and product facts from embedded JSON state, or empty ``Facts``.

    The state of a single-page shop holds other products too (a promo banner's, the recently viewed, the cart's):
    the product the page is about (its name the page's title, or its id in the address) gives the price, the variant
    the address's query designates first; without one known, the first object that looks like a product does. When
    the page's product is known and gives no one price (its variants differ, none designated), no other does."""
    facts = Facts()
    blobs = _blobs(page)
    if not blobs:
        return facts  # (most pages: no state, and nothing of the page's title or address to work out)
    split = urlsplit(page.url)
    address = f"{split.path}?{split.query}".lower()
    wanted = {v.strip().lower() for _, v in parse_qsl(split.query) if v.strip()}
    title = _comparable(page.heading_text[0] or page.named_title or "")
    found: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    mine: tuple[str, dict[str, Any], dict[str, Any] | None] | None = None
    known = False
    for origin, data in blobs:
        for node in _nodes(data):
            like = _product_like(node)
            part = None if like else _priced_part(node)
            named = like or part is not None or any(k in node for k in _NAME_KEYS)
            this = named and _is_this_page(node, title, address)
            designated = _designated_part(node, wanted) if this and wanted else None
            if designated is not None or (this and (like or part is not None)):
                mine = (origin, node, designated if designated is not None else part)
                break
            known = known or this
            if (like or part is not None) and len(found) < 50:
                found.append((origin, node, part))
        if mine is not None:
            break
    for origin, node, part in [mine] if mine is not None else [] if known else found:
        facts = _facts_of(page, origin, node, part, currency)
        if facts.candidates:
            return facts
    return facts


def _facts_of(page: Page, origin: str, node: dict[str, Any], part: dict[str, Any] | None,
              currency: str | None) -> Facts:
    """What one product object of a state says: its price and list price (or its offer's or variant's, ``part``),
    name, SKU, availability and currency; no candidates when it gives no price."""
    facts = Facts()
    cur = node.get("currency") or node.get("currencyCode") or node.get("priceCurrency") or currency
    if part is not None and not isinstance(cur, str):
        cur = part.get("currency") or part.get("currencyCode") or part.get("priceCurrency") or currency
    cur = (canonical_currency(cur) if isinstance(cur, str) else None) or currency
    # (asked only of a state that gives a price: a few searches of the whole page; Shopify's theme names its product
    # JSON "ProductJson-…" also where its assets come from a shop's own domain)
    cents = origin in {"script", "meta"} and (page.mentions("cdn.shopify.com") or page.mentions("Shopify.shop")
                                              or page.mentions('id="ProductJson-'))
    variants = node.get("variants")
    source = part if part is not None else node
    if part is None and not any(k in node for k in _PRICE_KEYS[:-3]) and isinstance(variants, list) and variants:
        source = variants[0] if isinstance(variants[0], dict) else node
    for key in _PRICE_KEYS:
        got = _money(source.get(key), cur, page, cents)
        if got is not None:
            facts.candidates.append(Candidate("embedded-json", got[0], got[2] or cur, got[1], 0.7,
                                              note=f"{origin}.{key}"))
            break
    for key in _REGULAR_KEYS:
        got = _money(source.get(key), cur, page, cents)
        if got is not None:
            facts.candidates.append(Candidate("embedded-json", got[0], got[2] or cur, got[1], 0.7, "regular",
                                              note=f"{origin}.{key}"))
            break
    if facts.candidates:
        facts.is_product = True
        name = next((node[k] for k in _NAME_KEYS if isinstance(node.get(k), str)), None)
        facts.title = name
        sku = node.get("sku")
        facts.sku = str(sku) if isinstance(sku, (str, int)) else None
        avail = node.get("availability") or node.get("available")
        if isinstance(avail, bool):
            facts.availability = "InStock" if avail else "OutOfStock"
        else:
            facts.availability = availability_of(avail)
        facts.currency = cur
    return facts


_VARIANT_IDS = ("id", "sku", "variantId", "variant_id", "skuId", "sku_id", "code")


def variant_amounts(page: Page, wanted: set[str]) -> set[Decimal]:
    """What the page's embedded product JSON says the variant ``wanted`` names costs: every reading of it.

    ``wanted``: the values of the page URL's query (``?variant=44187220551841``). A variant is an object
    of a ``variants`` list whose ``id`` or ``sku`` is one of them; its ``price`` may be in minor units
    (Shopify's 114900), so an integer gives both readings (114900 and 1149.00) and the caller keeps the
    one the page shows. Empty when no state names the variant.
    """
    if not wanted or '"variants"' not in page.html:
        return set()
    found: set[Decimal] = set()
    for _, data in _blobs(page):
        for node in _nodes(data, skip="variants"):
            variants = node.get("variants")
            if isinstance(variants, list):
                for variant in variants[:200]:
                    if not isinstance(variant, dict):
                        continue
                    ids = {str(variant[k]) for k in _VARIANT_IDS if isinstance(variant.get(k), (str, int))}
                    if not ids & wanted:
                        continue
                    value = next((variant[k] for k in _PRICE_KEYS if k in variant), None)
                    if isinstance(value, bool) or value is None:
                        continue
                    if isinstance(value, int):
                        found |= {a for a in (Decimal(value), Decimal(value) / 100) if is_price(a)}
                    elif isinstance(value, Decimal) and is_price(value):
                        found.add(value)
                    elif isinstance(value, str):
                        # ("1149.00" is machine data; "1.149,00 €" is as the page writes it)
                        machine = re.fullmatch(r"\d+(?:\.\d+)?", value.strip()) is not None
                        parsed = parse_amount(value, decimal_separator="." if machine else None, locale=page.locale)
                        if parsed is not None and is_price(parsed.amount):
                            found.add(parsed.amount)
    return found


def selected_variation(page: Page) -> Decimal | None:
    """The price of the one variation a WooCommerce variable product's ``data-product_variations`` holds for the
    attributes the page URL's query selects (``?attribute_pa_size=l``); else None.

    A variation matches when every attribute it names (an empty value means any) has that value in the query;
    its ``display_price`` is the price the buy box shows once the page's script has read the URL.
    """
    query = {k.lower(): v.lower() for k, v in parse_qsl(urlsplit(page.url).query) if k.lower().startswith("attribute_")}
    # (the URL first: most select no attribute, and the page's source need not be searched)
    if not query or not page.mentions("data-product_variations"):  # (the source's bytes: no decoding of the page)
        return None
    found: set[Decimal] = set()
    for form in page.tree.css("[data-product_variations]"):
        with contextlib.suppress(ValueError):
            data = json.loads(form.attributes.get("data-product_variations") or "", parse_float=Decimal)
            for variation in data[:200] if isinstance(data, list) else []:
                attrs = variation.get("attributes") if isinstance(variation, dict) else None
                if not isinstance(attrs, dict):
                    continue
                named = {str(k).lower(): str(v).lower() for k, v in attrs.items() if v not in ("", None)}
                if not named or any(query.get(k) != v for k, v in named.items()):
                    continue
                price = variation.get("display_price")
                if isinstance(price, (int, Decimal)) and not isinstance(price, bool) and is_price(Decimal(price)):
                    found.add(Decimal(price))
    return found.pop() if len(found) == 1 else None
