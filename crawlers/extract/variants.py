"""The variant a product page's address designates, as its own variant selector shows it.

A variant page (a size, colour, fabric, build, shade or set option) is addressed by its own URL: a query value
(``?variant=``, ``?size=``, ``?sku=``, ``?attribute_pa_size=``, ``?variant_code=``), a path segment
(PrestaShop's ``231-45-``, a Shoper stock id, a Shopware product number) or both. The page's variant selector
lists the product's variants: links to each variant's own URL (swatches), or options of a ``<select>`` whose
values are the ids the URL carries, each with its price or its sold-out mark. The one the address designates is
the link to the page's own URL, else the option whose value the URL's query carries, else the one the page marks
selected (``option[selected]``, ``aria-checked``, ``aria-selected``, a ``selected`` / ``active`` class).

Shops print structured data (JSON-LD, microdata, Open Graph, a state script's default) for the product's default,
first or cheapest variant whatever the address designates, while the buy box shows the designated one's: the
selector says which amount is the designated variant's, and which are other variants'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborNode

from crawlers.extract.amounts import SIGN, find_amounts
from crawlers.extract.heuristics import CONDITIONAL, INSTALMENT_TAIL, shown_longer
from crawlers.extract.page import SOLD_OUT, Page, disabled

__all__ = ["Designated", "designated_option"]

# What marks an option or swatch the selected one, in its markup
_MARKED = ("option[selected], [aria-checked=true], [aria-selected=true], [aria-current=true], [aria-pressed=true], "
           "input[type=radio][checked]")
_SELECTED_CLASSES = "[class*=selected], [class*=active], [class*=checked], [class*=current]"
_SELECTED_CLASS = re.compile(r"(?:^|\s)(?:is[-_])?(?:selected|active|checked|current)(?:$|\s)")
# ... and what marks it sold out or not for sale
_SOLD_CLASS = re.compile(r"sold[-_]?out|out[-_]?of[-_]?stock|unavailable|disabled", re.I)
# Struck-through parts of an option's text (its list price: "<del>119,00 €</del> 99,00 €")
_STRUCK = "del, s, strike, [style*=line-through], [class*=was i], [class*=old i], [class*=compare i], [class*=strike i]"
# An amount an option adds to the price ("Red (+Rs. 1,000.00)", "+495 kr"), not its price
_SURCHARGE = re.compile(r"[+＋]\s*\S{0,4}\s*$")
_MAX_TEXT = 160  # an option's text: its name, its price, its list price, a sold-out mark
_MAX_OPTIONS = 60


@dataclass
class Designated:
    """The option of a variant selector that the page's address designates.

    ``current``: the amounts it shows as its price (struck-through list prices and surcharges left out);
    ``others``: the amounts the other options of its selector show so; ``sold_out``: it is disabled or says it is
    sold out; ``by``: ``url`` (a link to the page's own address, an option whose value the address carries) or
    ``mark`` (the page marks it selected)."""

    node: LexborNode
    group: list[LexborNode] = field(default_factory=list)
    current: set[Decimal] = field(default_factory=set)
    others: set[Decimal] = field(default_factory=set)
    sold_out: bool = False
    by: str = "url"

    @property
    def options(self) -> tuple[LexborNode, ...]:
        """The selector's options: this one and the rest of its group."""
        return (self.node, *self.group)


def _amounts(node: LexborNode, page: Page) -> set[Decimal]:
    """The amounts an option shows as its price: with a currency sign, not struck through, not after a "+", not a
    month's."""
    text = node.text(deep=True, separator=" ")
    if shown_longer(text, _MAX_TEXT):  # (as shown: an indent is no text)
        return set()
    for struck in node.css(_STRUCK):
        gone = struck.text(deep=True, separator=" ")
        if gone:
            text = text.replace(gone, " ", 1)
    # (an amount a month is a rental's, a subscription's or an instalment's term, "12 months · AED 199/mo": no
    # variant's price)
    return {a.amount for a in find_amounts(text, locale=page.locale)
            if a.amount > 0 and SIGN.search(a.raw) and not _SURCHARGE.search(text[:a.start])
            and not INSTALMENT_TAIL.match(text, a.end)}


def _sold_out(node: LexborNode) -> bool:
    if disabled(node):
        return True
    if _SOLD_CLASS.search(node.attributes.get("class") or ""):
        return True
    text = node.text(deep=True, separator=" ")
    return not shown_longer(text, _MAX_TEXT) and SOLD_OUT.search(text.lower()) is not None


def _bare(url: str) -> tuple[str, str, set[tuple[str, str]]]:
    parts = urlsplit(url)
    return parts.netloc.lower(), unquote(parts.path).rstrip("/"), set(parse_qsl(parts.query))


def _group(node: LexborNode, tag: str) -> list[LexborNode]:
    """The options beside ``node`` in its selector: the ``tag`` elements of its nearest ancestor (up to three
    levels up) that holds at least two."""
    up = node.parent
    for _ in range(3):
        if up is None:
            return []
        found = up.css(tag)
        if len(found) >= 2:
            return found[:_MAX_OPTIONS]
        up = up.parent
    return []


def _css_string(text: str) -> str:
    """``text`` as the inside of a double-quoted CSS string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _by_link(page: Page, nodes: list[LexborNode]) -> list[tuple[LexborNode, list[LexborNode]]]:
    """Links to the page's own address (a variant's swatch), with the links of their selector."""
    host, path, query = _bare(page.url)
    names = tuple(_last_names(page))
    best: list[tuple[int, LexborNode]] = []
    for link in nodes:
        href = link.attributes.get("href") if link.tag == "a" else None
        if not href:
            continue
        bare = href.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        if bare and not bare.endswith(names):
            continue  # (another page whose address holds this one's last segment: not a link to this page)
        their_host, their_path, their_query = _bare(urljoin(page.url, href))
        if their_host != host or their_path != path or not their_query <= query:
            continue
        best.append((len(their_query), link))
    if not best:
        return []
    top = max(score for score, _ in best)
    found = []
    for _, link in (item for item in best if item[0] == top):
        group = [other for other in _group(link, "a[href]") if other != link]
        if group:
            found.append((link, group))
    return found


def _options(option: LexborNode) -> list[LexborNode]:
    return [o for o in option.parent.css("option") if o != option][:_MAX_OPTIONS] if option.parent else []


def _by_value(page: Page, nodes: list[LexborNode]) -> list[tuple[LexborNode, list[LexborNode]]]:
    """Options of a ``<select>`` whose value the page's address carries (``?variant_code=P000BKZN000C``)."""
    wanted = _query_values(page)
    return [(node, _options(node)) for node in nodes
            if node.tag == "option" and node.attributes.get("value") in wanted]


