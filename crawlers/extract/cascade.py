"""The extraction cascade: one page in, one :class:`Extraction` out; pure, no network I/O.

Steps: site profile selectors, schema.org structured data (JSON-LD, microdata, RDFa, OpenGraph),
embedded JSON state, and visible-page heuristics. Every price each step finds is kept in
``candidates``. The price is chosen by this rule, not by whichever step ran last:

1. A page that is a captcha, block page, login wall or "not found" page has no price (``failure``).
2. A page that withholds its price ("add to cart to see price") has none either
   (``price_visibility`` = ``cart_only`` / ``login_only``); candidates are still kept. So has one that says it
   shows none (``not_shown``): price on request, no longer sold, or sold out at every seller with no price in
   its buy box while its structured offers say OutOfStock (:func:`_price_in_buy_box`).
3. A profile's price selector, when it matches, wins: a person configured it for this site.
4. Else structured data, when the visible page shows that same amount as a current price. A
   structured price that the page shows only struck through, or does not show while the buy box
   clearly shows another amount, loses to the visible price and is flagged
   (``structured_contradicted``).
5. Else embedded JSON state, checked against the visible page the same way.
6. Else the best visible candidate (heuristics).
7. Unless the evidence does not single out one price (:func:`_contention`): then the page is
   *undecided* (``undecided`` says why, ``competing`` holds the candidates), with no price, and a
   rule a person picked for the site (``price_rules`` in its profile) decides it when one of them
   selects exactly one amount on the page. A profile's price selector is never second-guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import lru_cache, partial
from itertools import pairwise
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborNode

from crawlers.extract.amounts import SIGN, ParsedAmount, find_amounts, first_amount
from crawlers.extract.calibration import calibrated
from crawlers.extract.changeover import retired_offers
from crawlers.extract.coupons import AUTOMATIC_KEYS, after_automatic, after_coupon
from crawlers.extract.embedded import read_embedded, selected_variation, variant_amounts
from crawlers.extract.emphasis import login_gate, net_lead_contention, unconfirmed_state
from crawlers.extract.heuristics import (
    CARD_ALT,
    CONDITIONAL,
    CONDITIONAL_TAIL,
    CONVERTED,
    FROM,
    FROM_AFTER,
    GROSS_AFTER_TAIL,
    INSTALMENT_LABEL,
    INSTALMENT_TAIL,
    LOWEST_30,
    NET_TEXT,
    SET_OF,
    THRESHOLD,
    UNIT_TAIL,
    WAS_TEXT,
    Visible,
    discount_of,
    gross_of,
    home_currency,
    language_currency,
    other_options,
    read_visible,
    title_ancestors,
    widened,
)
from crawlers.extract.model import Candidate, Extraction
from crawlers.extract.page import STRUCK, Page, disabled, shown_longer
from crawlers.extract.promotions import DEPOSIT
from crawlers.extract.promotions import settle as settle_promotion
from crawlers.extract.rules import apply_rules
from crawlers.extract.site import read_profile
from crawlers.extract.structured import Facts, read_structured
from crawlers.extract.structured_roles import buy_box_to_button, demoted, overrule
from crawlers.extract.variants import designated_option
from crawlers.profiles import Profile

__all__ = ["extract"]

_COUPON = re.compile(
    r"(?:clip|apply|use|with|extra)?\s*(?P<a>[$€£¥￥]\s?\d+(?:[.,]\d{1,2})?|\d{1,2}\s?%)\s*off\s*"
    r"(?:with\s*)?(?:coupon|code|promo)|(?:coupon|instant (?:discount|savings?)|promo code)[^.]{0,30}?"
    r"(?:save\s*)?(?P<b>[$€£¥￥]\s?\d+(?:[.,]\d{1,2})?|\d{1,2}\s?%)|(?:立减|优惠券?减?|券)\s*(?P<c>[¥￥]?\s?\d+(?:\.\d{1,2})?)\s*元?",
    re.I,
)
# (an amount labelled as the price after a coupon is read by coupons.after_coupon)
_EFFECTIVE = re.compile(r"price after discount\s*[:：]?\s*(?P<p>[^\s]{1,3}?\s?\d[\d,.]*)", re.I)
# Every wording _COUPON or _EFFECTIVE matches contains one of these (lower case) or _OFF_CODE's
# phrase; text with none of them skips both patterns, which are slow to fail on ordinary text
# (~0.1 ms each). "off" alone would let in every "offer" and "office".
_COUPON_WORDS = ("coupon", "instant", "promo", "price after", "立减", "优惠", "券")
_NOT_APPLICABLE = re.compile(
    r"\bnot\b|\b(?:isn|aren|doesn|don|can|won|wasn)[’']?t\b|\bexclud|\bineligible|\bexpired|\bno longer\b|"
    r"\bcannot\b|nicht|ausgeschlossen|不可|不适用|已过期", re.I)
_CONDITION = re.compile(
    r"orders? (?:over|above|of)|\bover [$€£¥]|\bspend|\bminimum|\bmin\.? (?:order|spend)|first (?:order|purchase)|"
    r"new customers?|sign[ -]?(?:in|up)|log[ -]?in|members? only|\bapp\b|\bab \d|满\s?\d", re.I)
_OFF_CODE = re.compile(r"off\s*(?:with\s*)?(?:coupon|code|promo)", re.I)  # _COUPON's first wording, as in it
# A visible candidate this sure (score >= 8: price-labelled, right after the title, by the buy button)
# overrides structured data that the page does not show.
_CONTRADICTS = 0.6
# Words before a printed amount that make it not the price for everyone now (a members' price, a list price).
# (and the EU's "lowest price in the last 30 days", which a stale feed gives as the price, and the price
# without VAT a business feed gives)
# (and an instalment price the label names so: a stale feed gives the financed price, the buy box another one)
# (and a "From" price right before the amount: the lowest of the variants, not the one the buy box sells)
# (the visible scan's "from" words, "Neuf dès 279,00 €" too)
_FROM_BEFORE = rf"(?:{FROM.pattern})\s*:?\s*\S{{0,4}}\s*$"
# (and an approximate conversion into another currency, "aprox. $ 517.500" under a listing in US$)
_NOT_CONFIRMING = re.compile(f"{CONDITIONAL.pattern}|{WAS_TEXT.pattern}|{LOWEST_30.pattern}|{NET_TEXT.pattern}|"
                             f"{CONVERTED.pattern}|"
                             f"{INSTALMENT_LABEL.pattern}|{_FROM_BEFORE}|{SET_OF.pattern}", re.I)
# Words after a printed amount that do the same: "with the Acme card", "pagando con transferencia", and a unit
# ("€22.56 / m²": the price of a square metre of tiles sold by the box).
# (and the price without VAT written after it, "46,13 € netto", "€ 289,00 excl. btw": the net half of a net/gross
# pair, where the page's buy box sells at the other)
# (and "from" where a language writes it after the amount: "79,000원부터", "7,900円から", "¥79起")
# (and a period after it: "₪89 לחודש", "$49/mo", a subscription's or a rental's price a month, or an instalment)
# (and the amount with VAT in brackets after it: "¥680（税込 ¥748）", the net half of a net/gross pair)
_NOT_CONFIRMING_TAIL = re.compile(f"{CONDITIONAL_TAIL.pattern}|{UNIT_TAIL.pattern}|"
                                  f"[\\s*.(（\\[]*(?:{NET_TEXT.pattern})|"
                                  f"{FROM_AFTER.pattern}|{INSTALMENT_TAIL.pattern}|{GROSS_AFTER_TAIL.pattern}", re.I)
# A condition named after a printed amount, before any other number ("$ 599.990 Precio con Tarjeta Sur $ 649.990"): in
# a list whose labels follow their amounts it is the amount's own; read flat, it may be the next amount's too. The
# visible scan reads which (its amount's group); no shortcut takes the amount as confirmed meanwhile.
_CONDITION_AHEAD = re.compile(rf"\D{{0,40}}?(?:{CONDITIONAL.pattern})", re.I)
_TIE = 0.05
# A label right after an amount naming it the list price (a screen-reader label trailing the amounts)
_WAS_LABEL_TAIL = re.compile(r"\s*(?:regular|original|list|was|compare at|retail) price\b", re.I)
_REGION_BEFORE = 600
_REGION_AFTER = 2500
_STRUCTURED = ("json-ld", "microdata", "rdfa", "opengraph")
_LOW = "lowPrice"  # Candidate.note of an AggregateOffer's lowest price
# Two visible candidates this close in confidence, showing different amounts, are a tie nothing breaks.
_UNDECIDED_TIE = 0.05
# A visible candidate this sure, showing another amount than structured data the page does not show,
# leaves the page undecided (below it the structured price stands, flagged structured_not_visible).
_DISAGREES = 0.45
# A whole amount with its cents, written without a currency sign ("17,99", "1.299,00"): not a fragment of one.
_WITH_CENTS = re.compile(r"\d{1,3}(?:[.,'\u00a0\u202f ]\d{3})*[.,]\d{2}")
# The most the whole page's repeats of an amount add to its confidence (``read_visible``: 0.5 a repeat, at most 1.5
# of the score, a twentieth of it): what a block's scan cannot see of a rival shown again outside the block.
_REPEATS_ADD = 0.075
# Reasons that put a visible amount in another product's block or the page chrome: never in contention.
_ELSEWHERE = ("noise:", "header", "footer", "nav", "outside")


def _coupon(text: str, price: Decimal, page: Page, currency: str | None) -> tuple[str, Decimal] | None:
    """The wording of a coupon or instant discount ``text`` (the page's text around ``price``) shows, and the price
    after it: an amount labelled as the price after a coupon (:func:`coupons.after_coupon`), or a reduction."""
    labelled = after_coupon(text, price, locale=page.locale, currency=currency, not_applicable=_NOT_APPLICABLE,
                            condition=_CONDITION)
    if labelled is not None:
        return labelled
    lowered = text.lower()
    if not any(word in lowered for word in _COUPON_WORDS) and not ("off" in lowered and _OFF_CODE.search(text)):
        return None
    m = _EFFECTIVE.search(text)
    if m:
        found = find_amounts(m.group("p"), locale=page.locale, currency=currency, allow_bare=True)
        if found and 0 < found[0].amount < price:
            return m.group(0), found[0].amount
    m = _COUPON.search(text)
    if not m:
        return None
    # A coupon that does not apply to everyone buying this item now is not its advertised price:
    # one the page says does not apply (excluded, expired, not eligible), one with a condition
    # (orders over $75, a first order, members, the app).
    if _NOT_APPLICABLE.search(text[max(0, m.start() - 40):m.end()]) or _CONDITION.search(m.group(0)
                                                                                          + text[m.end():m.end() + 40]):
        return None
    value = (m.group("a") or m.group("b") or m.group("c") or "").strip()
    if value.endswith("%"):
        pct = Decimal(value.rstrip("% "))
        effective = (price * (100 - pct) / 100).quantize(Decimal("0.01"))
    else:
        found = find_amounts(value, locale=page.locale, currency=currency, allow_bare=True)
        if not found:
            return None
        effective = price - found[0].amount
    if effective <= 0 or effective >= price:
        return None
    return m.group(0).strip(), effective


# Arabic-Indic digits and decimal separator, for the ways a page prints an amount (:func:`_printed_forms`)
_EASTERN = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫")
_EASTERN_DIGIT = re.compile("[٠-٩]")


def _automatic(page: Page, chosen: Candidate, result: Extraction) -> tuple[str, Decimal] | None:
    """The wording and amount of the price after a discount the shop applies by itself in the basket, stated beside
    the chosen price however the page prints it ("59,90 €" for JSON-LD's 59.90, "٢٤٩ ر.س" for 249.00):
    :func:`coupons.after_automatic`."""
    text = _near(page.body_text, chosen)
    if not text:
        printed = [c.raw_text for c in result.candidates if c.method == "heuristic" and c.price == chosen.price]
        forms = _printed_forms(str(chosen.price))
        printed += forms
        if _EASTERN_DIGIT.search(page.body_text):
            printed += [form.translate(_EASTERN) for form in forms]
        text = _near(page.body_text, chosen, shown=printed)
    lowered = text.lower()
    if not any(key in lowered for key in AUTOMATIC_KEYS):
        return None
    return after_automatic(text, chosen.price, locale=page.locale, currency=result.currency)


def _near(text: str, chosen: Candidate, window: int = 400, shown: Iterable[str] = ()) -> str:
    """The visible text around the chosen price (where a coupon or instant discount would be shown); ``shown``: other
    ways the page prints it (a structured price's visible candidates' texts, "59,90 €", "٢٤٩ ر.س")."""
    at = text.find(chosen.raw_text) if chosen.raw_text else -1
    for other in (str(chosen.price), *shown):
        if at >= 0:
            break
        at = text.find(other) if other else -1
    if at < 0:
        return ""
    return " ".join(text[max(0, at - window):at + window].split())


def _title_at(page: Page) -> int:
    """Where the title (``h1``) starts in the page text, or -1."""
    return page.heading_text[1]


def _title_region(page: Page) -> str:
    """The visible text from just before the title (``h1``) to a little after it: where the buy box is.

    Without an ``h1`` the whole text. A structured price printed only far from the title (a
    related item, a footer) does not confirm anything.
    """
    text = page.body_text
    at = _title_at(page)
    if at < 0:
        return text
    return text[max(0, at - _REGION_BEFORE):at + _REGION_AFTER]


def _first_price_after_title(page: Page, currency: str | None) -> Decimal | None:
    """The first amount with a currency sign after the title, counting visible characters only.

    Page text keeps the source's indentation, which can put ten thousand blanks between a title
    and the buy-box price right under it; the raw-character region then misses it.
    """
    # (asked up to twice a page: read once)
    known: dict[str | None, Decimal | None] = page.__dict__.setdefault("_first_price_after_title", {})
    if currency in known:
        return known[currency]
    text = page.body_text
    at = _title_at(page)
    first = None
    labels: dict[str | None, str] = page.__dict__.setdefault("_first_label_after_title", {})
    if at >= 0:
        after = " ".join(text[at:at + 8 * _REGION_AFTER].split())[:_REGION_AFTER]
        found = first_amount(after, lambda found: SIGN.search(found.raw) is not None, locale=page.locale,
                             currency=currency)
        first = found.amount if found is not None else None
        labels[currency] = after[max(0, found.start - 30):found.start] if found is not None else ""
    known[currency] = first
    return first


def _confirmed_fast(page: Page, structured: list[Candidate]) -> tuple[Candidate, Candidate | None] | None:
    """The structured price when the visible text shows it with a currency sign and never struck through.

    This lets a page whose schema.org data the shopper can plainly see skip the DOM scan (the costly
    step on 430 KB pages); anything less certain goes through the full comparison.
    """
    current = [c for c in structured if c.role == "current"]
    if not current or len({c.price for c in current}) != 1 or any(c.note == _LOW for c in current):
        return None  # (an AggregateOffer's lowPrice is the cheapest of several offers: the buy box decides)
    cand = current[0]
    region = _title_region(page)
    # (past the entry test, a printing counts as shown: blanks collapsed, a sign past an indent is beside its amount)
    shown = partial(_shows, amount=cand.price, loose=True)
    if not _shows(region, cand.price) and _first_price_after_title(page, cand.currency) != cand.price:
        return None
    if not _shows(region, cand.price) and _NOT_CONFIRMING.search(
            page.__dict__.get("_first_label_after_title", {}).get(cand.currency, "")):
        # (confirmed only by the first amount after the title, in digits the text check does not read, "السوم
        # الحالي: ١٤٥٬٠٠٠ ريال": its label names it a bid, a members' price, a list price)
        return None
    if not shown(region, unless=_NOT_CONFIRMING, tail=_NOT_CONFIRMING_TAIL) and shown(region):
        # (the buy box shows it only as a members' or card holders' price, or after "was", "statt",
        # "antes": a list price, or before "with coupon", "pagando con transferencia": the full
        # comparison decides)
        return None
    if shown(region) and not shown(region, tail=_CONDITION_AHEAD):
        return None  # (each printing is followed by a condition: the scan reads whose it is)
    if shown(region) and not shown(region, tail=_WAS_LABEL_TAIL):
        return None  # (shown only before a label naming it the list price: "$1,499.00 Regular Price")
    if shown(region, only=WAS_TEXT) and _first_price_after_title(page, cand.currency) != cand.price:
        # (the buy box shows it after "was", "reg.", "statt", "avant", "antes" beside another first amount, the sale
        # price: a stale feed's list price, whatever a related item's tile prints at the same amount; the full
        # comparison decides)
        return None
    if _past_buy_box(page, cand):
        return None  # (printed only past the buy button, in another offer's or product's tile: the scan decides)
    if _range_end_only(region, cand.price) or _from_only(page, cand.price):
        return None  # (printed only as an end of a range, or as where prices start: the full comparison decides)
    if _leads_in_local_currency(page, cand):
        return None  # (another market's price in the shop's base currency: the full comparison decides)
    # (as shown: the fast path took a printing whose sign stands past an indent, "Gav 899,95\n      kr")
    printed = [region[start:end] for start, end in _printings(region, cand.price, loose=True)]
    if printed and all(map(page.printed_by_shoppers, printed)):
        return None  # (printed only in a review, a question, a comment: "Gav 899,95 kr i november" confirms nothing)
    struck = _struck_texts(page)
    if any(_struck_shows(text, cand.price) for text in struck):
        return None
    others, chosen = other_options(page)
    if any(shown(node.text(deep=True, separator=" ")) for node in others) and not any(
            shown(node.text(deep=True, separator=" ")) for node in chosen):
        return None  # (another variant's price, shown in its option: the full comparison decides)
    if _badge_lowers(region, cand, page):
        return None  # (a list price shown beside the price a discount badge takes it down to)
    if _beside_card_logo(page, cand):
        return None  # (a store card's price, named by the card's logo: "<img alt="Tarjeta Oh!"> Precio Oh! S/ 139.90")
    lead = _leading_amount(page, cand.price, cand.currency, struck)
    if lead is not None and lead != cand.price and not (DEPOSIT.search(region)
                                                        and _shows(region, abs(lead - cand.price))):
        # (the buy box leads with another amount, neither struck through nor named by a word the cascade knows as a
        # list, members', coupon, net or instalment price: whatever words a shop nobody listed prints beside either,
        # a shortcut confirms nothing; the full comparison decides. A deposit and its total, the two amounts a
        # deposit the buy box prints apart: the promotions decide; a case's price beside its deposit and a single
        # bottle's, "€ 72.00 + €3.60 Re-turn deposit … Single bottle €3.49", is no deposit total)
        return None
    return cand, _struck_regular(page, cand, struck)


# A number as prices are printed, whatever the sign or script of its digits: grouped ("28.900,00", "1 189", "٢٥٬٠٠٠")
# or with cents ("369.57"), not a measure ("1,5 l", "2.25 kg", "16 GB") nor a share ("-24%")
_PRICE_LIKE = re.compile(r"(?<![\w.,/])(?:\d{1,3}(?:[.,\u066b\u066c\u00a0\u202f'’ ]\d{3})+(?:[.,\u066b]\d{1,3})?"
                         r"|\d+[.,\u066b]\d{2,3})"
                         r"(?![\d%]|\s?(?:ml|cl|l|g|kg|mg|mm|cm|m|gb|tb|mb|mah|wh|w|v|hz|x|in|inch|mp)\b"
                         # (nor a count: "25,468 sold", "1.204 Bewertungen", "2.398 pt")
                         r"|\s?(?:sold|verkauft|vendu|vendid|vendut|reviews?|ratings?|bewertung|avis|watch|views?|"
                         r"points?|pts?|punkte|puntos|pontos)\b)", re.I)
_SEPARATORS = re.compile(r"[.,\u066b\u066c\u00a0\u202f'’ ]")


def _other_numbers(page: Page, price: Decimal, currency: str | None = None) -> list[str]:
    """The numbers the buy box (from the title to the buy button) prints as prices are printed, when none of them is
    ``price`` in any reading (its decimal comma or point, or its whole units, "1.899" for 1899.99), nor are its whole
    units printed alone ("449,-", "999"); else an empty list (also without a buy button the cascade knows). The
    title's own numbers are left out. A price in Iranian rials may be printed in tomans, a tenth of it."""
    at = _title_at(page)
    if at < 0:
        return []
    box = buy_box_to_button(page, at)
    if box is None:
        return []  # (without a buy button to end it, the text after a title may run into other products' tiles)
    title = " ".join(page.heading_text[0].split())
    text = box[len(title):] if title and box.startswith(title) else box
    # (digits of any script as ASCII ones: "٤٥ ٫ ٥٠٠ ر.ع." prints 45.500)
    text = "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)
    if currency == "IRR":
        price = price / 10 if price % 10 == 0 else price
    units = int(price)
    if re.search(rf"(?<![\d.,]){units}(?![\d]|[.,]\d)", text):
        return []
    found = []
    for m in _PRICE_LIKE.finditer(text):
        parts = _SEPARATORS.split(m.group(0))
        whole = int("".join(parts)) if len(parts[-1]) == 3 or len(parts) == 1 else int("".join(parts[:-1]) or 0)
        cents = Decimal(f"{int(''.join(parts[:-1]) or 0)}.{parts[-1]}") if len(parts) > 1 else Decimal(whole)
        if price in {Decimal(whole), cents} or units in {whole, int(cents)}:
            return []
        if not _NOT_CONFIRMING.search(_words_before(text, m.start())):
            # (not a figure its label names another: "Laagste prijs afgelopen 30 dagen: €69,95", "statt")
            found.append(m.group(0))
    return found


def _leads_in_local_currency(page: Page, cand: Candidate) -> bool:
    """Whether the buy box's first amount with a sign is in another currency than ``cand``'s, one of the page's own
    (its country's or its language's): "895,00 kr" before "Pris i Finland: 79,00 €" beside JSON-LD's EUR 79.00."""
    # (most pages' structured data is in their own currency: the buy box is read only where another may lead it)
    locals_ = {home_currency(page), language_currency(page)} - {None, cand.currency}
    at = _title_at(page) if locals_ and cand.currency is not None else -1
    box = buy_box_to_button(page, at) if at >= 0 else None
    if box is None:
        return False
    first = next((a for a in find_amounts(box, locale=page.locale) if a.currency and SIGN.search(a.raw)), None)
    return first is not None and first.currency in locals_


def _starts(page: Page, price: Decimal, *, ranges: bool = True) -> bool:
    """Whether the buy box prints ``price`` only as where prices start: after "ab", "From", "à partir de" (a
    configurator's base price beside its total), or, with ``ranges``, as an end of a price range."""
    return _from_only(page, price) or (ranges and _range_end_only(_title_region(page), price))


def _range_end_only(region: str, price: Decimal) -> bool:
    """Whether ``region`` prints ``price`` with its sign, and only as an end of a price range ("42,00 € – 98,00 €"):
    where a product's offers start or end, not which one the page sells."""
    printed = list(_printings(region, price, loose=True))
    return bool(printed) and all(_RANGE_NEXT.match(_after_sign(_words_after(region, end)))
                                 or (_RANGE_PREVIOUS.search(before := _words_before(region, start)) is not None
                                     and not _BADGE_BEFORE.search(before)) for start, end in printed)


def _leading_amount(page: Page, price: Decimal, currency: str | None,
                    struck: list[str] | None = None) -> Decimal | None:
    """The buy box's leading amount: the first amount the text from the title to the buy button (without a button
    the cascade knows by its words, the region after the title) prints with its currency sign, ``price`` (a structured
    price) wherever it is printed, else one no struck-through element shows and no word the cascade knows names
    another figure (a list, lowest-in-30-days, members', coupon, net, instalment or "from" price; None: no title, or
    no such amount; ``struck``: the page's :func:`_struck_texts` when the caller has them)."""
    if _title_at(page) >= 0 and _first_price_after_title(page, currency) == price:
        return price  # (the first amount after the title, however its digits are split: "$7<sup>99</sup>")
    return next(_plain_amounts(page, price, currency, struck), None)


def _plain_amounts(page: Page, price: Decimal, currency: str | None,
                   struck: list[str] | None = None) -> Iterator[Decimal]:
    """The amounts the buy box prints with their currency sign, in its order, that nothing the cascade reads names
    another figure than the price: ``price`` wherever it is printed, and each other one no struck-through element
    shows and no word the cascade knows names a list, lowest-in-30-days, members', coupon, net, instalment or "from"
    price (see :func:`_leading_amount`, the first of them)."""
    at = _title_at(page)
    if at < 0:
        return
    box = buy_box_to_button(page, at) or " ".join(page.body_text[at:at + 8 * _REGION_AFTER].split())[:_REGION_AFTER]
    printed = list(_printings(box, price))  # (where it is printed as the page writes it: "$ 39. 99" too)
    named = len(" ".join(page.heading_text[0].split()))  # (the title's own text, a name: "Dehumidifier DH20 20 L")
    led = False
    for found in find_amounts(box, locale=page.locale, currency=currency):
        if not SIGN.search(found.raw) or found.start < named:
            continue
        if found.amount == price or _cents_apart(box, found, price) or any(
                start < found.end and found.start < end for start, end in printed):
            led = True
            yield price
            continue
        if not led and any(start < found.end for start, _ in printed):
            led = True
            yield price  # (printed before this amount, in a form the amount scan does not read)
        before = _words_before(box, found.start)
        if (_NOT_CONFIRMING.search(before) or THRESHOLD.search(before)
                or _NOT_CONFIRMING_TAIL.match(_after_sign(_words_after(box, found.end)))):
            continue  # (and a free-shipping threshold: "Free shipping over $99")
        struck = _struck_texts(page) if struck is None else struck
        # (a struck amount's sign, units and cents may be struck elements of their own)
        raw = "".join(found.raw.split())
        if not any(_struck_shows(text, found.amount) or raw in "".join(text.split())
                   for text in (*struck, "".join(struck))):
            yield found.amount


def _cents_apart(text: str, found: ParsedAmount, price: Decimal) -> bool:
    """Whether ``found`` is ``price``'s units with its cents printed right after them, apart ("$7 <sup>99</sup>")."""
    units, _, cents = f"{price:f}".partition(".")
    return (bool(cents) and found.amount == Decimal(units)
            and re.match(rf"\s?[.,]?\s?{cents[:2]}(?!\d)", text[found.end:found.end + 6]) is not None)


def _past_buy_box(page: Page, cand: Candidate) -> bool:
    """Whether the buy box (the text from the title to the buy button) prints amounts with a currency sign, and
    never ``cand``'s: the region's printing of it is then past the button, in a sponsored tile, another variant's
    card or another seller's offer, and confirms nothing (a structured offer of the 128 GB model, printed in the
    carousel of a page selling the 256 GB one)."""
    at = _title_at(page)
    box = buy_box_to_button(page, at) if at >= 0 else None
    if box is None or _shows(box, cand.price, loose=True):
        return False
    printed = {found.amount for found in find_amounts(box, locale=page.locale, currency=cand.currency)
               if SIGN.search(found.raw)}
    if not printed:
        # (nor when the buy box prints no amount and says it shows none, "Preis auf Anfrage": the printing past it is
        # another version's, "Auch erhältlich in Kalbsleder – 3.950,00 €", or a carousel's)
        return page.no_price_said(None) is not None
    return cand.price not in printed


def _structured_order(facts: Facts, page: Page) -> list[Candidate]:
    """The structured candidates in the order the cascade reads them: a price another source names the list
    price last, the page's own offer first, the variant the page selects first."""
    return _selected_first(_main_offer(_demote_declared_regular([c for c in facts.candidates
                                                                 if c.method in _STRUCTURED]), page,
                                       facts.offered_by), page)


def _product_block(page: Page) -> LexborNode | None:
    """The smallest element holding both the title (``h1``) and the buy button, when that is not the whole page."""
    heading, button = page.heading, page.buy_button
    if heading is None or button is None:
        return None
    line = title_ancestors(page)
    node: LexborNode | None = button
    while node is not None and node.mem_id not in line:
        node = node.parent
    if node is None or node.tag in {"body", "html", "-document"}:
        return None
    return node


def _confirmed_in_block(page: Page, structured: list[Candidate], currency: str | None,
                        sep: str | None) -> Visible | None:
    """The visible scan of the product's block alone, when its best amount is the structured price the cascade
    reads first (``structured`` in the cascade's order); else None."""
    current = [c for c in structured if c.role == "current"]
    if not current or any(c.note == _LOW for c in current) or (len({c.price for c in current}) > 1
                                                                 and _url_selected(current, page)):
        return None
    block = _product_block(page)
    if block is None:
        return None
    visible = _block_scan(page, block, currency, sep, lambda best: best.price == current[0].price)
    best = visible.best
    if best is None or best.price != current[0].price or best.confidence < 0.5 or not visible.reach_inside:
        return None
    if _range_end_only(_title_region(page), best.price):
        return None  # (printed only as an end of a price range, "42,00 € – 98,00 €": the whole page decides)
    return visible


def _block_scan(page: Page, block: LexborNode, currency: str | None, sep: str | None,
                wanted: Callable[[Candidate], bool]) -> Visible:
    """The visible scan of ``block``; when its best amount is ``wanted`` but reaches past the block (its list price
    and shipping are looked for 80 elements either side), the scan of the nearest ancestor that holds that reach.

    Amounts outside the product's block are marked ``outside`` in either scan, as in the whole page's: a wider
    part read for reach only adds what lies around the best amount, as the whole page does."""
    visible = read_visible(page, currency=currency, decimal_separator=sep, within=block)
    best = visible.best
    if best is None or visible.reach_inside or best.confidence < 0.5 or not wanted(best):
        return visible
    wider = widened(block, *visible.reach_short)
    if wider is None:
        return visible
    return read_visible(page, currency=currency, decimal_separator=sep, within=wider)


def _settled_in_block(page: Page, currency: str | None, sep: str | None) -> Visible | None:
    """The visible scan of the product's block alone, for a page with no current price from structured data or
    script state, when the block gives a clear answer; else None (the whole page is read).

    Clear: the block's best amount is strong (confidence >= 0.5), stands out from every other amount the block
    shows by more than a tie plus the most that repeats elsewhere on the page could add to one of them
    (``_REPEATS_ADD``), and everything within reach of it lies in the block; the block's price slot does not wait
    for a script, its buy box does not lead with a net amount, and it shows no "from" amount. The whole page's
    scan marks every amount outside the block ``outside``: never the price, never a rival; so there the best
    amount is the same one, and what the block leaves out is only other products' candidates."""
    block = _product_block(page)
    if block is None:
        return None
    visible = _block_scan(page, block, currency, sep, lambda best: True)
    best = visible.best
    if (best is None or best.confidence < 0.5 or not visible.reach_inside or visible.placeholder
            or visible.net_lead is not None):
        return None
    if any((c.price != best.price and c.confidence >= best.confidence - _UNDECIDED_TIE - _REPEATS_ADD)
           or "from-price" in (c.note or "").split(",") for c in visible.candidates):
        return None
    return visible


def _badge_lowers(region: str, cand: Candidate, page: Page) -> bool:
    """Whether a discount badge beside ``cand``'s printing turns it into a lower amount shown there too
    ("Rp1.299.000 Rp1.599.000 -19%": 1.599.000 is the list price, whatever its markup)."""
    if "%" not in region:
        return False
    for form in _variants(cand.price):
        at = region.find(form)
        if at >= 0:
            window = region[max(0, at - 120):at + 120]
            if "%" not in window:
                return False
            lower = [a.amount for a in find_amounts(window, locale=page.locale, currency=cand.currency)
                     if 0 < a.amount < cand.price and SIGN.search(a.raw)]
            return any(discount_of(low, cand.price, window) for low in lower)
    return False


_CARD_IMAGES = ", ".join(f'img[alt*="{word}" i]' for word in ("tarjeta", "card", "karte", "carte", "cartão", "kart",
                                                                "карт"))


def _beside_card_logo(page: Page, cand: Candidate) -> bool:
    """Whether the block around the title shows ``cand``'s amount beside an image named as a card (``alt``).

    Only the title's third ancestor is searched (the buy box; the body at most).
    """
    node = page.heading
    for _ in range(3):
        if node is None or node.parent is None or node.tag == "body":
            break
        node = node.parent
    if node is None:
        return False
    for img in node.css(_CARD_IMAGES):  # (lexbor filters them: most buy boxes have none)
        holder = img.parent
        if holder is not None and CARD_ALT.search(img.attributes.get("alt") or ""):
            text = " ".join(holder.text(deep=True).split())  # (as shown: an indented holder is no longer)
            if len(text) < 120 and _shows(text, cand.price):
                return True
    return False


def _struck_texts(page: Page, selector: str = STRUCK) -> list[str]:
    """The short texts (under 80 characters) of struck-through or was/list-labelled elements, in page order
    (``selector``: other elements, e.g. only those drawn struck through)."""
    if page.struck_css:  # (and what the page's own stylesheets strike through, whatever the elements' names)
        selector = f"{selector}, {page.struck_css}"
    return [text for text in (node.text(deep=True) for node in page.tree.css(selector)) if len(text) < 80]


def _struck_regular(page: Page, current: Candidate, struck: list[str] | None = None) -> Candidate | None:
    """The first struck-through (or was/list-labelled) amount above ``current``: the list price shown beside it.

    ``struck``: the page's :func:`_struck_texts` when the caller has them already.
    """
    for text in _struck_texts(page) if struck is None else struck:
        found = find_amounts(text, locale=page.locale, currency=current.currency)
        if found and found[0].amount > current.price and found[0].currency in {None, current.currency}:
            return Candidate("heuristic", found[0].amount, found[0].currency, found[0].raw, 0.5, "regular")
    return None


def _variants(amount: Decimal) -> list[str]:
    """How a page may print ``amount``: 1,299.00 / 1299.00 / 1.299,00 / 1 299,00 / 1299. 00 (and 1,299 when whole).

    (Worked out once per amount as written: a page asks about the same few amounts again and again.)
    """
    return _printed_forms(str(amount))


@lru_cache(maxsize=4096)
def _printed_forms(written: str) -> list[str]:
    amount = Decimal(written)  # (exactly the amount: str and Decimal keep its digits and exponent)
    cents = amount.quantize(Decimal("0.01")) if amount == amount.quantize(Decimal("0.01")) else amount
    us = f"{cents:,f}"
    forms = {us, us.replace(",", ""), us.translate(str.maketrans(",.", ".,")), us.replace(",", " ").replace(".", ",")}
    if "." in us:
        forms.add(us.replace(",", "").replace(".", ". "))  # "$ 39. 99": units and cents in elements of their own
    if cents == cents.to_integral_value():
        whole = f"{int(cents):,}"
        forms |= {whole, whole.replace(",", ""), whole.replace(",", "."), whole.replace(",", " ")}
    return sorted(forms, key=len, reverse=True)


@lru_cache(maxsize=1024)
def _lakh_forms(written: str) -> tuple[str, ...]:
    """How a page in Indian grouping prints an amount of a lakh or more ("₹1,49,990", "Rs. 12,34,567.00"); none
    below a lakh (the other forms cover it)."""
    amount = Decimal(written)
    cents = amount.quantize(Decimal("0.01")) if amount == amount.quantize(Decimal("0.01")) else amount
    if cents < 100000:
        return ()
    units, _, fraction = f"{cents:f}".partition(".")
    lakh = _indian_grouping(units)
    forms = {f"{lakh}.{fraction}" if fraction else lakh}
    if cents == cents.to_integral_value():
        forms.add(lakh)
    return tuple(sorted(forms, key=len, reverse=True))


def _struck_shows(text: str, amount: Decimal) -> bool:
    """Whether a struck-through (or was-labelled) element's ``text`` prints ``amount`` with a currency sign, in any
    grouping: Indian lakhs too ("M.R.P.: <s>₹1,49,990</s>"), which a list price in India is printed in."""
    if _shows(text, amount, loose=True):
        return True
    forms = _lakh_forms(str(amount))
    return bool(forms) and any(signed or _sign_past_blanks(text, start, end)
                               for start, end, signed in _whole_printings(text, amount, forms))


def _indian_grouping(units: str) -> str:
    """Whole units grouped as in India: the last three digits, then pairs ("149990" -> "1,49,990")."""
    head, last = units[:-3], units[-3:]
    pairs: list[str] = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*pairs, last])


