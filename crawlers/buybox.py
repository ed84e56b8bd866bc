"""The amount a rendered page shows at its buy box: the second reading before an accusation.

The extraction cascade reads a page's markup: its structured data first, then the visible text by
hand-ordered rules. A second reading that uses the same cascade agrees with the first by
construction (a stale JSON-LD price agrees with itself). This one reads only what Chromium lays out
and a shopper sees: it finds the product's add-to-cart button, measures every amount shown on the page
(where it is, its font size and weight, whether it is struck through, the words around it on its line)
and takes the most prominent amount between the product's title and the button that no word calls
something else (docs/extraction.md lists the principles; none is a site's rule). Structured data,
microdata, meta tags and script state are never read.

The page is rendered as a crawl renders it (under the network policy, in the cycle's shared
Chromium when there is one: :mod:`crawlers.screenshots`), with no screenshot.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from crawlers.extract.amounts import find_amounts
from crawlers.extract.cascade import _coupon  # (the cascade's reading of a coupon's wording, for the second reading)
from crawlers.extract.heuristics import (
    CONDITIONAL,
    CONDITIONAL_TAIL,
    FEE,
    FROM,
    INSTALMENT,
    INSTALMENT_LOCAL,
    LOWEST_30,
    MULTI_BUY,
    NET_TEXT,
    PRICE_LABEL,
    SAVING,
    SAVING_LOCAL,
    SHIPPING,
    THRESHOLD,
    UNIT_TAIL,
    WAS_TEXT,
    discount_of,
)
from crawlers.extract.page import _BUY_BUTTON, STRUCK, Page  # (the cascade's wording of a buy button, every language)

__all__ = ["BuyBoxReading", "choose", "read_buy_boxes", "shows_reduction"]

# An amount farther than this from the buy button (CSS pixels, edge to edge) is not in the buy box.
NEAR_BUTTON = 450.0
# Without a buy button, the amounts in the first screen below the product's title are read instead.
FIRST_SCREEN = 900.0
# Two font sizes this close (CSS pixels) are the same size; two distances this close, as near.
_SAME_SIZE = 0.5
_SAME_DISTANCE = 12.0
# (the weight of a horizontal distance against a vertical one)
_ACROSS = 0.25
# Wording around an amount that says it is not what the item costs now (beside the cascade's own
# "was", net-of-tax, members-only, instalment and saving wordings, in every language it knows): a unit
# or monthly price, a fee, a deposit...
_NOT_THE_PRICE = re.compile(
    r"\bsave\b|\bsavings\b|\byou save\b|\boff\b|\bper\b|"
    r"/\s*(?:kg|g|100\s?g|l|ml|100\s?ml|oz|lb|unit|ea|mo|month|m|mnd)\b|"
    r"\bmonthly\b|\ba month\b|\binstal?ments?\b|\bpayments? of\b|\bcuotas?\b|\bparcelas?\b|\bx\s?\d+\b|\d+\s?x\b|"
    r"\bpoints?\b|\bfee\b|monatsrate|\braten\b|\brater\b|\bpfand\b|"
    r"/\s*\d*\s*(?:milli|centi)?lit(?:er|re)s?\b|/\s*\d*\s*(?:kilo)?gramm?s?\b|/\s*\d*\s*(?:stück|meter)\b|"
    # (a month, a day or a square metre in other languages: "209 kr./md.", "/mes", "/ mois", "€/kuu", "/jour")
    r"/\s*(?:md|mdr|mån|kuu|mois|mes|mês|monat|mese|mies|měs|hó|ay|ամիս|міс|мес|月|jour|day|dag|tag|día|giorno)\b|"
    r"/\s*(?:ամիս|міс|мес|月)|m²|\bm2\b|/\s*m\b|"
    r"\ben \d+ fois\b|\bplazos\b|järelmaks|\balates\b|每月|每期|月付|دفعات|دفعة|\bplaćanje na rate|\bkeşbek|"
    r"\bpromo ?kod|\bpromo code|კოდით|\bvRG\b|\blocation\b|\bmiete\b|\balquiler\b|\bnoleggio\b|"
    r"extension de garantie|extended warranty|protection plan|garantieverlängerung|garanzia estesa|"
    r"garantía extendida|\bwarranty\b|\bversicherung\b|\bassurance\b",
    re.I,
)
# ... and, in the amount's own text only, a threshold, a starting price or a price for several ("Free shipping
# over $50", "from $9", "nuo 50 €", "virs 30 €", "3 for €20", "Lleva 2 por S/ 45.00"; beside the cascade's wordings).
_NOT_THE_PRICE_OWN = re.compile(
    r"\bover\b|\bnuo\b|\bvirs\b|\blleva\s\d+\s?por\b|"
    # (the tax in a price, in parentheses after its name: "Inclusive of VAT (AED 204.71)", "inkl. MwSt. (CHF 0.50)")
    r"(?:\bvat|\btax|mwst|\biva\b|\btva\b|\bgst\b|\bmoms\b|\bbtw\b|\bdph\b|\bkdv\b|ндс|ضريبة|vRG)[^()\d]{0,30}\(",
    re.I)
# ... and what else a buy box shows as an amount, in the words of many languages (issue #22): a gift's or
# a bundle's worth ("價值 $1,280", "d'une valeur de"), points and a subsidy or trade-in credit, a converted
# amount ("Aprox.", "≈", "Ref.: US$ 563"), a deposit ("Pfand", "pant", "statiegeld", "kaucja"), a fee
# included ("dont éco-participation", "EHF", "RAEE", and every recycling fee or levy the cascade reads: FEE), the
# EU's lowest price of the last 30 days, a price with a code or for members ("Thành viên", "سعر الأعضاء",
# "Clubcard"), other sellers' or used offers.
_ROLE_WORDS = re.compile(
    # worth, gifts
    r"價值|价值|\bworth\b|valued at|\bwert\b|d'une valeur|valeur de|valorad[oa]|del valor|no valor|\bvalore\b|"
    r"贈品|赠品|\bgift\b|\bregalo\b|\bcadeau\b|\bgeschenk|\bomaggio|\bbrinde\b|quà tặng|هدية|"
    # points, subsidies, trade-in credit, wallets
    r"ポイント|포인트|积分|積分|點數|点数|\bpunkte\b|\bpuntos\b|\bpunti\b|\bpontos\b|\bpoäng|\bpoint\b|"
    r"补贴|補貼|补助|補助|国补|\bsubsid|\bzuschuss|\bförderung|\brebate|\bcash ?back|trade[- ]?in|"
    r"supervalutazione|\breprise\b|eintausch|\binruil|\bwallet\b|\bmonedero|\bbilletera|"
    # converted into another currency
    r"\baprox|\bapprox|≈|\bca\.|\bcirca\b|\benviron\b|\bungefähr|约|約|\bref\.|\bequiv|"
    # deposits and fees included or added
    r"\bpfand|\bpant\b|\bpanten\b|statiegeld|\bkaucj|\bzáloh|\bzaloh|užstat|panttiraha|\bconsigne\b|"
    r"éco-?participation|eco-?contribution|\bdont\b|\bEHF\b|\bRAEE\b|eco-?(?:tax|fee|taxe)|recupel|"
    r"environmental (?:handling )?fee|\bWEEE\b|\bfrais\b|\bgebühr|"
    # the lowest price of the last 30 days (the EU's Omnibus notice)
    r"lowest|niedrigst|legalacsonyabb|najniższ|más bajo|plus bas|più bass|laagste|lägsta|laveste|nejnižší|"
    r"najnižš|alhaisin|madalaim|zemākā|mažiausia|найниска|最低|최저|"
    # a price with a code, or for members
    r"\bkodem\b|\bz kodem|\bwith code|\bcode\b|\bcoupon|\bkupon|\bcupom|\bcup[oó]n|gutschein|クーポン|쿠폰|优惠券|"
    r"thành viên|الأعضاء|للأعضاء|عضوية|\bmembres?\b|\bmiembros?\b|clubcard|card price|\bvip\b|\bklub\b|"
    r"\bmedlem|\bjäsen|\bleden\b|\bčlen|\bczłon|会員|회원|\btarjetas?\b|\bcart[ãa]o\b|"
    # other sellers' offers, used copies
    r"\bsellers?\b|\bvendedores\b|\bverkäufer\b|\bvendeurs\b|\bvenditori\b|\boffers\b|\boffres\b|\bofferte\b|"
    r"\bofertas\b|\bangebote\b|προσφορές|中古|\bused\b|\busad[oa]s?\b|marketplace|マーケットプレイス|"
    r"\bgebraucht|d'occasion|\brefurb|\bmais \d+ ofertas?|\b\d+ ofertas?\b|"
    # a bundle with other things ("Paket Hemat: HP + Casing", "套餐")
    r"\bbundle\b|\bpaket\b|\bcombo\b|套餐|套装|套裝|"
    # a card's price in more languages ("GB քարտ՝", "BirKart"), a monthly payment ("Aylıq ödəniş"), a trade-in
    # subsidy ("Thu cũ đổi mới: trợ giá"), an after-coupon price ("券后价"), home delivery ("Heimsending")
    r"քարտ|ბარათ|بطاقة|\w*kart\b|aylıq|ödəniş|thu cũ|trợ giá|đổi mới|券后|券後|"
    r"heimsending|\bsending\b|kuljetus|pristatym|piegād|\btarne",
    re.I,
)
# ... in the amount's own text or the words just before it only: a threshold ("免運", "ส่งฟรี", "ve
# üzeri", "للطلبات فوق"), a price for several ("任選 2 件", "まとめ買い", "2個セット").
_ROLE_WORDS_BEFORE = re.compile(
    r"免運|免运|包邮|ส่งฟรี|ครบ|miễn phí|ve üzeri|\büzeri|مجاني|مجانا|فوق|أكثر من|\bsobre\b|acima de|"
    r"\bspend\b|满|滿|任選|任选|まとめ買い|\d+\s?個セット|\bset of \d|\d+\s?-?pack\b|"
    r"(?<![\d.,])[2-9]\s?(?:voor|for|für|pour|för|por|za|за|per)\b",
    re.I,
)
# ... and said right after the amount: a unit ("/ count", "per capsule"), a month, points, a card or a wallet.
_ROLE_AFTER = re.compile(
    r"\s*\*?\s*(?:/\s*(?:count|ct|capsule|tab|dose|serving|wash|sheet|roll|piece|item|pc|pcs|m²|m2|m³|sq\.?\s?ft|"
    r"mois|mes|mês|monat|mese|month|mo|kuu|hó|mnd|md)\b|per (?:count|capsule|tablet|piece|unit|wash|serving|item|"
    r"month|kg|l)\b|with (?:\w+ )?(?:wallet|card|code|coupon)|clubcard|card price|member|"
    r"ポイント|포인트|积分|積分|點數|点数|punkte\b|points?\b|pts\b|bonus|together\b|zusammen\b|ensemble\b|juntos\b|insieme\b)",
    re.I,
)
# An amount written with a sign is a difference, not a price: "Savings: -$80.00", an add-on's "+$35.99".
_SIGNED = re.compile(r"(?:^|[\s(:])[-−–+]\s?(?:[^\d\s]{1,4}\s?)?\d")
# A label that names an old price beside a sale price, but the only price when there is no sale ("Regular price
# €2.49" on a shop that shows no sale): the amount is taken only when nothing else is.
_WEAK_WAS = re.compile(r"\bregular(?: price)?\b|\breg\.|\bprecio normal\b|\bpreço normal\b|\bnormal\b|\bnorm\.", re.I)
# A whole amount written as a price without a sign: "2 499,-", "1.499,-", "79.–".
_NO_CENTS = re.compile(r"^\s*\d{1,3}(?:[ .'\u00a0\u202f]?\d{3})*[.,]\s?[-–—]\s*$")
# The words before an amount on its line, after any amount before it ("Was $1,799.99 Now": " Now"; a count or a
# code is not one: "20 rate da", "Z kodem AGD100 zapłacisz", "des 30 derniers jours :").
_LAST_AMOUNT = re.compile(r"^.*(?<![^\W_])(?:[$€£¥₹₩₽₺₴฿₫₱₪]\s?\d+|\d{1,3}(?:[.,'\u00a0\u202f ]\d{2,3})+|\d{3,})"
                          r"(?![\d.,'\u00a0\u202f ]*\d|\s?[%x×])", re.S)


def _words_before(before: str) -> str:
    """The words on an amount's line just before it, back to the previous amount (at most 60 characters)."""
    return _LAST_AMOUNT.sub("", before)[-60:]