def _by_mark(page: Page, nodes: list[LexborNode]) -> list[tuple[LexborNode, list[LexborNode]]]:
    """Options and swatches the page marks selected, with the others of their selector."""
    found = []
    for node in nodes:
        attrs = node.attributes
        if node.tag == "option":
            if "selected" in attrs:
                found.append((node, _options(node)))
            continue
        if node.tag == "input":
            # (a checked radio button: its option is its label, the others its group's labels)
            label = _label(node)
            if label is not None:
                group = [other for other in map(_label, _radios(node)) if other is not None and other != label]
                if group:
                    found.append((label, group))
            continue
        marked = "true" in (attrs.get("aria-checked"), attrs.get("aria-selected"), attrs.get("aria-current"),
                             attrs.get("aria-pressed")) or (
            node.tag in {"a", "li", "button", "label", "span"} and _SELECTED_CLASS.search(attrs.get("class") or ""))
        if marked:
            group = [other for other in _group(node, node.tag or "*") if other != node]
            if node.tag == "span" and node.parent is not None:
                # (a span marked selected among its siblings, the others links: "<a>128 GB <span>£799.00</span></a>
                # <span class=is-selected>256 GB <span>£899.00</span></span>"; the spans inside them are no options)
                group = [other for other in node.parent.iter() if other != node and other.tag in {"a", "span"}]
            if group:
                found.append((node, group))
    return found


def _ancestors(node: LexborNode, levels: int) -> Iterator[LexborNode]:
    """``node``'s parent and the ancestors above it, ``levels`` of them at most."""
    up = node.parent
    for _ in range(levels):
        if up is None:
            return
        yield up
        up = up.parent