def _shows(text: str, amount: Decimal, unless: re.Pattern[str] | None = None,
           tail: re.Pattern[str] | None = None, only: re.Pattern[str] | None = None, *, loose: bool = False) -> bool:
    """True when ``text`` prints ``amount`` with a currency sign beside it (str.find, no regex compile).

    ``unless``: a printing whose 30 characters before match it does not count ("Member price $9.99");
    ``tail``: nor one whose text after it (past a sign written after the amount) does ("$9.99 with coupon");
    ``only``: only a printing whose 30 characters before match it counts ("was $5.49").
    ``loose``: read the text as shown, blanks collapsed: a sign past a newline and an indent is beside the
    amount, and ``tail`` sees the words after it however the markup is indented (pretty-printed pages).
    """
    for start, end, signed in _whole_printings(text, amount):
        if ((signed or (loose and _sign_past_blanks(text, start, end)))
                and not (unless is not None and unless.search(_words_before(text, start)))
                and not (only is not None and not only.search(_words_before(text, start)))
                and not (tail is not None and tail.match(_after_sign(_words_after(text, end) if loose
                                                                     else text[end:end + 60])))):
            return True
    return False


def _whole_printings(text: str, amount: Decimal, forms: tuple[str, ...] | list[str] | None = None
                     ) -> Iterator[tuple[int, int, bool]]:
    """Each place ``text`` prints ``amount`` as a whole number (no digit or decimal part glued to either
    side): (start, end, whether a currency sign stands within 4 characters of it). ``forms``: the printed forms
    looked for (default :func:`_variants`)."""
    for form in _variants(amount) if forms is None else forms:
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            before, after = text[max(0, start - 4):start], text[end:end + 4]
            clean_left = not before or not (before[-1].isdigit() or before[-1] in ".,")
            clean_right = not after or not (after[0].isdigit() or (after[:1] in {".", ","} and after[1:2].isdigit()))
            if clean_left and clean_right:
                yield start, end, bool(SIGN.search(before) or SIGN.search(after))
            start = text.find(form, start + 1)