def _not_the_price(text: str, context: str, before: str = "", after: str = "") -> bool:
    """Whether the wording of an amount's own text, its neighbours' or its line says it is not the price.

    ``before``: the words on the amount's line before it (back to the previous amount); ``after``: those
    right after it (read only for a unit, a month, points, a card: the next amount's label follows).
    """
    words = f"{text} {context} {before}"
    return bool(WAS_TEXT.search(_WEAK_WAS.sub(" ", words)) or NET_TEXT.search(words) or CONDITIONAL.search(words)
                or _NOT_THE_PRICE.search(words) or INSTALMENT.search(words) or _ROLE_WORDS.search(words)
                or LOWEST_30.search(words) or FEE.search(words)
                or (not words.isascii() and INSTALMENT_LOCAL.search(words))
                or ((SAVING.search(words) or (not words.isascii() and SAVING_LOCAL.search(words)))
                    and not PRICE_LABEL.search(words))
                or _NOT_THE_PRICE_OWN.search(text) or FROM.search(text) or SHIPPING.search(text)
                or THRESHOLD.search(text) or MULTI_BUY.search(text) or _SIGNED.search(text) or UNIT_TAIL.search(text)
                or _ROLE_WORDS_BEFORE.search(f"{text} {before}")
                or FROM.search(before[-12:]) or THRESHOLD.search(before) or MULTI_BUY.search(before)
                or (after and (_ROLE_AFTER.match(after) or UNIT_TAIL.match(after) or CONDITIONAL_TAIL.match(after))))