def _label(radio: LexborNode) -> LexborNode | None:
    """A radio button's label: the ``label`` around it, else the one its ``id`` names within its selector."""
    around = next((node for node in _ancestors(radio, 2) if node.tag == "label"), None)
    name = radio.attributes.get("id")
    if around is not None or not name:
        return around
    return next((found for up in _ancestors(radio, 3)
                 if (found := up.css_first(f'label[for="{_css_string(name)}"]')) is not None), None)


def _radios(radio: LexborNode) -> list[LexborNode]:
    """The radio buttons of ``radio``'s group (its ``name``), in its nearest ancestor (up to three levels up) that
    holds at least two."""
    name = radio.attributes.get("name")
    if not name:
        return []
    query = f'input[type=radio][name="{_css_string(name)}"]'
    found = next((found for up in _ancestors(radio, 3) if len(found := up.css(query)) >= 2), [])
    return found[:_MAX_OPTIONS]


def _last_names(page: Page) -> set[str]:
    """The last segment of the page's path, as written and percent-encoded."""
    last = _bare(page.url)[1].rsplit("/", 1)[-1]
    return {last, quote(last, safe="")} if last else set()


def _query_values(page: Page) -> set[str]:
    return {v for _, v in parse_qsl(urlsplit(page.url).query) if len(v) >= 2}


def _looked_at(page: Page) -> list[LexborNode]:
    """In one pass over the page (lexbor's, not Python's): links that may be to the page's own address (naming
    its last path segment, or a query alone), options whose value its query carries or marked selected, and
    elements marked selected, checked or current."""
    selectors = ['a[href^="?"]', *(f'a[href*="{_css_string(name)}"]' for name in sorted(_last_names(page))),
                 *(f'option[value="{_css_string(value)}"]' for value in sorted(_query_values(page))), _MARKED,
                 _SELECTED_CLASSES]
    scope = _product_area(page)
    return scope.css(", ".join(selectors)) if scope is not None else []


_AREA_LEVELS = 3  # how far up from the title the product's area reaches (title, buy box column, product)


def _product_area(page: Page) -> LexborNode | None:
    """The title's ancestor :data:`_AREA_LEVELS` levels up, where a product page keeps its buy box and variant
    selector (the whole page's menus, footer and carousels mostly outside); the title is the ``h1``, else the element
    the product's name starts (:attr:`Page.title_node`); None without either."""
    node = page.title_node
    for _ in range(_AREA_LEVELS):
        if node is None or node.parent is None or node.parent.tag in {"html", "-document"}:
            break
        node = node.parent
    return node


def _read(found: list[tuple[LexborNode, list[LexborNode]]], page: Page, by: str) -> Designated | None:
    """The one designated option among ``found`` whose selector shows prices (some option shows an amount); None
    when none does or when such options disagree on the designated variant's price."""
    chosen: list[Designated] = []
    for node, group in found:
        if CONDITIONAL.search(" ".join(node.text(deep=True, separator=" ")[:8 * _MAX_TEXT].split())[:_MAX_TEXT]):
            continue  # (a way of buying with a condition, "Subscribe & Save 15% $25.49": no variant, nor its price)
        others: set[Decimal] = set()
        for other in group:
            others |= _amounts(other, page)
        if not others:
            continue  # (a selector without prices: sizes, a language switch, breadcrumbs)
        chosen.append(Designated(node, group, _amounts(node, page), others, _sold_out(node), by))
    priced = {frozenset(d.current) for d in chosen if d.current}
    if len(priced) > 1:
        return None
    with_price = [d for d in chosen if d.current]
    if with_price:
        return with_price[0] if len(with_price[0].current) == 1 else None
    return chosen[0] if chosen else None


def designated_option(page: Page) -> Designated | None:
    """The option of the page's variant selector its address designates (a link to the page's own URL, an option
    whose value the URL carries), else the one it marks selected; None when no selector with prices names one."""
    nodes = _looked_at(page)
    for finder, by in ((_by_link, "url"), (_by_value, "url"), (_by_mark, "mark")):
        found = finder(page, nodes)
        if found:
            designated = _read(found, page, by)
            if designated is not None:
                return designated
    return None