def _sign_past_blanks(text: str, start: int, end: int) -> bool:
    """Whether a currency sign stands next to ``text[start:end]`` past a run of blanks, as the page shows it (one
    space): pretty-printed markup puts a newline and an indent between "€" and "49,99"."""
    before = text[max(0, start - 200):start] if text[start - 1:start].isspace() else ""
    after = text[end:end + 200] if text[end:end + 1].isspace() else ""
    return bool((before and SIGN.search(before.rstrip()[-4:])) or (after and SIGN.search(after.lstrip()[:4])))


def _words_after(text: str, at: int) -> str:
    """The 60 characters of text after ``at`` as shown, blanks collapsed (a leading blank kept as one space)."""
    return _BLANKS.sub(" ", text[at:at + 400])[:60]


_BLANKS = re.compile(r"\s+")


def _words_before(text: str, at: int, shown: int = 30, reach: int = 200) -> str:
    """The ``shown`` characters of text before ``at`` as shown, blanks collapsed, read from the ``reach`` characters
    before it (the page text keeps the source's indentation, which pushed "Precio afiliado" out of a raw
    30-character window)."""
    return " ".join(text[max(0, at - reach):at].split())[-shown:]


def _after_sign(text: str) -> str:
    """``text`` past a currency sign or code written right after an amount ("円", " zł", "€"; " ر.س", " KSh": any sign
    the amounts know, past one blank)."""
    m = _TRAILING_SIGN.match(text)
    if m is None:
        m = SIGN.match(text, 1 if text[:1].isspace() else 0)
    return text[m.end():] if m else text