# Run in the rendered page: the buy buttons and every short text that holds a digit, measured.
_PROBE = r"""
([buyWords, oldPrice]) => {
  const BUY = new RegExp(buyWords, 'i');
  const IDENT = /add[-_]?to[-_]?(?:cart|bag|basket)|buy[-_]?now|addtocart/i;
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return null;
    if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return null;
    return r;
  };
  const box = (r) => ({x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY),
                       w: Math.round(r.width), h: Math.round(r.height)});
  const buttons = [];
  for (const el of document.querySelectorAll(
      'button, input[type=submit], input[type=button], a, [role=button]')) {
    const label = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 80);
    const ident = [el.id, el.getAttribute('name'), typeof el.className === 'string' ? el.className : '']
      .join(' ');
    if (!(BUY.test(label) || IDENT.test(ident))) continue;
    const r = seen(el);
    if (r) buttons.push({label, ...box(r)});
  }
  // Struck through as shown (del, s, strike, a style's line-through) ...
  const struck = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).textDecorationLine.includes('line-through')) return true;
    }
    return false;
  };
  const units = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n && units.size < 600; n = walker.nextNode()) {
    if (!/\d/.test(n.nodeValue)) continue;
    let el = n.parentElement;
    if (!el || /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE|OPTION|TEXTAREA)$/.test(el.tagName) || !seen(el)) continue;
    // The amount's unit: the highest element around it still as short as one amount ("$", "89", ".00"),
    // without a button or link of its own.
    // (cents raised as a superscript are not another number: "129€<sup>90</sup>")
    const raisedCents = (e) => [...e.querySelectorAll('sup')].filter((s) => /^\d{2}$/.test(s.innerText.trim())).length;
    const numbers = (t) => (t.match(/\d[\d.,'’\u00a0\u202f ]*/g) || []).length;
    for (let up = 0; up < 4 && el.parentElement && el.parentElement !== document.body; up++) {
      const parent = el.parentElement, t = (parent.innerText || '').trim();
      if (t.length > 32 || /\n/.test(t) ||
          numbers(t) - raisedCents(parent) > numbers(el.innerText || '') - raisedCents(el)) break;
      if ([...parent.querySelectorAll('button, input, select, a, [role=button]')].some((b) => !el.contains(b))) break;
      el = parent;
    }
    units.add(el);
  }
  const amounts = [];
  for (const el of units) {
    const r = seen(el);
    if (!r) continue;
    let text = '', cents = '', size = 0, weight = 0, cross = false, lastHost = null, lastValue = '';
    // ... or marked as an old price by the page's markup only (class "was", "old", "regular"...)
    const marked = !!el.closest(oldPrice) || !!el.querySelector(oldPrice);
    const inner = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let t = inner.nextNode(); t; t = inner.nextNode()) {
      const host = t.parentElement;
      if (!host || !seen(host)) continue;
      const value = t.nodeValue.trim();
      if (!value) continue;
      const style = getComputedStyle(host);
      // Cents set as a superscript ("$89<sup>00</sup>", "129€<sup>90</sup>"), or as two digits in an element of
      // their own right after the whole units' ("<span>89</span><span>00</span>"), are cents, not more digits.
      const raised = host.tagName === 'SUP' || ['super', 'top', 'text-top'].includes(style.verticalAlign);
      if (/^\d{2}$/.test(value) && !cents &&
          ((raised && /\d\s?[^\d\s.,]{0,3}$/.test(text)) || (host !== lastHost && /^\d+$/.test(lastValue)))) {
        cents = value;
        continue;
      }
      // (a label and its amount in two elements are two words: "Cena s DPH" "12 990 Kč", "Precio internet" "$39.990")
      text += (text && (/^\s/.test(t.nodeValue) || (host !== lastHost && /\p{L}$/u.test(text) &&
                                                     /^[^\s.,:;)\]]/.test(value))) ? ' ' : '') + value;
      lastHost = host;
      lastValue = value;
      if (/\d/.test(value)) {
        size = Math.max(size, parseFloat(style.fontSize) || 0);
        weight = Math.max(weight, parseInt(style.fontWeight, 10) || 400);
        cross = cross || struck(host);
      }
    }
    if (!/\d/.test(text)) continue;
    // What is said right beside it ("Save", "/ kg", "was"): the texts of its neighbours, when short.
    const beside = (n) => { const t = n ? (n.innerText || n.textContent || '').trim() : '';
                            return t.length <= 40 && !/\d/.test(t) ? t : ''; };
    const context = [beside(el.previousSibling), beside(el.nextSibling)].join(' ').trim();
    // The words before and after it on its line: the highest element around it still one line, not too long.
    let line = el;
    while (line.parentElement && line.parentElement !== document.body) {
      const t = line.parentElement.innerText || '';
      if (t.length > 200 || /\n/.test(t.trim())) break;
      line = line.parentElement;
    }
    const lineText = line === el ? '' : (line.innerText || ''), own = el.innerText || '';
    const at = lineText.indexOf(own);
    const before = at > 0 ? lineText.slice(Math.max(0, at - 120), at) : '';
    const after = at >= 0 && lineText ? lineText.slice(at + own.length, at + own.length + 40) : '';
    // A badge or logo shown before it on its line says what it is as words do: its alternative text ("Tarjeta Oh!").
    const badges = [...(line === el ? el.parentElement : line).querySelectorAll('img[alt]')]
      .filter((i) => i.getBoundingClientRect().height <= 40 &&
                     (el.contains(i) || (i.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)))
      .map((i) => i.alt.trim()).join(' ').slice(0, 60);
    // Another product's price: in an aside, or in a list item or card that links to another page ...
    const item = el.closest('li, article, [class*=card], [class*=tile]');
    const away = (a) => !/^(?:#|javascript:)/i.test(a.getAttribute('href'));
    // ... or another variant's: a link to another page ("500 ml · $109.00"), an option not chosen.
    const link = el.closest('a[href]');
    const option = el.closest('label, [role=radio], [role=option], [aria-checked], [aria-selected]');
    const unchosen = !!option && (option.getAttribute('aria-checked') === 'false' ||
      option.getAttribute('aria-selected') === 'false' ||
      !!option.querySelector('input[type=radio]:not(:checked)') ||
      (option.tagName === 'LABEL' && !!option.control && option.control.type === 'radio' && !option.control.checked));
    const other = !!el.closest('aside, footer, nav') || (!!link && away(link)) || unchosen ||
      !!(item && [...item.querySelectorAll('a[href]')].some(away));
    amounts.push({text: text.slice(0, 80), cents, size, weight, struck: cross, marked, other, before, after,
                  context: [context, badges].join(' ').trim(),
                  ...box(r)});
  }
  const meta = document.querySelector('meta[property="og:locale"]');
  const h1 = [...document.querySelectorAll('h1')].map((h) => [h, seen(h)]).find(([, r]) => r);
  return {buttons, amounts, title: h1 ? {label: h1[0].innerText.trim().slice(0, 80), ...box(h1[1])} : null,
          text: (document.body.innerText || '').slice(0, 60000), lang: document.documentElement.lang || '',
          og_locale: meta ? meta.getAttribute('content') || '' : ''};
}
"""


