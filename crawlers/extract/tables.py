"""What a table layout says about its amounts: the row's label, another product's cell, struck digits.

Shops built in the 2000s (osCommerce, ASP, PHP table layouts) and many shops since lay the product out as a table:
``<tr><td>Cena brutto:</td><td><b><font size=4>275,00 zł</font></b></td></tr>``. What an amount is, is then
said by the label cell of its row, not by words beside it in its own element; and the page's side columns list
other products, each a cell with a link to that product and its price. Three principles, each a small function
the visible scan (:mod:`crawlers.extract.heuristics`) calls at one place:

- **The row's label is the amount's label** (:func:`row_label`): an amount alone in its cell (``td``, ``dd``)
  whose row starts with a label cell (``th``, ``td``, ``dt`` showing words and no amount) is named by that label,
  as "Price: $5" names the amount after it. So "Cena brutto:", "Ціна:", "판매가", "KDV Dahil:" name the price,
  and "Havale/EFT ile:", "وفر:", "Koszty dostawy" name what is not (the scan's own word lists read them).
- **A label naming the price, in the shop's language** (:func:`price_labels`, :data:`PRICE_WORDS`): "Cena:",
  "Ціна:", "Цена:", "Fiyatı:", "السعر:", "판매가", "Prijs:", "Pris:", "Hinta:", "Ár:"... gives the amount right after
  it the weight "Price:" and "Preis:" give (an amount so labelled outranks unlabelled ones), unless a second
  amount follows it with no label of its own ("Τιμή: 84,00€ 72,00€": the label names the pair, an old price and
  the new one, and says nothing of which is which).
- **Another product's cell** (:func:`other_products`): an amount in a small cell (a side column's box, a list
  item) that also holds a link to another page of the same kind as this one (``product_info.php?products_id=1120``
  on ``product_info.php?products_id=1184``; ``/p/other-item`` on ``/p/this-item``) is that product's price, not
  this page's: it is read as outside the product's block, never the price on its own.
- **Struck digits are struck** (:func:`struck_digits`): ``<strike>36,000</strike><span>원</span>`` is a list price
  whose sign the shop wrote outside the strike; the amount read from both is struck.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

__all__ = ["PRICE_WORDS", "WITH_DELIVERY", "other_products", "price_labels", "row_label", "struck_digits"]

# Words that name the price a shopper pays, in the shops' languages (case-blind; the scan looks for them in the
# 25 characters before an amount, with the English, German, French, Spanish, Italian, Chinese, Japanese and
# Korean ones it had). A word that names another price ("Cena netto", "Cena katalogowa", "Цена за кг") is read
# by the scan's own lists first: the label only adds weight to an amount that stays current.
# The word must be the whole label ("Cena:", "Ціна:", "Fiyatı:", "판매가"), or followed only by a word saying the price
# is the gross one or the current one ("Cena brutto:", "Cena s DPH:", "السعر الآن:"): a label that goes on names
# another price in words the scan may not know ("Цена без скидки", the price before the discount; "Cena
# katalogowa"). Nor after another word that makes it another price ("Törzsvásárlói ár", the loyal customers'
# price; "와우할인가", the members' discount price).
# (The word starts the label: at the window's start, after a colon, bar or bracket, or after a number; not after
# an abbreviation's dot, "Rek. pris", the recommended price.)
PRICE_WORDS = (r"(?:^|(?<=[:|)\]•·])|(?<=[:|)\]•·]\s)|(?<=\d\s))(?:"
               r"cena|cij?ena|цена|ціна|цэна|fiyat[ıi]?|السعر|سعر|prijs|pris|hinta|ár|τιμή|מחיר|preço|pre[tț]|"
               r"kaina|hind|giá|harga|ราคา|판매가|할인가|售價|verð|baha|qiym[əe]t|үнэ|bei)"
               r"(?:\s+(?:brutto|bruto|s DPH|s DDV|sa PDV|s PDV|z VAT|с НДС|з ПДВ|с ДДС|TTC|الآن|now|actual|aktualna))?"
               r"\s*[:：]?\s*$")

# Words before an amount that make it the price with delivery ("z dostawą 1 258,99 zł", "inkl. Versand 52,89 €"):
# the price and the shipping together, never the price. (Only before the amount: "1 249,00 zł z dostawą" may as
# well say that the amount before the words includes it; that amount keeps its reading.)
WITH_DELIVERY = re.compile(r"\bz dostawą|\bwith delivery\b|\binkl(?:\.|usive)? versand|\bavec (?:la )?livraison|"
                           r"\blivraison (?:comprise|incluse)|\bcon env[ií]o\b|\bcom (?:o )?frete\b|"
                           r"\b(?:incl\.?|inclusief) verzend|\bmet verzending|\bs doručením|\bs dopravou|"
                           r"\bvčetně dopravy|с доставкой|з доставкою|\bkargo dahil", re.I)

# A cell that may hold an amount and its row's label before it; a label cell; a cell of a side box or list.
_VALUE_CELLS = frozenset({"td", "dd"})
_LABEL_CELLS = frozenset({"td", "th", "dt"})
_TILE_CELLS = frozenset({"td", "li", "dd"})
_LABEL_MAX = 40  # characters a label cell shows at most
_TILE_TEXT = 160  # characters a side box's cell shows at most (a name, a struck price, a price)
# Digits a label does not show: an amount's (three in a row, or a separator between two)
_AMOUNTISH = re.compile(r"\d{3}|\d[\s.,'\u00a0\u202f]\d")
_STRUCK_TAGS = "del, s, strike"
_ELSEWHERE = ("outside", "noise:", "aside", "header", "footer", "nav")  # (reasons of the scan: another block's)
_WORDS = re.compile(r"[^\W\d_]{2}")  # (a name: two letters in a row, "Cylindre Verrou C45 30x30")
_DIGITS = re.compile(r"\d")


class _Item(Protocol):
    """An amount the visible scan read (its ``_Seen``): its element, score, role and reasons."""

    node: LexborNode
    score: float
    role: str
    reasons: list[str]

    @property
    def amount(self) -> object: ...


def _text(node: LexborNode) -> str:
    return " ".join(((node.text_content or "") if node.is_text_node else node.text(deep=True)).split())


def row_label(element: LexborNode, raw: str) -> str:
    """The label of the table row (or description term) whose value cell shows ``raw`` alone, else "".

    The value cell is ``element`` or one of its three nearest ancestors (a ``td`` or ``dd``: ``<td><b><font>275,00
    zł</font></b></td>``), and it shows nothing but the amount (a bracketed reference or a unit after it may
    follow: "4 326 грн. ($105.00)"); the label is the nearest cell before it in its row (``th``, ``td``, ``dt``),
    showing words and no amount ("Cena brutto:", "판매가", "Havale/EFT ile:").
    """
    cell: LexborNode | None = element
    for _ in range(4):
        if cell is None or cell.tag in _VALUE_CELLS:
            break
        cell = cell.parent
    if cell is None or cell.tag not in _VALUE_CELLS:
        return ""
    shown = _text(cell)
    if not shown.startswith(raw) and not shown.startswith(raw.split(" ")[0]):
        return ""  # (the cell says something before the amount: its own words are its label)
    label = cell.prev
    while label is not None and label.is_text_node and not (label.text_content or "").strip():
        label = label.prev
    if label is None or label.tag not in _LABEL_CELLS:
        return ""
    said = _text(label)
    if not said or len(said) > _LABEL_MAX or _AMOUNTISH.search(said):
        return ""
    return said


@lru_cache(maxsize=1024)
def _kind(url: str) -> tuple[str, str, str] | None:
    """(path, query, first path segment) of a page address, for comparing pages of one kind."""
    parts = urlsplit(url)
    path = parts.path or "/"
    segments = [s for s in path.split("/") if s]
    return path, parts.query, segments[0] if len(segments) >= 2 else ""


def _other_page(href: str, own: tuple[str, str, str]) -> bool:
    """Whether ``href`` points at another page of the kind of ``own``: the same script with another query
    (``product.php?id=7702`` beside ``product.php?id=7741``), or another path under the same first segment
    (``/p/other`` beside ``/p/this``)."""
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return False
    kind = _kind(href)
    if kind is None:
        return False
    path, query, first = kind
    own_path, own_query, own_first = own
    if path.rsplit("/", 1)[-1] == own_path.rsplit("/", 1)[-1] and query and own_query:
        return query != own_query and not own_query.startswith(query) and not query.startswith(own_query)
    return bool(first) and first == own_first and path != own_path and not query


def other_products(items: Iterable[_Item], url: str, title_box: frozenset[int]) -> None:
    """Mark the amounts in another product's cell as outside the product's block (reason ``outside``).

    The cell is the amount's nearest ``td``, ``li`` or ``dd`` (within three ancestors) showing a short text, not
    holding the title, with a link to another page of this page's kind (:func:`_other_page`) whose text is a
    name (letters, not an amount alone). On the product's own page such a cell is a side column's special, a
    best-seller list's line or an accessory's tile; the title's own cell never is. An amount another block holds
    already (a related tile, the page chrome) is left as it is.
    """
    own = _kind(url)
    if own is None:
        return
    seen: dict[int, bool] = {}
    for item in items:
        if any(r.startswith(_ELSEWHERE) for r in item.reasons):
            continue  # (already another block's: a related tile, the page chrome)
        cell: LexborNode | None = item.node
        for _ in range(4):
            if cell is None or cell.tag in _TILE_CELLS or cell.mem_id in title_box:
                break
            cell = cell.parent
        if cell is None or cell.tag not in _TILE_CELLS or cell.mem_id in title_box:
            continue
        other = seen.get(cell.mem_id)
        if other is None:
            other = False
            if len(_text(cell)) <= _TILE_TEXT:
                for link in cell.css("a[href]"):
                    name = _text(link)
                    if _WORDS.search(name) and _other_page(link.attributes.get("href") or "", own):
                        other = True
                        break
            seen[cell.mem_id] = other
        if other:
            item.score -= 3.0
            item.reasons.append("outside")


def struck_digits(items: Iterable[_Item]) -> None:
    """An amount read from an element whose digits are all inside a struck-through child (``<strike>36,000
    </strike><span>원</span>``) is struck: the list price, its sign written outside the strike."""
    for item in items:
        node = item.node
        if item.role != "current" or node.first_child is None or node.first_child is node.last_child:
            continue
        for struck in node.css(_STRUCK_TAGS):
            inner = "".join(_DIGITS.findall(struck.text(deep=True)))
            if inner and inner == "".join(_DIGITS.findall(node.text(deep=True))):
                item.role = "regular"
                item.reasons.append("struck")
                break


_PRICE_WORDS = re.compile(PRICE_WORDS, re.I)
_LABEL_BONUS = 2.0  # (the weight the scan gives "Price:" before an amount)
_PAIR_REACH = 3  # (elements: a second amount this near after the labelled one, beside it)


class _Scored(_Item, Protocol):
    index: int
    before: str


def price_labels(items: Sequence[_Scored]) -> None:
    """Give a current amount labelled by a price word of the shop's language (:data:`PRICE_WORDS`, the text just
    before it or its row's label) the weight the scan gives "Price:", unless the next amount, a few elements on,
    is a current one with no label of its own: the label then names a pair (an old price and the new one) and
    singles out neither."""
    for at, item in enumerate(items):
        if item.role != "current" or not item.before or _PRICE_WORDS.search(item.before[-25:]) is None:
            continue
        nxt = items[at + 1] if at + 1 < len(items) else None
        if (nxt is not None and nxt.index - item.index <= _PAIR_REACH and nxt.role == "current"
                and not nxt.before.strip()):
            continue
        item.score += _LABEL_BONUS
        item.reasons.append("label")