_TRAILING_SIGN = re.compile(r"\s?(?:[$€£¥￥₹₩₽₺₴฿₫₱₪円元원₸৳₡₾֏₼₲₵]|đ|лв\.?|"
                            r"(?-i:[A-Z]{3})\b|zł|kr\b|Kč|Ft\b|[Ll]ei\b|Dhs?\b|TL\b|руб\.?)")


def _demote_declared_regular(candidates: list[Candidate]) -> list[Candidate]:
    """Current prices that another source declares to be the list price go last.

    JSON-LD often carries the standard price while OpenGraph or microdata carry the sale price
    and name the standard one (``og:price:standard_amount``): the sale price is the current one.
    """
    regular = {c.price for c in candidates if c.role == "regular"}
    current = [c for c in candidates if c.role == "current"]
    if not regular or all(c.price in regular for c in current):
        return candidates
    return sorted(candidates, key=lambda c: c.role == "current" and c.price in regular)


def _main_offer(candidates: list[Candidate], page: Page, offered_by: list[tuple[Decimal, str]]) -> list[Candidate]:
    """Structured data with several offers: the page's own offer goes first, the lowest of them never does.

    An AggregateOffer's ``lowPrice`` is the cheapest of several sellers' or variants' offers: a "from"
    price, behind any single offer listed beside it. Among offers that name their sellers, those of the
    seller the page names by its title ("Vendido por Mercatodo", "Sold by RetailNet") go first; the
    visible buy box then confirms one of them, or none.
    """
    current = [c for c in candidates if c.role == "current"]
    if len(current) < 2 or len({c.price for c in current}) < 2:
        return candidates
    mine: set[Decimal] = set()
    if offered_by and _title_at(page) >= 0:
        region = " ".join(_title_region(page).split()).lower()
        names = {name for _, name in offered_by if len(name) >= 3 and name.lower() in region}
        mine = {price for price, name in offered_by if name in names}
        if len(mine) > 1:
            mine = set()  # (the seller sells it at several prices: the buy box decides)

    def rank(c: Candidate) -> int:
        if c.role != "current":
            return 1
        return 2 if c.note == _LOW else 0 if c.price in mine else 1

    return sorted(candidates, key=rank)


# Elements drawn struck through, whatever their classes say (STRUCK also holds "regular", "list" classes)
_LINE_THROUGH = "del, s, strike, [style*=line-through], [class*=line-through i]"
_SELECTED = "option[selected], [aria-checked=true], [aria-selected=true]"


def _url_selected(current: list[Candidate], page: Page) -> set[Decimal]:
    """The prices of the structured offers whose ``url`` or ``sku`` (kept in the note) names a variant the page's
    URL selects (``?variant=39002``, ``?sku=ML-PULL-M``)."""
    wanted = set(_url_values(page).values())
    if not wanted:
        return set()

    def selects(c: Candidate) -> bool:
        note = c.note or ""
        if not note.startswith("offer "):
            return False
        for ident in note[6:].split():
            query = {v for _, v in parse_qsl(urlsplit(ident).query)} if "?" in ident else {ident}
            if query & wanted:
                return True
        return False

    return {c.price for c in current if selects(c)}


def _url_values(page: Page) -> dict[str, str]:
    """The page URL's query, key to value (``?variant=39002`` -> {"variant": "39002"}), values of 2+ characters."""
    return {k: v for k, v in parse_qsl(urlsplit(page.url).query) if len(v) >= 2}


def _for_other_variant(cand: Candidate, query: dict[str, str]) -> bool:
    """Whether a structured offer names another variant than the page URL selects: its ``url`` carries the same
    query key with another value (offer ``?variant=518073`` on a page at ``?variant=551841``) and none of its
    ids (url, sku) is a value of the page's query."""
    note = cand.note or ""
    if not query or not note.startswith("offer "):
        return False
    wanted = set(query.values())
    other = False
    for ident in note[6:].split():
        if ident in wanted:
            return False
        if "?" in ident:
            theirs = dict(parse_qsl(urlsplit(ident).query))
            if set(theirs.values()) & wanted:
                return False
            other = other or any(key in theirs and theirs[key] != value for key, value in query.items())
    return other


def _variant_conflict(page: Page, structured: list[Candidate]) -> tuple[set[Decimal], set[Decimal]] | None:
    """The structured prices that are another variant's, and the amounts the page's product state gives for the
    variant its URL selects, when the structured data describes another variant than the one the page sells;
    else None.

    Structured data describes another variant when each of its current offers names another variant in its
    ``url`` (:func:`_for_other_variant`), or when the product state's entry for the URL's variant
    (``ProductJson`` ``variants``, :func:`variant_amounts`) gives none of its prices. Themes render the first
    variant's offer whatever the URL selects; the buy box shows the selected one's.
    """
    query = _url_values(page)
    current = [c for c in structured if c.role == "current"]
    if not query or not current:
        return None
    state = variant_amounts(page, set(query.values()))
    if all(_for_other_variant(c, query) for c in current):
        return {c.price for c in current}, state
    if state and not state & {c.price for c in current}:
        return {c.price for c in current}, state
    return None


def _selected_amounts(page: Page) -> set[Decimal]:
    """The amounts the options or swatches the page marks selected show ("Rata Red - $299.00 NZD")."""
    shown: set[Decimal] = set()
    for node in page.tree.css(_SELECTED):
        text = node.text(deep=True)
        if len(text) < 80:
            shown |= {a.amount for a in find_amounts(text, locale=page.locale)}
    return shown


def _selected_first(candidates: list[Candidate], page: Page) -> list[Candidate]:
    """Structured offers of several variants at several prices: the one the page selects goes first.

    A variant page's URL names its variant (``?variant=39002``, ``?sku=ML-PULL-M``) and the JSON-LD
    offer of that variant carries the same id in its ``url`` or ``sku`` (kept in the candidate's
    note); else the selected option or swatch may show its price ("Queen – $189.00"). Without
    either, the first offer listed is only the first variant.
    """
    current = [c for c in candidates if c.role == "current"]
    prices = {c.price for c in current}
    if len(prices) < 2:
        return candidates
    chosen = _url_selected(current, page)
    if not chosen:
        for node in page.tree.css(_SELECTED):
            text = node.text(deep=True)
            if len(text) < 80:
                shown = {a.amount for a in find_amounts(text, locale=page.locale)} & prices
                if len(shown) == 1:
                    chosen = shown
                    break
    if len(chosen) != 1:
        return candidates
    return sorted(candidates, key=lambda c: not (c.role == "current" and c.price in chosen))


def _selected_variant(conflict: tuple[set[Decimal], set[Decimal]], visible: Visible, currency: str | None,
                      flags: list[str], structured: list[Candidate]) -> Candidate:
    """The price of the variant the page's URL selects, when structured data describes another one
    (:func:`_variant_conflict`).

    The product state's amount for the URL's variant, when the buy box shows it (``embedded-json``, note
    ``selected variant``); else a visible price clearly the buy box's (over ``_CONTRADICTS``) that is none of
    the other variants' structured prices, flagged ``structured_contradicted``; else the structured price,
    flagged ``structured_other_variant``, which leaves the page undecided (:func:`_contention`).
    """
    others, state = conflict
    shown = [c for c in visible.candidates if c.price in state]
    if len({c.price for c in shown}) == 1:
        seen = shown[0]
        return Candidate("embedded-json", seen.price, seen.currency or currency, seen.raw_text, 0.7,
                         note="selected variant")
    best = visible.best
    if not state and best is not None and best.confidence >= _CONTRADICTS and best.price not in others:
        flags.append("structured_contradicted")
        return best
    flags.append("structured_other_variant")
    return structured[0]


def _in_shown_range(page: Page, visible: Visible, currency: str | None, offered: set[Decimal]) -> Candidate | None:
    """The price of the variation the page URL selects (:func:`selected_variation`), when the page shows only a
    price range ("7.499,00 kr. – 8.999,00 kr.") that holds it and neither the structured data nor the buy box's
    best amount is it: the buy box's script shows that variation's price once it has read the URL."""
    amount = selected_variation(page)
    if amount is None or amount in offered or (visible.best is not None and visible.best.price == amount):
        return None
    lows = [c.price for c in visible.candidates if c.price <= amount]
    if not any(high >= amount for high in visible.range_high) or not lows:
        return None
    return Candidate("embedded-json", amount, currency, str(amount), 0.6, note="selected variation")


# Markup naming an element the list, previous or suggested price ("productOldPrice", "salepage-suggestprice",
# "price--was", "rrp"): stricter than STRUCK's substrings, which also find "bold" and "holder". Not
# "with-list-price" (Shopware's current price beside a list price), nor "regular" (Magento's only price).
_LIST_MARKUP = re.compile(
    r"(?<!with[-_])(?<!has[-_])(?:old|was|list|before|orig(?:inal)?|compare(?:[-_]?at)?|strike|crossed|prev(?:ious)?|"
    r"suggest(?:ed)?|recommended|retail|msrp|rrp|uvp|srp)[-_]?(?:price|preis|prix|precio|prezzo|amount)|"
    r"(?:^|[\W_])(?:old|was|before|strike|strikethrough|crossed|suggest(?:ed)?|msrp|rrp|uvp|srp)(?:$|[\W_])", re.I)
_LIST_ELEMENTS = (f"{_LINE_THROUGH}, [class*=old i], [class*=was i], [class*=list i], [class*=before i], "
                  "[class*=orig i], [class*=compare i], [class*=strike i], [class*=crossed i], [class*=prev i], "
                  "[class*=suggest i], [class*=recommend i], [class*=retail i], [class*=msrp i], [class*=rrp i], "
                  "[class*=uvp i], [class*=srp i]")


def _old_texts(page: Page, region: str) -> list[str]:
    """The short texts (under 80 characters) in the buy box (``region``) of elements drawn struck through or
    named the list, previous or suggested price (:data:`_LIST_MARKUP`)."""
    texts = []
    for node in page.tree.css(_LIST_ELEMENTS):
        attrs = node.attributes
        drawn = node.tag in {"del", "s", "strike"} or "line-through" in f"{attrs.get('style')} {attrs.get('class')}"
        if drawn or _LIST_MARKUP.search(f"{attrs.get('class') or ''} {attrs.get('id') or ''}"):
            text = " ".join(node.text(deep=True, separator=" ").split())
            if text and len(text) < 80 and text in " ".join(region.split()):
                texts.append(text)
    return texts