@dataclass
class BuyBoxReading:
    """What a rendered page shows as its price at the buy box; ``price`` is ``None`` when it shows none, or two."""

    price: Decimal | None
    currency: str | None
    raw_text: str | None
    where: dict[str, Any]  # the button, the amount's box (CSS pixels), font size and weight, distance
    method: str = "visible-buy-box"
    # Another amount as prominent at the buy box, or nothing to read: why no price was taken.
    problem: str | None = None
    others: list[str] = field(default_factory=list)  # the other amounts read near the button (raw text)
    # The rendered page's text around the amount taken (where a coupon or instant discount is shown), and its locale.
    around: str | None = None
    locale: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a violation's evidence (amount as text)."""
        data = asdict(self)
        data["price"] = None if self.price is None else str(self.price)
        return data


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Edge-to-edge distance between two boxes (0 when they overlap), a quarter of it counted across: a buy box is
    laid out as a column or as a row (the price at the left of the line, the button at its right)."""
    dx = max(0.0, b["x"] - (a["x"] + a["w"]), a["x"] - (b["x"] + b["w"])) * _ACROSS
    dy = max(0.0, b["y"] - (a["y"] + a["h"]), a["y"] - (b["y"] + b["h"]))
    return float((dx * dx + dy * dy) ** 0.5)


def _locale(probe: dict[str, Any], url: str) -> str | None:
    """The page's locale as the cascade works it out, from ``<html lang>``, ``og:locale`` and the domain."""
    from html import escape

    head = (f'<html lang="{escape(probe.get("lang") or "")}"><head>'
            f'<meta property="og:locale" content="{escape(probe.get("og_locale") or "")}"></head></html>')
    return Page.parse(head, url).locale