def _printings(text: str, amount: Decimal, *, loose: bool = False) -> Iterator[tuple[int, int]]:
    """Where ``text`` prints ``amount`` with a currency sign beside it: (start, end) of each printing (as
    :func:`_shows` finds them; ``loose``: a sign past a run of blanks too, as shown)."""
    return ((start, end) for start, end, signed in _whole_printings(text, amount)
            if signed or (loose and _sign_past_blanks(text, start, end)))


def _label_before(text: str, at: int) -> str:
    """The words right before ``at`` as shown, after the last digit before it: "UVP 1.049,00 € 899,00 €" labels
    899,00 with nothing, "Unser bisheriger Preis 109,90" labels 109,90 with "Unser bisheriger Preis"."""
    words = _words_before(text, at)
    digits = [i for i, ch in enumerate(words) if ch.isdigit()]
    return words[digits[-1] + 1:] if digits else words


def _disagree(current: list[Candidate], listed: list[Candidate]) -> bool:
    """Whether structured sources disagree: two of them (JSON-LD, microdata, Open Graph) give no amount in common,
    or one names as the list price an amount that none gives as current (``product:sale_price:amount`` under
    ``product:price:amount``). One source's several offers are other variants' or sellers'."""
    by_source: dict[str, set[Decimal]] = {}
    for cand in current:
        by_source.setdefault(cand.method, set()).add(cand.price)
    amounts = list(by_source.values())
    if any(not mine & theirs for i, mine in enumerate(amounts) for theirs in amounts[i + 1:]):
        return True
    return bool({c.price for c in listed} - {c.price for c in current})


def _stale_structured(structured: list[Candidate], page: Page,
                      visible: Visible) -> tuple[Candidate, Candidate] | tuple[str, list[Candidate]] | None:
    """Structured sources that disagree (:func:`_disagree`), settled by the buy box: (the current price, the old
    one); or (why the page is undecided, the candidates) when they stay in conflict; or None (the cascade decides).

    An amount the buy box shows only beside a list, previous or suggested-price word ("Unser bisheriger Preis
    109,90 EUR", "建議售價", "정가", "UVP"), struck through, or in an element its markup names so
    ("productOldPrice", "salepage-suggestprice") is the old price, whatever source gives it; the one other amount
    the buy box shows as a current price (with its sign, after no such word, in no such element) and lower than
    each old one is the price. Two amounts shown as current prices that the visible scan does not tell apart
    leave the page undecided.
    """
    current = [c for c in structured if c.role == "current"]
    listed = [c for c in structured if c.role == "regular"]
    if not current or any(c.note == _LOW for c in current) or not _disagree(current, listed):
        return None
    region = _title_region(page)
    old_texts = _old_texts(page, region)
    regular = visible.regular.price if visible.regular is not None else None
    amounts = {c.price for c in current} | {c.price for c in listed}
    # (the words before and after each printing of an amount in the buy box)
    printed = {a: [(_label_before(region, start), _after_sign(region[end:end + 60]))
                   for start, end in _printings(region, a)] for a in amounts}
    marked = {a for a in amounts if a == regular or any(_shows(text, a) for text in old_texts)}
    now = {a for a in amounts - marked
           if any(not _NOT_CONFIRMING.search(before) and not _NOT_CONFIRMING_TAIL.match(after)
                  for before, after in printed[a])}
    said = {a for a in amounts if any(WAS_TEXT.search(before) for before, _ in printed[a])}
    stale = {a for a in (marked | said) - now if printed[a]}
    shown = {c.price for c in current} & now
    if stale and len(shown) == 1 and all(price < amount for price in shown for amount in stale):
        winner = next(c for c in current if c.price in shown)
        was = next(c for c in structured if c.price == max(stale))
        return winner, Candidate(was.method, was.price, was.currency or winner.currency, was.raw_text, was.confidence,
                                 "regular", was.note)
    if len(shown) > 1:
        seen = {c.price: c.confidence for c in reversed(visible.candidates)}
        strengths = sorted((seen.get(price, 0.0) for price in shown), reverse=True)
        if strengths[0] - strengths[1] <= _UNDECIDED_TIE:
            rivals = [next(c for c in current if c.price == price) for price in sorted(shown)]
            return (f"structured sources disagree ({', '.join(f'{c.method} {c.price}' for c in rivals)}) and the page "
                    "shows each as a current price", rivals)
    return None


def _pick(structured: list[Candidate], visible: Visible, visible_current: set[Decimal],
          visible_regular: set[Decimal], shown_struck: frozenset[Decimal] | set[Decimal] = frozenset(),
          lead: Callable[[str | None], Decimal | None] | None = None,
          range_ends: Callable[[Decimal], bool] | None = None) -> tuple[Candidate | None, list[str]]:
    """The structured/embedded candidate the visible page confirms, or the visible one, with flags.

    ``shown_struck``: structured prices the page prints only struck through; with no visible current amount
    beside them, such a price is taken to be the old one and leaves the page undecided. ``lead``: the first amount
    the page prints after its title, in a currency (asked only when a list price's label may be a shop's name for
    its price). ``range_ends``: whether the buy box prints an amount only as where prices start (an end of a
    price range, a "From" amount); a structured price printed so, beside another current amount, is contradicted."""
    flags: list[str] = []
    current = [c for c in structured if c.role == "current"]
    best_visible = visible.best
    if current and current[0].note == _LOW and best_visible is not None and best_visible.price != current[0].price:
        # The lowest of several offers (other sellers, other variants): a "from" price. The buy box
        # shows what this page sells now.
        flags.append("structured_contradicted")
        return best_visible, flags
    if current and current[0].note == _LOW and any(high > current[0].price for high in visible.range_high):
        # (the page shows the offers' range, "7.499,00 kr. – 8.999,00 kr.", and its lower end confirms only that
        # some offer costs that: nothing says which one this page sells)
        flags.append("price_range")
        return current[0], flags
    if (current and best_visible is not None and best_visible.price != current[0].price
            and gross_of(current[0].price, best_visible.price)
            and any(c.note == "net" and c.price == current[0].price for c in visible.rejected)):
        # (structured data gives the amount the buy box labels without VAT, "14,800円（税抜）", "189,00 €* zzgl. MwSt.",
        # and the buy box's best amount is that amount with VAT: the price a shopper pays)
        flags.append("structured_contradicted")
        return best_visible, flags
    if current and best_visible is not None and range_ends is not None and range_ends(current[0].price):
        # (the buy box prints the structured price only as where a range starts or ends, "42,00 € – 98,00 €", or as
        # where a configuration's prices start, "ab 899,00 €", and another amount as the current one, the selected
        # option's "110,00 € 98,00 €", the configured "Gesamtpreis: 1.259,00 €": another option's offer, a base price)
        shown = [c for c in visible.candidates if c.role == "current" and c.price != current[0].price
                 and not _elsewhere(c) and not range_ends(c.price)
                 and "from-price" not in (c.note or "").split(",")]
        if shown:
            flags.append("structured_contradicted")
            return max(shown, key=lambda c: c.confidence), flags
    if current and best_visible is not None:
        # The page's primary structured price wins a near-tie among visible candidates; a clearly
        # better visible candidate that matches another structured value (a sale price) wins otherwise.
        primary = [v.confidence for v in visible.candidates if v.price == current[0].price]
        if primary and primary[0] >= best_visible.confidence - _TIE:
            return current[0], flags
    for cand in current:
        if best_visible is not None and cand.price == best_visible.price:
            return cand, flags
    for cand in current:
        if cand.price in visible_current:
            return cand, flags
    if not current:
        return None, flags
    first = current[0]
    if first.price in visible_regular and best_visible is not None and best_visible.price > first.price \
            and lead is not None and first.price not in shown_struck and first.price not in visible.conditional \
            and all(c.price != first.price for c in (*visible.rejected, *visible.candidates)) \
            and lead(first.currency) == first.price:
        # (a list price is above the price it accompanies: the buy box leading with the structured price under a
        # "regular" or "list" label, not struck through, and printing a higher amount after it, names its price so,
        # Shopify Dawn's hidden "Regular price" in a language that says "list price" ("Prezzo di listino €38,50"
        # before a case of six's €210,00))
        return first, flags
    if first.price in visible_regular and best_visible is not None:
        flags.append("structured_contradicted")
        return best_visible, flags
    if first.price in shown_struck:
        # (the page shows the structured price only as its list price, and no current amount it can read)
        flags.append("structured_shown_as_regular")
        return first, flags
    if best_visible is not None and best_visible.confidence >= _CONTRADICTS:
        flags.append("structured_contradicted")
        return best_visible, flags
    flags.append("structured_not_visible")
    return first, flags


def _contention(chosen: Candidate, structured: list[Candidate], visible: Visible, flags: list[str],
                confidence: float, undecided_below: float, page: Page) -> tuple[str, list[Candidate]] | None:
    """Why the evidence does not single out ``chosen``, with the candidates in contention; ``None`` when it does.

    - structured data gives several current prices and the visible page shows none of them;
    - structured data the page does not show, while the visible page shows another amount with some
      confidence (``_DISAGREES``): nothing says which of the two the shopper pays;
    - the two best visible candidates show different amounts, equally strong (within
      ``_UNDECIDED_TIE``), neither of them the list price beside the other;
    - the final confidence is under ``undecided_below``.
    """
    if chosen.method in {"profile", "rule"}:
        return None
    best = visible.best
    if "structured_other_variant" in flags:
        return (f"structured data gives {chosen.price} for another variant than the page's address selects, and "
                "the page does not single out the selected one's price",
                [chosen, *([best] if best is not None and best.price != chosen.price else [])])
    if "price_range" in flags:
        return (f"the page shows a price range from {chosen.price} and nothing selects one offer's price",
                [chosen, *([best] if best is not None and best.price != chosen.price else [])])
    if "structured_shown_as_regular" in flags:
        return (f"structured data says {chosen.price}, which the page shows only as the list price, and no current "
                "price can be read beside it", [chosen])
    declared_regular = {c.price for c in structured if c.role == "regular"}
    current = [c for c in structured if c.role == "current"]
    # A current price that another source names the list price (og:price:standard_amount) is not a rival.
    current = [c for c in current if c.price not in declared_regular] or current
    distinct = list({c.price: c for c in reversed(current)}.values())[::-1]
    best = visible.best
    if "structured_not_visible" in flags:
        if chosen.price in visible.conditional:
            # (the product's block shows it only as a coupon's, a card holders', members', an app's or a way of
            # paying's price, a flash sale's that has not begun, or as the price of several units: never what a shopper
            # pays for one without meeting the condition)
            return (f"structured data says {chosen.price}, which the page shows only under a condition (a coupon, "
                    "card, member, app or payment-way price, one that starts later, or several units' price), and no "
                    "other price", [chosen])
        if len(distinct) > 1:
            return (f"structured data gives {len(distinct)} different prices and the page shows none of them",
                    distinct[:5])
        # (an amount without a currency sign is often a fragment of a price, "$ 174 <sup>99</sup>", unless it is
        # whole with its cents: "17,99" in a buy box whose shop prints no sign)
        if (best is not None and best.price != chosen.price and best.confidence >= _DISAGREES
                and (SIGN.search(best.raw_text) or _WITH_CENTS.fullmatch(best.raw_text.strip()))):
            tied = [c for c in visible.candidates if c is not best and c.price not in {chosen.price, best.price}
                    and c.confidence >= best.confidence - _UNDECIDED_TIE
                    and not any(r.startswith(_ELSEWHERE) for r in (c.note or "").split(","))]
            return (f"structured data says {chosen.price}, which the page does not show; the page shows "
                    f"{best.raw_text} instead", [chosen, best, *tied[:3]])
        printed = [] if visible.placeholder else _other_numbers(page, chosen.price, chosen.currency)
        if printed:
            # (the buy box prints amounts the scan cannot read as prices, in a sign or a notation nobody listed, and
            # none of them is the structured price in any reading: a stale or another market's structured price as
            # often as not, blind; what the page prints decides, so a person does)
            return (f"structured data says {chosen.price}, which the page does not show; its buy box prints "
                    f"{', '.join(printed[:3])} instead", [chosen])
    if (len(distinct) > 1 and best is not None and best.price == chosen.price
            and "from-price" in (best.note or "").split(",")):
        # (offers at several prices, a gift card's amounts or a product's sizes, and the page shows the lowest only as
        # where they start, "Desde $200.00": nothing selects the one this address sells)
        return (f"structured data gives {len(distinct)} different prices and the page shows {best.raw_text} only as "
                "the price they start from", distinct[:5])
    if chosen.note == _LOW and best is not None and best.price == chosen.price:
        # An AggregateOffer's lowPrice is the cheapest of several offers: the page confirms that this page sells at
        # it only when its amount stands out. Another current amount as strong may as well be the buy box's.
        rivals = [c for c in visible.candidates
                  if c.price != chosen.price and c.confidence >= best.confidence - _UNDECIDED_TIE
                  and not any(r.startswith((*_ELSEWHERE, "weak-was", "from-price")) for r in (c.note or "").split(","))]
        if rivals:
            return (f"structured data gives the lowest of several offers, {chosen.price}, and the page shows "
                    f"{rivals[0].raw_text} as prominently", [chosen, *rivals[:4]])
    if chosen.method == "heuristic" and best is not None:
        regular = visible.regular.price if visible.regular is not None else None
        shown = [c.price for c in visible.candidates]
        coupon = _coupon(_near(page.body_text, chosen), chosen.price, page, chosen.currency)
        effective = coupon[1] if coupon is not None else None
        # Not rivals: the list price beside the chosen one, its price after a coupon (or its price
        # before one, when the chosen one is the price after it: "到手价"), an amount the
        # markup calls the regular price, another block's price, an amount the page repeats less
        # often than the chosen one, and one outside the buy box when the chosen one is in it.
        rivals = [c for c in visible.candidates
                  if c.price not in {chosen.price, regular, effective}
                  and c.confidence >= chosen.confidence - _UNDECIDED_TIE
                  and not any(r.startswith((*_ELSEWHERE, "weak-was", "from-price")) for r in (c.note or "").split(","))
                  and shown.count(c.price) >= shown.count(chosen.price)
                  and (c.note or "").count("buy-box") >= (chosen.note or "").count("buy-box")
                  and not _before_coupon(page, c, chosen)
                  # (nor an amount the buy box prints only as where prices start, an end of a price range, "42,00 € –
                  # 98,00 €", a configuration's "ab 899,00 €" and "Basis 899,00 €", beside a chosen amount it prints
                  # otherwise)
                  and not (_starts(page, c.price) and not _starts(page, chosen.price))]
        if rivals:
            return (f"the page shows {chosen.raw_text} and {rivals[0].raw_text} equally prominently",
                    [chosen, *rivals[:4]])
    if confidence < undecided_below:
        others = [c for c in visible.candidates if c.price != chosen.price][:3]
        return f"confidence {confidence:.2f} is under the threshold {undecided_below:.2f}", [chosen, *others]
    return None


def _outshone(chosen: Candidate, visible: Visible, flags: list[str], page: Page) -> tuple[str, list[Candidate]] | None:
    """Why a structured (or script state's) price the visible page shows does not stand for it: the buy box leads
    with another amount (:func:`_leading_amount`), which the visible scan reads as a current price as prominent as
    the structured price's own printing, or more.

    Whatever words label either amount ("sin ITBIS", a coupon's or a set's price in a language no list holds), only
    the words would say which one a shopper pays: the page goes to a person rather than to the structured price.
    An amount the scan knows by its words or markup as another figure (a list price, a "From" amount, another
    product's) is no current candidate here, and no rival."""
    if chosen.method not in (*_STRUCTURED, "embedded-json") or any(f.startswith("structured_") for f in flags):
        return None
    if chosen.note == "selected variation" or chosen.price in _url_selected([chosen], page):
        return None  # (the offer of the variant the address selects: the buy box may lead with another variant's)
    own = [c.confidence for c in visible.candidates if c.price == chosen.price and not _elsewhere(c)]
    if not own:
        return None
    regular = visible.regular.price if visible.regular is not None else None
    # (the rivals any leading amount could have, found first: on most pages none, and the buy box is not read)
    rivals = [c for c in visible.candidates
              if c.price not in {chosen.price, regular} and not _elsewhere(c) and SIGN.search(c.raw_text)
              and c.confidence >= max(own) - _UNDECIDED_TIE
              and not {"weak-was", "from-price"} & set((c.note or "").split(","))]
    if not rivals:
        return None
    lead = _leading_amount(page, chosen.price, chosen.currency)
    if lead == chosen.price:
        if chosen.method not in _STRUCTURED:
            return None  # (a script state's price shown more weakly than another: emphasis.unconfirmed_state says so)
        # (the buy box leads with the structured price and prints a rival after it, neither struck through nor named by
        # a word the cascade knows, that the scan draws plainly more prominent than the structured price's printing:
        # the emphasised amount against the data and the order, and only words would say which one a shopper pays)
        later = set(_plain_amounts(page, chosen.price, chosen.currency))
        rivals = [c for c in rivals if c.price in later and c.confidence > max(own) + _UNDECIDED_TIE]
    else:
        rivals = [c for c in rivals if c.price == lead]
    if not rivals:
        return None
    rival = rivals[0].raw_text
    said = f"leads with {rival}, as prominent" if lead != chosen.price else f"draws after it, more prominently, {rival}"
    return f"structured data says {chosen.price}, and the buy box {said}", [chosen, *rivals[:1]]


# Two amounts with only a dash between them: a price range ("Rp459.000 – Rp529.000"), no one variant's price
# (an en dash, a tilde, or a hyphen between blanks; not "-21%", a discount badge)
_RANGE_NEXT = re.compile(r"\s*(?:[–—~〜]|-(?=\s))\s*\D{0,4}\d(?![\d.,]*\s?%)")
# (a discount badge right before an amount, "9,90 € -24% 7,49 €": no range's dash)
_BADGE_BEFORE = re.compile(r"-\s?\d{1,2}(?:[.,]\d)?\s?%\s*$")
_RANGE_PREVIOUS = re.compile(rf"\d(?:{_TRAILING_SIGN.pattern})?\s*(?:[–—~〜]|(?<=\s)-)\s*\S{{0,4}}$")


def _shown_beside_selector(page: Page, options: Iterable[LexborNode], amount: Decimal,
                           others: tuple[str, ...] = ()) -> bool:
    """Whether the buy box (the text around the title) prints ``amount`` with its currency sign more often than the
    variant selector's ``options`` do, a price range's ends and "from" amounts left out: as the price of what the
    page sells now. ``others``: the other options' names (lower case); an amount printed just after one of them
    ("Disponible como nuevo: 4 999,00 zł", "Nuevo: Internet $369.990") is that option's offer."""
    region = _title_region(page)
    shown = [start for start, end in _printings(region, amount)
             if not _RANGE_NEXT.match(_after_sign(_words_after(region, end)))
             and not _RANGE_PREVIOUS.search(before := _words_before(region, start))
             and not FROM.search(before[-20:].lower())]
    in_options = sum(1 for node in options for _ in _printings(node.text(deep=True, separator=" "), amount))
    # (the other options print their amounts after their names too: those printings are counted once)
    named = sum(1 for start in shown if _named_before(region, start, others)) if others else 0
    return len(shown) - max(in_options, named) > 0


def _option_names(options: Iterable[LexborNode], page: Page) -> tuple[str, ...]:
    """The names of variant options as they print them, lower case, their amounts left out: those of at least
    three letters ("nuevo", "muito bom", "powystawowy"; never a size's "M")."""
    names = []
    for node in options:
        text = node.text(deep=True, separator=" ")
        if shown_longer(text, _MAX_OPTION):
            continue
        for amount in reversed(find_amounts(text, locale=page.locale)):
            text = text[:amount.start] + " " + text[amount.end:]
        name = " ".join(_MARKS.sub(" ", text).split()).lower()
        if sum(ch.isalpha() for ch in name) >= 3:
            names.append(name)
    return tuple(names)


_MARKS = re.compile(r"[^\w\s]")  # (what an option prints around its name: brackets, dashes, a "+")
_MAX_OPTION = 60
_NAMED_BEFORE = 60  # characters as shown before an amount where another option's name makes it that option's


def _named_before(region: str, at: int, names: tuple[str, ...]) -> bool:
    """Whether one of ``names`` is printed in the 60 characters as shown before ``at`` in ``region``."""
    before = _words_before(region, at, _NAMED_BEFORE, 300).lower()
    return any(name in before for name in names)


def _take_designated(page: Page, amount: Decimal, options: Iterable[LexborNode], chosen: Candidate, facts: Facts,
                     visible: Visible, flags: list[str], rescan: Callable[[], Visible]) -> Candidate:
    """The designated variant's price ``amount`` in place of the cascade's other one (``chosen``): the structured
    source that gives it, else the buy box's amount, when the buy box prints it beside the selector's ``options``
    (flag ``structured_other_variant_selected``); else ``chosen``, flagged ``structured_other_variant`` (undecided)."""
    if _shown_beside_selector(page, options, amount):
        same = [c for c in facts.candidates if c.role == "current" and c.price == amount]
        if not same and not visible.candidates:
            visible = rescan()
        shown = sorted((c for c in visible.candidates if c.role == "current" and c.price == amount
                        and not _elsewhere(c)),
                       key=lambda c: -c.confidence)
        taken = same[0] if same else shown[0] if shown else None
        if taken is not None:
            flags.append("structured_other_variant_selected")
            return taken
    flags.append("structured_other_variant")
    return chosen


def _designated_variant(page: Page, chosen: Candidate, facts: Facts, visible: Visible, flags: list[str],
                        rescan: Callable[[], Visible]) -> tuple[Candidate | None, str | None]:
    """The price of the variant the page's address designates, when the cascade's price is structured data (or a
    state script's) that describes another variant: (the price to take, or None with the reason the page shows
    none).

    The variant selector (:func:`designated_option`) says which option the address designates and what it and the
    other options cost (``rescan``: the whole page's visible scan, for a page the shortcuts settled). When the
    designated option shows one price and the cascade's is not it: the structured source that gives the designated
    one's price, else the buy box's amount, when the buy box prints it outside the selector (flag
    ``structured_other_variant_selected``); else the page is undecided (``structured_other_variant``).
    When the designated option shows no price while the others do, and it is sold out or the page has no buy button,
    the cascade's price is another variant's (one option's, a range's end) unless the buy box prints it: the page
    shows no price (``sold_out``, else ``unavailable``), never another variant's.
    Without a selector that shows prices, the shop platform's own state may say the designated variant's price
    (WooCommerce's ``data-product_variations`` for the address's ``attribute_*`` values, :func:`selected_variation`):
    it is taken, or the page undecided, as the designated option's would be.
    """
    read = chosen.method in _STRUCTURED or chosen.method == "embedded-json"
    if not read and (chosen.method != "heuristic" or _can_buy(page) or not page.sold_out_said):
        return chosen, None
    designated = designated_option(page)
    if not read:
        # (the visible scan's price, on a page with no way to buy that says sold out below its title: only the
        # sold-out question)
        if designated is None or designated.current or not designated.others or not designated.sold_out:
            return chosen, None
    elif designated is None:
        amount = selected_variation(page)
        if amount is None or amount == chosen.price:
            return chosen, None
        return _take_designated(page, amount, (), chosen, facts, visible, flags, rescan), None
    if len(designated.current) == 1:
        (amount,) = designated.current
        if chosen.price == amount:
            return chosen, None
        return _take_designated(page, amount, designated.options, chosen, facts, visible, flags, rescan), None
    if designated.current or not designated.others:
        return chosen, None
    unbuyable = designated.sold_out or not _can_buy(page)
    # (another variant's: an option's or a range end's; or a structured price the page shows nowhere, stale)
    another = (chosen.price in designated.others or chosen.note == _LOW or chosen.price in visible.range_high
               or "structured_not_visible" in flags)
    if unbuyable and another and not _shown_beside_selector(page, designated.options, chosen.price,
                                                            _option_names(designated.group, page)):
        return None, "sold_out" if designated.sold_out else "unavailable"
    return chosen, None


def _no_price_said(page: Page, chosen: Candidate | None, flags: list[str],
                   best: Candidate | None = None) -> str | None:
    """``on_request`` / ``unavailable`` when the page says, below its title, that it shows no price for the
    product and the cascade's price is not one it shows as this product's; else None.

    Either overrides any visible reading (an accessory's, a related product's: a product no longer sold
    has no price on offer, whatever it prints) and a structured price the page does not show, or shows on a page
    without a buy button. A price the profile, a rule or shown structured data gives is never overridden otherwise;
    nor is the visible scan's price
    (``best``) when the page prints it before the phrase: that phrase is a related item's.
    """
    if chosen is not None and chosen.method in {"profile", "rule"}:
        return None
    unseen = chosen is None or chosen.method == "heuristic" or bool(
        {"structured_not_visible", "structured_contradicted"} & set(flags))
    # (nor on a page that offers no way to buy: its structured price printed further down is another version's, "Auch
    # erhältlich in Kalbsleder – 3.950,00 €", under a crocodile bag's "Preis auf Anfrage" and "Termin vereinbaren")
    if not unseen and not (chosen is not None and chosen.method in _STRUCTURED and page.buy_button is None):
        return None
    shown = best.raw_text if best is not None and best.role == "current" else None
    return page.no_price_said(shown)