def _in_band(shown: dict[str, Any], button: dict[str, Any], title: dict[str, Any] | None) -> bool:
    """Whether an amount sits where a buy box puts the price: from the product's title down to the buy button
    (its middle no lower than the button's bottom edge; the title ignored when it is not above the button)."""
    if shown["y"] + shown["h"] / 2 > button["y"] + button["h"]:
        return False
    return title is None or title["y"] >= button["y"] or shown["y"] >= title["y"]


def _badges(probe: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The discount badges ("-36%") shown on the rows of ``rows`` (within a line's height of one of them)."""
    return " ".join(a["text"] for a in probe.get("amounts") or [] if "%" in a["text"] and any(
        abs(a["y"] - r["y"]) <= max(r["h"], 24) for r in rows))


def choose(probe: dict[str, Any], url: str, *, currency: str | None = None,
           locale: str | None = None) -> BuyBoxReading:
    """The buy box's price from a page's measurements (:data:`_PROBE`'s answer); pure, for tests and reuse.

    The amounts near the main buy button (the first below the product's title, else the largest; without
    one, below the title), not struck through, not another product's (in an aside, or a card linking elsewhere), and
    not said to be something else (a saving, a unit or monthly price, a members' price, a gift's worth,
    a converted amount... by their own words, their neighbours' or those before them on their line).
    Where some sit between the product's title and the button, as a buy box lays them out, only
    those; ranked by font size, then weight, then nearness. Two different amounts as prominent and as
    near: no price (``problem`` says why), unless a discount badge beside them turns the higher into
    the lower ("₱4,499.00 ₱6,999.00 -36%": the higher is the list price).
    """
    locale = locale or _locale(probe, url)
    buttons = probe.get("buttons") or []
    title = probe.get("title")
    # The product's own buy button is the first below its title (a recommendation's may be larger); without
    # a title, or none below it, the largest.
    below = [b for b in buttons if title is not None and b["y"] >= title["y"]]
    button = (min(below, key=lambda b: (b["y"], -b["w"] * b["h"])) if below
              else max(buttons, key=lambda b: (b["w"] * b["h"], -b["y"])) if buttons else None)
    anchor = button or title
    readings = []
    for shown in probe.get("amounts") or []:
        if shown.get("struck") or shown.get("other"):
            continue
        if _not_the_price(shown.get("text", ""), shown.get("context", ""), _words_before(shown.get("before", "")),
                          shown.get("after", "")):
            continue
        found = [a for a in find_amounts(shown["text"], locale=locale, currency=currency) if a.currency]
        if not found and currency and _NO_CENTS.match(shown["text"]):  # ("2 499,-", "1.499,-", "79.–": the sign aside)
            found = find_amounts(shown["text"], locale=locale, currency=currency, allow_bare=True)
        if len({(a.amount, a.currency) for a in found}) != 1:
            continue
        amount = found[0].amount
        if amount <= 0:
            continue
        said = f"{shown.get('text', '')} {shown.get('context', '')} {_words_before(shown.get('before', ''))}"
        if _WEAK_WAS.search(said):
            shown = {**shown, "marked": True}
        if shown.get("cents") and amount == amount.to_integral_value():
            amount += Decimal(shown["cents"]) / 100
        band = True
        if button is not None:
            distance = _gap(shown, button)
            if distance > NEAR_BUTTON:
                continue
            band = _in_band(shown, button, title)
        else:  # below the title (or the top of the page), in the first screen
            top = title["y"] if title is not None else 0
            if shown["y"] < top or shown["y"] - top > FIRST_SCREEN or shown is title:
                continue
            distance = _gap(shown, title) if title is not None else float(shown["y"])
        if band and button is not None and title is not None and title["y"] < button["y"]:
            distance = _gap(shown, title)  # (in the buy box, the price comes first below the title)
        readings.append((shown, amount, found[0].currency, distance, band))
    where_anchor = None if anchor is None else {k: anchor[k] for k in ("label", "x", "y", "w", "h")}
    near = ("the buy button" if button is not None else "the product title (no buy button found)"
            if title is not None else "the top of the page (no buy button nor title found)")
    if not readings:
        return BuyBoxReading(None, None, None, {"anchor": where_anchor, "near": near},
                             problem=f"no amount shown near {near}")
    # An amount in another currency than the one the page's prices are in is a conversion ("≈ $1,203 USD").
    if currency and any(r[2] == currency for r in readings):
        readings = [r for r in readings if r[2] == currency]
    # Past the buy button come other offers, accessories and recommendations: not where the buy box shows its own.
    if any(r[4] for r in readings):
        readings = [r for r in readings if r[4]]
    # An amount the markup alone calls an old price ("price-item--regular") is one only beside a price it does not.
    if any(not r[0].get("marked") for r in readings):
        readings = [r for r in readings if not r[0].get("marked")]
    # A list price the shop marks only by a discount badge beside it ("Rs. 12,499 Rs. 15,999 -22%"): the higher of two
    # amounts as prominent, on the same line or the next, that the badge turns into the lower.
    listed = {id(hi[0]) for lo in readings for hi in readings
              if lo[2] == hi[2] and lo[1] < hi[1] and abs(lo[0]["size"] - hi[0]["size"]) <= _SAME_SIZE
              and abs(lo[0]["y"] - hi[0]["y"]) <= 2 * max(lo[0]["h"], hi[0]["h"], 12)
              and discount_of(lo[1], hi[1], _badges(probe, [lo[0], hi[0]]))}
    if listed and len(listed) < len(readings):
        readings = [r for r in readings if id(r[0]) not in listed]
    readings.sort(key=lambda r: (-r[0]["size"], -r[0]["weight"], r[3], r[0]["y"], r[0]["x"]))
    top_shown, amount, iso, distance, _band = readings[0]
    tied = [r for r in readings if abs(r[0]["size"] - top_shown["size"]) <= _SAME_SIZE
            and r[0]["weight"] == top_shown["weight"] and r[3] - distance <= _SAME_DISTANCE]
    rivals = {(r[1], r[2]) for r in tied}
    where = {"anchor": where_anchor, "near": near, "box": {k: top_shown[k] for k in ("x", "y", "w", "h")},
             "font_size": top_shown["size"], "font_weight": top_shown["weight"], "distance": round(distance)}
    others = [r[0]["text"] for r in readings if r[0] is not top_shown][:7]
    raw = top_shown["text"] + (f" {top_shown['cents']}" if top_shown.get("cents") else "")
    if len(rivals) > 1:
        return BuyBoxReading(None, None, raw, where, others=others,
                             problem=f"{len(rivals)} different amounts as prominent and as near {near}")
    return BuyBoxReading(amount, iso, raw, where, others=others, around=_around(probe.get("text") or "", top_shown),
                         locale=locale)


def _around(text: str, shown: dict[str, Any], window: int = 400) -> str:
    """The rendered page's text within ``window`` characters of the amount ``shown`` (as the cascade looks for a
    coupon around the price it chose), or ``""`` when the page's text does not hold its text."""
    at = text.find(shown["text"])
    if at < 0:
        return ""
    return " ".join(text[max(0, at - window):at + len(shown["text"]) + window].split())


def shows_reduction(reading: BuyBoxReading, before: Decimal, after: Decimal, currency: str | None) -> bool:
    """Whether the rendered page shows, around the amount ``reading`` took (``before``: a price before a coupon),
    a coupon or instant discount that brings it to ``after``: the wordings the cascade reads a coupon by
    (:func:`crawlers.extract.cascade._coupon`: not one the page says does not apply, nor one with a condition)."""
    if not reading.around:
        return False
    coupon = _coupon(reading.around, before, SimpleNamespace(locale=reading.locale), currency)  # type: ignore[arg-type]
    return coupon is not None and coupon[1] == after


async def _measure(page: Any, started: float, budget: float, url: str) -> dict[str, Any]:
    """The page's buy buttons and amounts, once its price has shown (as a crawl waits for it)."""
    from crawlers.rendering import _RESERVE, _RESERVE_CAP, wait_for_price

    await wait_for_price(page, started + budget - min(_RESERVE * budget, _RESERVE_CAP))
    probe: dict[str, Any] = await page.evaluate(_PROBE, [_BUY_BUTTON.pattern, STRUCK])
    return probe


def read_buy_boxes(urls: dict[Any, str], *, currencies: dict[Any, str | None] | None = None,
                   locales: dict[Any, str | None] | None = None, photograph: Collection[Any] = (),
                   pictures: dict[Any, bytes] | None = None) -> dict[Any, BuyBoxReading]:
    """Each page's buy box price, rendered in Chromium; a page that cannot be rendered is missing.

    ``currencies``: the currency an amount without a sign is in (the first reading's);
    ``locales``: a site profile's locale, where it has one. ``photograph``: keys whose page is wanted as
    evidence too: it is photographed in the same render, right after the reading (full page, as
    :func:`crawlers.screenshots.capture_screenshots` takes it), into ``pictures`` (a picture the render's budget
    left no time for is missing), so that the evidence step need not render that page a second time.
    """
    from crawlers.screenshots import _run_in_thread
    from pricewarden.settings import get_settings

    if not urls:
        return {}
    settings = get_settings()
    photograph = set(photograph) if pictures is not None else set()
    probes = _run_in_thread(urls, settings.crawl.browser_concurrency, settings.crawl.render_budget * 1000,
                            probe=_measure, pictures=photograph)
    for key in photograph & probes.keys():
        probes[key], picture = probes[key]
        if picture is not None and pictures is not None:
            pictures[key] = picture
    return {key: choose(probe, urls[key], currency=(currencies or {}).get(key), locale=(locales or {}).get(key))
            for key, probe in probes.items()}