def _from_only(page: Page, price: Decimal) -> bool:
    """Whether the buy box prints ``price`` with its sign, and only after a word that makes it where prices start
    ("Vanaf € 39,95", "a partire da 6.900 €", "ab 1.299 €")."""
    region = _title_region(page)
    printed = list(_printings(region, price, loose=True))
    # (the last three words before it, whole: "a partire da", "Vanaf €"; not the "od" of a cut "Kod:"; or a
    # configuration's base price in its summary, "Basis 899,00 €"; or Japan's "189,800円～")
    return bool(printed) and all(FROM.search(words := " ".join(_words_before(region, start).split()[-3:]).lower())
                                 or _BASE_WORD.search(words) or FROM_AFTER.match(_after_sign(_words_after(region, end)))
                                 for start, end in printed)


# A configuration's base price named so before its amount ("Basis 899,00 €", "Base price £999.99", "Prix de base")
_BASE_WORD = re.compile(r"(?:^|\s)(?:basis|base(?: price)?|basispreis|prix de base|precio base|prezzo base|preço base)"
                        r":?\s?\S{0,3}$")


def _unshown_structured(chosen: Candidate | None, flags: list[str]) -> bool:
    """Whether the cascade's price is structured data the page does not show anywhere."""
    return chosen is not None and chosen.method in _STRUCTURED and "structured_not_visible" in flags


_RANGE_GAP = re.compile(r"\s*(?:[-–—~～]|to|bis)\s*$", re.I)


def _range_from(page: Page, chosen: Candidate) -> bool:
    """Whether the buy box prints a range from ``chosen``'s amount to a higher one ("₱499.00 – ₱1,299.00")."""
    region = _title_region(page)
    found = find_amounts(region, locale=page.locale, currency=chosen.currency)
    return any(low.amount == chosen.price and high.amount > low.amount
               and _RANGE_GAP.match(region[low.end:high.start]) is not None
               for low, high in pairwise(found))


def _can_buy(page: Page) -> bool:
    """Whether the page has a buy control a shopper can press (one that says so and is not disabled)."""
    button = page.buy_button
    return button is not None and not disabled(button)


def _confirmed_in_box(page: Page, chosen: Candidate | None, confirmed: bool) -> bool:
    """Whether the shortcut that reads the buy box confirmed ``chosen`` (``confirmed``) where the buy box of a sold-out
    product is (:attr:`Page.sold_out_box`, when the page has one): the first amount after the title may be another
    colour's tile past the product's "Sold out · Notify me"."""
    box = page.sold_out_box
    if not confirmed or box is None or chosen is None:
        return confirmed
    # (read as the page writes it: "AED", "Rp" are signs in their case; lower case keeps the length of almost all text)
    shown = page.below_title_shown or ""
    return _shows(shown[:len(box)] if len(shown) == len(page.below_title or "") else box, chosen.price, loose=True)


def _price_in_buy_box(chosen: Candidate | None, visible: Visible, flags: list[str], confirmed: bool,
                      box: str | None = None) -> bool:
    """Whether the buy box shows a price for the product: the cascade's price is a profile's, a rule's, or structured
    data the page shows in the product's block (``confirmed``: by the shortcut that reads the buy box), or the
    visible scan reads any current amount there, however weak; never an amount shown only in a carousel, the
    header or another block (``box``: the text from the title to a sold-out buy control, :attr:`Page.sold_out_box`;
    an amount the buy box shows is printed there, whatever the class names say of the amounts past it).

    A product sold out at every seller whose buy box shows no price has none, whatever stale structured data or a
    related item's tile says; one that shows its price beside "sold out" keeps it.
    """
    if confirmed or (chosen is not None and chosen.method in {"profile", "rule"}):
        return True

    def in_box(c: Candidate) -> bool:
        return c.role == "current" and not _elsewhere(c) and (box is None
                                                              or " ".join(c.raw_text.split()).lower() in box)

    if chosen is not None and chosen.method != "heuristic" and not {
            "structured_not_visible", "structured_shown_as_regular"} & set(flags):
        return any(c.price == chosen.price and in_box(c) for c in visible.candidates)
    return any(c is not None and c.method == "heuristic" and in_box(c) for c in (chosen, *visible.candidates))


def _before_coupon(page: Page, rival: Candidate, chosen: Candidate) -> bool:
    """Whether ``chosen`` is ``rival``'s price after a coupon or instant discount the page shows beside it."""
    if rival.price <= chosen.price:
        return False
    coupon = _coupon(_near(page.body_text, rival), rival.price, page, rival.currency)
    return coupon is not None and coupon[1] == chosen.price


def extract(html: bytes | str, url: str, *, profile: Profile | None = None,
            encoding: str | None = None, calibrate: bool = True, undecided_below: float = 0.0) -> Extraction:
    """Read one product page: price, currency, list price, availability, ids, offers and how sure it is.

    ``html`` is the page as fetched (bytes are decoded by declared charset, else UTF-8, else a guess);
    ``profile`` adds site selectors, locale and decimal separator. Never raises for a strange page:
    a page without a price gives ``price=None`` and, when it is a block/login/404 page, ``failure``.
    ``confidence`` is calibrated (the share of development pages its method is right on at that
    score, :mod:`crawlers.extract.calibration`); ``calibrate=False`` leaves the raw score (for fitting).
    A page whose evidence does not single out one price gives ``price=None`` and ``undecided``
    (``undecided_below``: the confidence under which a price is not taken, 0 to 1, from the
    ``crawl.undecided_below`` setting in the crawl; compared with the calibrated confidence).
    """
    page = Page.parse(html, url, encoding)
    result, block_only = _read(page, url, profile, calibrate, undecided_below, block_first=True)
    if block_only and result.price is None:
        # (the product's block gave the page its best amount, yet the page ends without a price: the whole page
        # decides, as it does for every page whose block gives no clear answer)
        result, _ = _read(page, url, profile, calibrate, undecided_below, block_first=False)
    return result


def _read(page: Page, url: str, profile: Profile | None, calibrate: bool, undecided_below: float,
          block_first: bool) -> tuple[Extraction, bool]:
    """:func:`extract` of a parsed page, and whether its visible scan read only the product's block of a page
    without a structured or script price (``block_first``: it may, :func:`_settled_in_block`)."""
    result = Extraction(url=url)
    facts = read_structured(page)
    # (structured data still in the currency the country retired, beside amounts in today's: changeover)
    retired = retired_offers(page, facts)
    site = read_profile(page, profile) if profile is not None else None
    currency_hint = (profile.currency if profile else None) or facts.currency
    if profile is not None and profile.locale:
        page.__dict__["locale"] = profile.locale  # the profile knows the site's locale better than guesses
    # The profile's price selector matched: a person configured it for this site, and it wins
    # (rule 3). The page-wide scans that look for a price elsewhere are skipped; they cost more than
    # the rest of the cascade on a 430 KB page.
    by_profile = site is not None and site.price is not None
    if not by_profile and not [c for c in facts.candidates if c.role == "current"]:
        facts.merge(read_embedded(page, currency_hint))
        retired = retired_offers(page, facts) or retired
        currency_hint = currency_hint or facts.currency
    if retired:
        result.flags.append(f"structured_retired_currency:{retired}")
    # (structured data of another variant than the URL selects is never confirmed by the page's "From $999")
    structured_facts = [c for c in facts.candidates if c.method in _STRUCTURED]
    conflict = None if by_profile else _variant_conflict(page, structured_facts)
    # (a structured price the buy box shows only as the price before tax, the list price, a card's, another
    # variant's, beside another current amount: no shortcut confirms it, the page is read whole; structured_roles)
    demotion = None if by_profile or conflict is not None else demoted(page, structured_facts, currency_hint)
    fast = None if by_profile or conflict is not None or demotion else _confirmed_fast(page, structured_facts)
    in_block = None
    block_only: Visible | None = None
    ordered: list[Candidate] | None = None
    if fast is not None:
        visible = Visible(candidates=[], regular=fast[1])
    elif by_profile:
        assert site is not None and site.price is not None
        regular = site.regular or _struck_regular(page, site.price)
        visible = Visible(regular=regular)
    else:
        sep = profile.decimal_separator if profile else None
        ordered = _structured_order(facts, page)
        in_block = None if conflict is not None or demotion else _confirmed_in_block(page, ordered, currency_hint,
                                                                                      sep)
        if in_block is None and conflict is None and demotion is None and block_first and not any(
                c.role == "current" for c in facts.candidates):
            # (no structured or script price: the product's block first, the whole page when it gives no clear
            # answer; its candidates are the block's)
            block_only = _settled_in_block(page, currency_hint, sep)
        visible = in_block or block_only or read_visible(page, currency=currency_hint, decimal_separator=sep)

    result.title = facts.title or page.title
    result.sku, result.gtin, result.mpn = facts.sku, facts.gtin, facts.mpn
    result.availability = facts.availability  # type: ignore[assignment]
    result.sellers = list(facts.sellers)
    # (a page read in the product's block alone records no visible candidate: the block's scores leave out the
    # rest of the page, so they are not the page's; its best amount still agrees with the structured price)
    result.candidates = [*([site.price] if site and site.price else []), *facts.candidates,
                         *(visible.candidates if in_block is None else [])]
    agreeing = result.candidates if in_block is None or in_block.best is None else [*result.candidates,
                                                                                     in_block.best]
    # (a buy button beside a price slot a script has yet to fill is a product page too: the crawl renders it)
    result.looks_like_product = facts.is_product or bool((visible.candidates or visible.placeholder)
                                                         and page.buy_button is not None)

    failure = page.failure()
    # Product data outweighs a page that reads like a failure only when it gives this page a price:
    # a "not found" or "discontinued" page may still describe the product (or another one) without
    # an offer, and its other prices are other products'.
    if failure is not None and not (facts.is_product and (by_profile or any(c.role == "current"
                                                                            for c in facts.candidates))):
        result.failure = failure
        result.looks_like_product = False
        return result, block_only is not None
    strong = by_profile or fast is not None or (visible.best is not None and visible.best.confidence >= 0.5)
    result.price_visibility = page.price_visibility(shows_price=strong)  # type: ignore[assignment]
    if result.price_visibility == "visible" and not by_profile and login_gate(page):
        result.price_visibility = "login_only"  # (a disabled buy button under "log in to see prices")

    # (an amount the page shows only as a "From" price confirms no structured price while the buy box shows another)
    # (nor one it shows only in an element its markup calls the regular price, "price-regular" beside "price-sale",
    # while the buy box's best amount is another: the list price)
    visible_current = {c.price for c in visible.candidates
                       if c is visible.best or not {"from-price", "weak-was"} & set((c.note or "").split(","))}
    # (what the page shows only as a list, members', unit or instalment price contradicts structured data)
    visible_regular = ({visible.regular.price} if visible.regular else set()) | visible.aside
    # (an amount the buy box shows as the list price beside its best one, and elsewhere only in another block, a
    # related item's tile at the same amount, is shown current by nothing of this product)
    visible_current -= {price for price in visible_current & visible_regular
                        if visible.best is not None and visible.best.price != price
                        and all(_elsewhere(c) for c in visible.candidates if c.price == price)}
    # (nor one the page shows only in another product's block, a carousel's or sponsored tile, the header, while the
    # buy box plainly prints another amount: another variant's or product's price, whatever the structured data says)
    if visible.best is not None and not _elsewhere(visible.best) and _shows(_title_region(page), visible.best.price,
                                                                            loose=True):
        visible_current -= {c.price for c in visible.candidates if c.price != visible.best.price} - {
            c.price for c in visible.candidates if not _elsewhere(c)}
    unseen = {c.price for c in facts.candidates if c.role == "current"} - visible_current - visible_regular
    if unseen and fast is None and not by_profile and _title_at(page) >= 0:
        # (and a structured price the buy box's text prints only after "was", "van", "statt" or as a
        # members' price, where no element of its own holds it: "van € 49,99 voor € 39,99")
        region = _title_region(page)
        visible_regular |= {price for price in unseen if _shows(region, price, loose=True)
                            and not _shows(region, price, unless=_NOT_CONFIRMING, tail=_NOT_CONFIRMING_TAIL,
                                           loose=True)}
    shown_as_variant = {c.price for c in visible.rejected if c.note == "variant"}
    offers = [c for c in facts.candidates if c.role == "current"]
    by_url = _url_selected(offers, page) if len({c.price for c in offers}) > 1 else set()
    # The URL selects the variant whose option shows this price: the page's own "selected" mark is the default
    # a script replaces, and the option confirms that variant's structured offer; so does the option the page
    # marks selected when it is the URL's variant and shows that price ("Rata Red - $299.00 NZD").
    by_url = by_url if len(by_url) == 1 and (by_url <= shown_as_variant or by_url <= _selected_amounts(page)) else set()
    shown_struck: set[Decimal] = set()
    not_current = {c.price for c in facts.candidates if c.role == "current"} - visible_current
    if not_current and fast is None and not by_profile and visible.best is None:
        # (a structured price the page prints only struck through, "<span class=line-through>299 ر.س</span>",
        # beside no current amount the scan can read: the old price)
        struck = _struck_texts(page, _LINE_THROUGH)
        shown_struck = {price for price in not_current if any(_shows(text, price, loose=True) for text in struck)}
        visible_regular |= shown_struck
    chosen: Candidate | None = None
    stale_regular: Candidate | None = None
    disagreement: tuple[str, list[Candidate]] | None = None
    if site is not None and site.price is not None:
        chosen = site.price
    if chosen is None and fast is not None:
        chosen = fast[0]
    if chosen is None and conflict is not None:
        chosen = _selected_variant(conflict, visible, currency_hint, result.flags,
                                   [c for c in structured_facts if c.role == "current"])
        if chosen.note == "selected variant":
            result.candidates.append(chosen)
    if chosen is None and not by_profile and conflict is None:
        chosen = _in_shown_range(page, visible, currency_hint,
                                 {c.price for c in facts.candidates if c.role == "current"})
        if chosen is not None:
            result.candidates.append(chosen)
    if chosen is None:
        structured = _structured_order(facts, page) if ordered is None else ordered
        chosen = next((c for c in structured if c.role == "current" and c.price in by_url), None)
        # (structured sources that disagree: the one the buy box shows as the current price, beside another it
        # shows as the old one, wins; two it shows as current prices leave the page undecided)
        settled = None if chosen is not None or by_profile else _stale_structured(structured, page, visible)
        if settled is not None and isinstance(settled[0], Candidate):
            chosen, stale_regular = settled
        elif settled is not None:
            disagreement = settled
        if chosen is None:
            chosen, flags = _pick(structured, visible, visible_current, visible_regular, shown_struck,
                                  partial(_first_price_after_title, page),
                                  # (a range's end not where the address names a variant: the variant rules find it)
                                  partial(_starts, page, ranges=not _url_values(page)))
            result.flags.extend(flags)
            if (chosen is not None and chosen.note == _LOW and "price_range" not in result.flags
                    and page.buy_button is not None and disabled(page.buy_button) and _range_from(page, chosen)):
                # (the offers' range, "₱499.00 – ₱1,299.00", and a buy button that waits for a choice, "Select a
                # size": nothing selects the one offer this page sells)
                result.flags.append("price_range")
    if chosen is None:
        embedded = [c for c in facts.candidates if c.method == "embedded-json"]
        chosen, flags = _pick(embedded, visible, visible_current, visible_regular)
        result.flags.extend(flags)
    if chosen is not None and chosen.method == "embedded-json" and visible.placeholder:
        # (the buy box's price slot waits for the script whose state gave this price: a render confirms it)
        result.flags.append("price_placeholder")
    if demotion is not None and chosen is not None and chosen.price == demotion.structured.price \
            and chosen.method != "heuristic":
        # (the buy box's current amount, never the structured one it shows only in a disqualifying role)
        overruled = overrule(demotion, visible, visible_regular)
        if overruled is not None:
            result.flags.extend(["structured_contradicted", f"structured_role:{demotion.role}"])
            visible.candidates = [v for v in visible.candidates if v.price != demotion.structured.price]
            chosen = overruled
    if chosen is None and visible.best is not None:
        chosen = visible.best
    if chosen is None and visible.placeholder:
        # The price slot still says "Loading price…": the price comes from a script. The spider
        # renders such a page in a browser rather than take another product's price.
        result.flags.append("price_placeholder")

    said = None
    if chosen is not None and not by_profile and result.price_visibility == "visible":
        # (structured data of another variant than the address designates, by the page's own variant selector)
        rescan = partial(read_visible, page, currency=currency_hint,
                         decimal_separator=profile.decimal_separator if profile else None)
        chosen, said = _designated_variant(page, chosen, facts, visible, result.flags, rescan)
        if "structured_other_variant_selected" in result.flags:
            # (the selector says which structured source, if any, describes the designated variant: no disagreement)
            disagreement = None
            if chosen is not None and chosen not in result.candidates:
                result.candidates.append(chosen)
    if said is None:
        said = (_no_price_said(page, chosen, result.flags, visible.best) if result.price_visibility == "visible"
                else None)
    if (said is None and chosen is not None and chosen.method not in {"profile", "rule"}
            and result.price_visibility == "visible" and not _can_buy(page)
            # (a range's end only where a buy button waits for a choice: a page without one the cascade knows may
            # still sell at its range's lower end)
            and any(_starts(page, price, ranges=page.buy_button is not None)
                    for price in {chosen.price, *(c.price for c in structured_facts
                                                  if c.role == "current" and chosen.method == "heuristic")})):
        # (the page prints its price, or its structured price, only as where prices start, "Vanaf € 39,95", "a partire
        # da 6.900 €", "NT$1,280 – NT$3,680", and offers no way to buy at it: a made-to-measure product before its
        # size, a showroom's indicative price, a range before a choice; no price yet, whatever a service's
        # "Montaggio da 450 €" beside it says)
        said = "from_only"
    unshown = _unshown_structured(chosen, result.flags)
    if said is None and result.price_visibility == "visible" and (
            (facts.sold_out and (page.sold_out_said or unshown))
            or (page.sold_out_said and not _can_buy(page) and (unshown or page.sold_out_box is not None))) and not \
            _price_in_buy_box(chosen, visible, result.flags, _confirmed_in_box(page, chosen, fast is not None),
                              page.sold_out_box):
        # (every structured offer says sold out, and the page says so below its title in words the rules know, or
        # shows the structured price nowhere: a sold-out product whose page hides its price, in any language; or the
        # page says so, offers no way to buy and shows the structured price nowhere, or nowhere in its buy box (the
        # text from the title to a sold-out control or an alert when it is back): that offer's InStock is stale)
        said = "sold_out"
    if said is not None:
        # The page says it shows no price for the product (on request, no longer sold): what else it
        # shows is an accessory's or another product's price, and a structured price it does not
        # show is not advertised. No price, and no render: the browser shows the same.
        result.price_visibility = "not_shown"
        result.flags.append(f"no_price_shown:{said}")
        chosen = None
    if result.price_visibility != "visible" and (chosen is None or chosen.method not in {"profile"}):
        # Hidden pricing is its own case: never report the withheld price as the advertised one.
        if chosen is not None:
            result.flags.append("price_withheld_on_page")
        chosen = None
    if chosen is not None and chosen.method != "profile" and disagreement is None:
        # (a deposit total, a subscription's or a coupon's price, an automatic basket discount, an expired offer)
        promo = settle_promotion(page, chosen, [c for c in facts.candidates if c.method != "heuristic"],
                                 visible.candidates, visible.best, _title_region(page), currency_hint, result.flags)
        if promo is not None:
            result.flags.extend([promo.flag] if promo.flag else [])
            chosen = promo.chosen or chosen
            visible.regular = visible.regular or promo.regular
            disagreement = None if promo.chosen else (promo.reason, list(promo.competing))
    if chosen is not None:
        confidence = _confidence(chosen, agreeing, result.flags)
        if calibrate:
            confidence = calibrated(chosen.method, confidence, result.flags)
        structured_seen = [c for c in facts.candidates if c.method in _STRUCTURED or c.method == "embedded-json"]
        contention = (disagreement or _contention(chosen, structured_seen, visible, result.flags, confidence,
                                                  undecided_below, page)
                      or _outshone(chosen, visible, result.flags, page)
                      or net_lead_contention(chosen, visible.net_lead)
                      or unconfirmed_state(chosen, visible.candidates, visible.best, result.flags))
        if contention is not None:
            ruled = apply_rules(page, profile)
            if ruled is not None:
                result.candidates.insert(0, ruled)
                chosen = ruled
            else:
                result.undecided, competing = contention
                text = page.body_text
                result.competing = [Candidate(c.method, c.price, c.currency, c.raw_text, c.confidence, c.role,
                                              c.note, _near(text, c, 80) or None) for c in competing]
                chosen = None
    if chosen is not None:
        result.price = chosen.price
        result.currency = chosen.currency or currency_hint
        result.raw_text = chosen.raw_text
        result.method = chosen.method
        result.confidence = _confidence(chosen, agreeing, result.flags)
        if calibrate:
            result.confidence = calibrated(result.method, result.confidence, result.flags)
        regulars = [c for c in facts.candidates if c.role == "regular" and c.price > chosen.price]
        regular = site.regular if site and site.regular else (regulars[0] if regulars else
                                                              visible.regular or stale_regular)
        if regular is not None and regular.price > chosen.price:
            result.regular_price, result.regular_raw_text = regular.price, regular.raw_text
        # (a coupon line beside the price block is the block's; the designated variant's price the selector gave
        # may be another amount than that block's: kr-beautyon's "쿠폰적용가" is the single item's, not the set's)
        coupon = (None if "structured_other_variant_selected" in result.flags
                  else _coupon(_near(page.body_text, chosen), chosen.price, page, result.currency)
                  or _automatic(page, chosen, result))
        if coupon is not None:
            result.coupon, result.effective_price = coupon
        else:
            result.effective_price = chosen.price
    if site is not None:
        result.sku = site.texts.get("sku") or result.sku
        result.gtin = site.texts.get("gtin") or result.gtin
        result.mpn = site.texts.get("mpn") or result.mpn
        result.title = site.texts.get("title") or result.title
        avail = site.texts.get("availability")
        if avail in {"InStock", "OutOfStock"}:
            result.availability = avail  # type: ignore[assignment]
        if site.sellers:
            result.sellers = site.sellers
        if site.missing:
            result.flags.append("profile_missing:" + ",".join(site.missing))
    if result.availability is None and result.looks_like_product:
        result.availability = page.availability_from_text()  # type: ignore[assignment]
    if visible.shipping is not None:
        result.shipping, result.shipping_raw_text = visible.shipping.amount, visible.shipping.raw
    if result.currency is None and chosen is not None:
        result.currency = currency_hint or _shown_currency(page, chosen, result.candidates)
    result.candidates.extend(facts.other_condition)  # (kept for the evidence: another condition's offers)
    return result, block_only is not None


def _elsewhere(cand: Candidate) -> bool:
    """Whether the visible scan read ``cand`` in another product's block or the page chrome (:data:`_ELSEWHERE`)."""
    return any(r.startswith(_ELSEWHERE) for r in (cand.note or "").split(","))


def _confidence(chosen: Candidate, candidates: list[Candidate], flags: list[str]) -> float:
    """How sure the cascade is of ``chosen``: its own confidence, a little more for each other step that
    agrees, less when a step disagreed (``flags``)."""
    confidence = chosen.confidence
    agree = {c.method for c in candidates if c.price == chosen.price and c.role == "current"}
    if len(agree) > 1:
        confidence = min(0.99, confidence + 0.05 * (len(agree) - 1))
    if flags:
        confidence = round(confidence * 0.7, 3)
    return confidence


def _shown_currency(page: Page, chosen: Candidate, candidates: list[Candidate]) -> str | None:
    """The currency the page shows beside the chosen amount, when no data named one (a JSON-LD or
    microdata price without ``priceCurrency``, embedded state)."""
    for cand in candidates:
        if cand.price == chosen.price and cand.currency:
            return cand.currency
    for text in (_near(page.body_text, chosen, 200), _title_region(page)):
        for amount in find_amounts(text, locale=page.locale):
            if amount.amount == chosen.price and amount.currency:
                return amount.currency
    return None


def structured_only(html: bytes | str, url: str) -> Candidate | None:
    """The first price schema.org data gives, with nothing else (for scoring the cascade's first step)."""
    page = Page.parse(html, url)
    facts: Facts = read_structured(page)
    current = [c for c in facts.candidates if c.role == "current"]
    return current[0] if current else None
