"""Promotions beside the price: which amount in a busy buy box an anonymous visitor pays now (issue #22).

A shop busy with a promotion prints, beside the price, amounts that are not the price for everyone now, and its
structured data may hold one of them. The cascade's choice is checked against four principles, each one a shop in
any country hits; each either keeps the choice, replaces it with an amount the buy box shows, or leaves the page
undecided (never a guess):

1. **Deposit totals.** A refundable deposit (pant, Pfand, statiegeld, consigne, vuoto, deposit, záloha, kaucja) is
   shown apart and is not part of the price. An amount the buy box prints only as the total with the deposit
   ("149,00 kr. + pant 30,00 kr. · I alt 179,00 kr.") is not the price: the amount it totals, printed in the buy box,
   is.
2. **Prices on a condition.** An amount the buy box labels, before it or right after it, as a subscription's price
   ("Subscribe & Save", "Abo-Preis", "定期便", "정기배송") or as the price after a coupon, a code or a voucher
   ("券后价", "到手价", "쿠폰적용가", "with coupon"), and prints elsewhere only in the buy button that repeats the
   selected option, is not the price even when the option is preselected. The one other amount the buy box shows
   without such a label (the one-time price, "京东价") is; two or none leave the page undecided. Labels written
   with a space between CJK characters ("到 手 价") are read as written without them.
3. **Automatic basket discounts.** "Sepette %15 İndirim 1.104,15 TL", "-10% im Warenkorb": a reduction the shop
   applies in the basket to everyone, shown with the amount it leads to. Development sets take the price before
   it (tr-moda, tr-ticimax) where heldout18 takes the one after it: the page is undecided rather than either.
   A basket coupon to collect ("Sepette 500 TL indirim kuponu") is a coupon, not this.
4. **Expired offers.** A structured offer whose ``priceValidUntil`` has passed, and whose amount the page does not
   show as a current price, is stale: it never stands as the price (the visible page's best amount does, else the
   page is undecided).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from crawlers.extract.amounts import SIGN, find_amounts
from crawlers.extract.heuristics import AFTER_COUPON, CONDITIONAL, IN_HAND, SUBSCRIPTION_WORDS, WAS_TEXT
from crawlers.extract.model import Candidate
from crawlers.extract.page import Page

__all__ = ["Settled", "settle"]

# A refundable deposit, in the languages of shops that charge one on bottles, cans, crates, batteries, old parts.
DEPOSIT = re.compile(r"\bpant(?:en|et)?\b|pfand|statiegeld|\bconsigne|\bvuoto\b|\bvuoti\b|\bdeposit\b|\bpantti|"
                     r"\bzáloh|\bzaloh|\bkaucj|\bkaucia|\bdepozit|\bemballage|\benvase retornable|\bcasco\b|"
                     r"押金|デポジット|보증금|dep[oó]sito|\bcaução|\bcauzione|\bcore charge", re.I)
# A subscription's price (repeat delivery), wherever the label stands.
# (the conditional-price labels' words, and wider ones: a subscription offer anywhere around the amount names itself
# with a bare "Abo", "定期", "Subscribe", "suscríbete", "assine", "prenumerera"; right before an amount these words
# may mean something else, "定期セール")
SUBSCRIPTION = re.compile(SUBSCRIPTION_WORDS + r"|\bsubscri(?:be|ption)|\babo\b|\bsuscr[ií]bete|\bassine|"
                          r"\bprenumer|定期", re.I)
# The price after a coupon, a code or a voucher; "到手价" (the price in hand, after what must be claimed).
COUPON = re.compile(f"{AFTER_COUPON}|{IN_HAND}|券后|券後|领券|領券", re.I)
# A discount the shop applies in the basket ("Sepette %15 İndirim", "-10% im Warenkorb", "extra 10% off in cart").
_BASKET = re.compile(r"sepette|im warenkorb|in (?:the |your )?(?:cart|basket|bag)\b|dans (?:le|votre) panier|"
                     r"en el carrito|en la cesta|no carrinho|nel carrello|w koszyku|in (?:de )?winkelwagen|"
                     r"i varukorgen|i kurven|i handlekurven|v košíku|ostoskorissa|购物车|カートで|장바구니", re.I)
_REDUCTION = re.compile(r"%|indirim|rabatt|\boff\b|remise|descuento|desconto|sconto|rabat|korting|sleva|alennus|"
                        r"rebaja|減|减|할인|割引|off", re.I)
# Words that make a basket reduction a coupon, a code or somebody's (not everyone's automatic one).
_NOT_AUTOMATIC = re.compile(r"kupon|coupon|cup[oó]n|cupom|gutschein|\bcode|c[oó]digo|codice|kod\b|券|쿠폰|クーポン|"
                            r"member|üye|plus|\bapp\b|uygulama|card|kart|tarjeta|cart[aã]o", re.I)
# The total with the deposit ("I alt 179,00 kr.", "Gesamt", "inkl. Pfand").
_TOTAL = re.compile(r"\bi alt\b|\btotalt?\b|\binsgesamt|\bgesamt|\btotaal|\byhteensä|\bcelkem|\brazem|\bsamtals|"
                    r"\binkl\.?\s*(?:pfand|pant)|\bincl\.?\s*(?:statiegeld|deposit|pant)|\bincluding (?:the )?deposit|"
                    r"\bavec (?:la )?consigne|\bmed pant|合计|合計", re.I)
# A buy button repeating the selected option's price ("Add to cart – $25.49").
_BUTTON = re.compile(r"add to (?:cart|bag|basket)|buy now|in den warenkorb|ajouter au panier|añadir al carrito|"
                     r"aggiungi al carrello|加入购物车|立即购买|カートに入れる|장바구니|sepete ekle|do koszyka|"
                     r"i varukorgen|læg i kurv|in winkelwagen", re.I)
# Substrings (lower case) one of which every wording of each pattern above contains.
_DEPOSIT_KEYS = ("pant", "pfand", "statiegeld", "consigne", "vuot", "deposit", "záloh", "zaloh", "kauc", "depozit",
                 "emballage", "envase", "casco", "押金", "デポジット", "보증금", "depósito", "caução", "cauzione",
                 "core charge")
_SUBSCRIPTION_KEYS = ("subscri", "subscre", "iscriviti", "auto", "repeat", "abo", "abbonament", "suscr", "assin",
                      "prenumer", "abonament", "定期", "정기", "订阅", "訂閱")
_COUPON_KEYS = ("coupon", "code", "voucher", "gutschein", "cup", "código", "codigo", "codice", "kod", "kupon",
                "クーポン", "쿠폰", "券", "到手", "到 手")
_BASKET_KEYS = ("sepet", "warenkorb", "cart", "basket", "bag", "panier", "carrito", "cesta", "carrinho", "carrello",
                "koszyk", "winkelwagen", "varukorg", "kurv", "košík", "ostoskori", "购物车", "カート", "장바구니")
_CJK_GAP = re.compile(r"(?<=[\u3040-\u9fff\uac00-\ud7af])\s+(?=[\u3040-\u9fff\uac00-\ud7af])")
_BLANKS = re.compile(r"\s+")
_JOINED = re.compile(r"\W{0,3}(?:with|mit|avec|con|com|met|z)\b", re.I)
_INTRODUCES = re.compile(r"[\s:：\-–—]*(?-i:[A-Z0-9_]{3,20})?[\s:：\-–—]*\W{0,2}")
# A percent-off badge right after a pair of amounts ("43% OFF", "-33%", "%20") or right before it.
_BADGE_AFTER = re.compile(r"\s{0,4}[-−–]?\s?(?:(?P<a>\d{1,2})\s?%|%\s?(?P<b>\d{1,2})\b)")
_BADGE_BEFORE = re.compile(r"[-−–]?\s?(?:(?P<a>\d{1,2})\s?%|%\s?(?P<b>\d{1,2}))\s{0,4}$")
_STOP = re.compile(r"[，,、;；·|()（）]")
_PERCENT = re.compile(r"(\d{1,2}(?:[.,]\d+)?)\s?%|%\s?(\d{1,2}(?:[.,]\d+)?)")
_BEFORE = 40
_LINE_BREAK = re.compile(r"[ \t]*[\r\n]\s*")
# Blanks between an amount and the sign written after it, in elements of their own ("2,49  €   inkl. MwSt."): one
# printing, as a shopper reads it; not a sign that opens the next amount ("129,99 €  139,99 €")
_SIGN_APART = re.compile(rf"(?<=\d)[ \t\u00a0]{{2,}}(?=(?:{SIGN.pattern})(?![ \t\u00a0]*\d))")


def _as_shown(text: str) -> str:
    """``text`` with its line breaks, and the blanks between an amount and its sign after it, one blank each."""
    return _SIGN_APART.sub(" ", _LINE_BREAK.sub(" ", text))
_AFTER = 30
_STRUCTURED = ("json-ld", "microdata", "rdfa", "opengraph", "embedded-json")
_ELSEWHERE = ("noise:", "header", "footer", "nav", "outside")


@dataclass
class Settled:
    """The check's outcome: ``chosen`` replaces the cascade's choice (``flag`` says why; no flag when it is the
    same), or, with ``chosen`` None, the page is undecided (``reason``, ``competing``)."""

    flag: str
    chosen: Candidate | None = None
    reason: str = ""
    competing: tuple[Candidate, ...] = ()
    regular: Candidate | None = None  # the old price beside ``chosen`` (a sale pair's higher amount)


@dataclass
class _Printing:
    amount: Decimal
    before: str  # the words before it, back to the previous amount (blanks collapsed, CJK gaps closed)
    after: str  # the words after it, up to the next amount
    wide: str  # the text before it, past earlier amounts
    raw: str  # as printed
    start: int = 0
    end: int = 0


def _clean(text: str) -> str:
    return _CJK_GAP.sub("", _BLANKS.sub(" ", text))


def _printings(region: str, page: Page, currency: str | None) -> list[_Printing]:
    found = [a for a in find_amounts(region, locale=page.locale, currency=currency) if a.currency is not None]
    out = []
    claimed = 0  # (the end of the words the previous amount's label took after it)
    for i, a in enumerate(found):
        next_start = found[i + 1].start if i + 1 < len(found) else a.end + _AFTER
        before = _clean(region[max(claimed, a.start - _BEFORE):a.start])
        before = _PERCENT.sub(" ", before) if _PERCENT.search(before) else before
        tail = region[a.end:min(next_start, a.end + _AFTER)]
        claimed = a.end
        joined = _JOINED.match(tail) and (SUBSCRIPTION.search(tail) or COUPON.search(tail))
        if joined and next_start <= a.end + _AFTER and (_INTRODUCES.fullmatch(tail[joined.end():])
                                                         or tail.lstrip(" \t\n-–—·|:")[:1].isupper()):
            # ("139,99 € mit Code HERBST10: 116,99 €", "1 899,00 zł Z kodem AGD100 zapłacisz 1 799,00 zł": the label,
            # a code and a colon, or a label opening a sentence, introduce the next amount)
            joined = None
        if joined:
            tail = tail[:joined.end()]
            claimed = a.end + len(tail)
        elif next_start <= a.end + _AFTER:
            # (words running into the next amount are its label, "$29.99 Subscribe & Save 15% $25.49", unless
            # joined to this one, "$25.49 with Subscribe & Save", or closed by a stop before it:
            # "￥1299 券后价，领券后下单 PLUS价 ￥1469.00"); the words this one's label takes are not the next one's
            stop = _STOP.search(tail)
            tail = tail[:stop.start()] if stop is not None else ""
            claimed = a.end + len(tail)
        out.append(_Printing(a.amount, before, _clean(tail), _clean(region[max(0, a.start - 80):a.start]), a.raw,
                             a.start, a.end))
    return out


def _conditional(p: _Printing) -> str | None:
    """The condition a printing's label names ("subscription", "coupon"), else None."""
    head = p.after[:_AFTER]
    for name, pattern in (("subscription", SUBSCRIPTION), ("coupon", COUPON)):
        if pattern.search(p.before) or pattern.match(head.lstrip(" -–—·|")) or re.match(
                rf"\W{{0,3}}(?:with|mit|avec|con|com|met|z)?\s*(?:{pattern.pattern})", head, re.I):
            return name
    return None


def _plain(p: _Printing) -> bool:
    """Whether a printing carries no label that makes it not the price (a condition, a list price, a member's)."""
    return (_conditional(p) is None and not WAS_TEXT.search(p.before) and not CONDITIONAL.search(p.before)
            and not DEPOSIT.search(p.before) and not _TOTAL.search(p.before) and not _BUTTON.search(p.before))


def settle(page: Page, chosen: Candidate, structured: list[Candidate], visible: list[Candidate],
           best_visible: Candidate | None, region: str, currency: str | None, flags: list[str],
           today: date | None = None) -> Settled | None:
    """The cascade's ``chosen`` price checked against the four principles (module docstring); None keeps it.

    ``structured``: the structured and embedded candidates; ``visible``: the visible scan's candidates;
    ``region``: the buy box's text (around the title); ``flags``: the cascade's flags so far.
    """
    expired = _expired(page, chosen, flags, today)
    if expired is not None:
        return expired if best_visible is None or best_visible.price == chosen.price else Settled(
            "structured_expired", best_visible)
    # (the buy box: from the title to its buy button, which repeats the selected option's price; carousels after it
    # print other products' prices; without a title the page's first 3,100 characters, as long as a title's region)
    start = min(page.heading_text[1], 600) if page.heading_text[1] >= 0 else 0  # (cascade._REGION_BEFORE)
    region = region if page.heading_text[1] >= 0 else region[:3100]
    # (read as shown: pretty-printed markup sets an amount and its "TL", or a label and its amount, lines and an indent
    # apart, and a line break with its indent is one blank; the windows around an amount count what a shopper reads.
    # Blanks on one line stay: two between elements keep "129,99 €  139,99 €" two amounts)
    start, region = len(_as_shown(region[:start])), _as_shown(region)
    # (words first, by substring, and each pattern only around them: a pattern costs milliseconds on a long text;
    # the buy button is looked for only then)
    low = region.lower()
    words = (_around(low, region, _DEPOSIT_KEYS, DEPOSIT),
             "%" in region and _around(low, low, _BASKET_KEYS, _BASKET),
             _around(low, region, _SUBSCRIPTION_KEYS, SUBSCRIPTION)
             or _around(low, region, _COUPON_KEYS, COUPON, clean=True))
    pair = "%" in region and chosen.method == "heuristic"
    if not any(words) and not pair:
        return None
    button = page.buy_button
    said = button.attributes.get("value") or button.text(deep=True) or "" if button is not None else ""
    said = " ".join(said.split())
    at = region.find(said, start) if said else -1
    box = region[:at + len(said) + 120] if at >= 0 else region
    printed = _printings(box, page, currency)
    if pair:
        settled = _sale_pair(chosen, box, printed, visible)
        if settled is not None:
            return settled
    mine = [p for p in printed if p.amount == chosen.price]
    if not mine:
        return None
    if words[0]:
        settled = _deposit_total(chosen, mine, printed, visible)
        if settled is not None:
            return settled
    if words[2]:
        settled = _on_condition(chosen, mine, printed, structured, visible)
        if settled is not None:
            return settled
    if words[1]:
        return _basket(chosen, box, page, currency)
    return None


def _around(low: str, text: str, keys: tuple[str, ...], pattern: re.Pattern[str], clean: bool = False) -> bool:
    """Whether ``pattern`` matches ``text`` around one of the places its lower-case copy ``low`` has a key."""
    for key in keys:
        at, seen = low.find(key), 0
        while at >= 0 and seen < 40:
            window = text[max(0, at - 30):at + len(key) + 40]
            if pattern.search(_clean(window) if clean else window):
                return True
            at, seen = low.find(key, at + 1), seen + 1
    return False


def _sale_pair(chosen: Candidate, box: str, printed: list[_Printing], visible: list[Candidate]) -> Settled | None:
    """Principle 5: two amounts side by side with a percent-off badge that takes the higher to the lower ("$69.90
    $39.90 43% OFF", "₦ 45,500 ₦ 68,000 -33%"): the lower is the price, the higher the old one, in either order."""
    for p, q in pairwise(printed):
        if chosen.price not in {p.amount, q.amount} or p.amount == q.amount or box[p.end:q.start].strip():
            continue
        badge = _BADGE_AFTER.match(box, q.end) or _BADGE_BEFORE.search(box[max(0, p.start - 12):p.start])
        if badge is None or _conditional(p) is not None or CONDITIONAL.search(p.before) or WAS_TEXT.search(p.before):
            continue
        high, low = max(p.amount, q.amount), min(p.amount, q.amount)
        rate = Decimal(badge.group("a") or badge.group("b"))
        if abs(100 * (high - low) / high - rate) >= 1:
            continue  # (the badge's share, rounded, is what the lower amount saves on the higher)
        current = next((c for c in visible if c.price == low and not any(
            r.startswith(_ELSEWHERE) for r in (c.note or "").split(","))), None)
        if current is None:
            return None
        old = next((c for c in visible if c.price == high), None)
        old = Candidate("heuristic", high, current.currency, old.raw_text if old else str(high), 0.5, "regular")
        # (the scan took the lower one already: only its old price is said, no flag)
        return Settled("sale_pair" if chosen.price != low else "", current, regular=old)
    return None


def _deposit_total(chosen: Candidate, mine: list[_Printing], printed: list[_Printing],
                   visible: list[Candidate]) -> Settled | None:
    """Principle 1: ``chosen`` printed only as the total with a deposit, beside the amount it totals."""
    # (the deposit's word before its amount, "+ pant 30,00 kr.", or right after it, "+ 10,00 € depósito por batería")
    deposits = [printed[i].amount for i, p in enumerate(printed)
                if DEPOSIT.search(p.before[-25:]) or DEPOSIT.match(p.after.lstrip(" *"))]
    if not deposits or not all(_TOTAL.search(p.before) and DEPOSIT.search(p.wide) for p in mine):
        return None
    shown = {p.amount for p in printed if _plain(p)}
    totalled = {chosen.price - d for d in deposits if 0 < d < chosen.price} & shown
    if len(totalled) != 1:
        return None
    price = totalled.pop()
    pick = next((c for c in visible if c.price == price), None)
    if pick is None:
        # (structured data confirmed at once by the total the page prints: no visible scan ran)
        raw = next(p for p in printed if p.amount == price and _plain(p))
        pick = Candidate("heuristic", price, chosen.currency, raw.raw, 0.8, "current", "deposit total less the deposit")
    return Settled("deposit_total", pick)


def _on_condition(chosen: Candidate, mine: list[_Printing], printed: list[_Printing],
                  structured: list[Candidate], visible: list[Candidate]) -> Settled | None:
    """Principle 2: ``chosen`` labelled a subscription's or a coupon's price wherever the buy box prints it."""
    labels = [_conditional(p) for p in mine]
    if not any(labels) or not all(label or _BUTTON.search(p.before) for label, p in zip(labels, mine, strict=True)):
        return None
    label = next(label for label in labels if label)
    plain = {p.amount for p in printed if _plain(p)} - {chosen.price}
    others = [c for c in structured if c.role == "current" and c.price in plain]
    if not others:
        others = [c for c in visible if c.price in plain and c.price > chosen.price
                  and not any(r.startswith(_ELSEWHERE) for r in (c.note or "").split(","))]
    distinct: dict[Decimal, Candidate] = {}
    for c in others:
        distinct.setdefault(c.price, c)
    if len(distinct) == 1:
        return Settled(f"{label}_price", next(iter(distinct.values())))
    return Settled(f"{label}_price", None, f"the buy box labels {chosen.raw_text} a {label} price and shows "
                                           f"{len(distinct) or 'no'} other price for everyone", (chosen, *others[:4]))


def _basket(chosen: Candidate, region: str, page: Page, currency: str | None) -> Settled | None:
    """Principle 3: an automatic basket discount from ``chosen`` shown with the amount it leads to."""
    for m in _BASKET.finditer(region):
        found = [a for a in find_amounts(region[m.start():m.end() + 60], locale=page.locale, currency=currency)
                 if a.currency is not None]
        if not found or found[0].amount >= chosen.price:
            continue
        # (the label: from a little before the basket word to the amount it leads to)
        text = _clean(region[max(0, m.start() - 30):m.start() + found[0].start])
        rates = [Decimal((p.group(1) or p.group(2)).replace(",", ".")) for p in _PERCENT.finditer(text)]
        if _NOT_AUTOMATIC.search(text) or not _REDUCTION.search(text) or not rates:
            continue
        for a in found[:1]:
            if all(abs(chosen.price * (100 - rate) / 100 - a.amount) > Decimal("0.011") for rate in rates):
                continue  # (the reduction is said as a share of the price, and leads to this amount)
            basket = Candidate("heuristic", a.amount, a.currency, a.raw, 0.0, "current", "basket discount")
            return Settled("basket_discount", None, f"the page shows {chosen.raw_text} and an automatic basket "
                                                    f"discount to {a.raw}", (chosen, basket))
    return None


def _expired(page: Page, chosen: Candidate, flags: list[str], today: date | None) -> Settled | None:
    """Principle 4: ``chosen`` is a JSON-LD offer the page does not show, valid until a date that has passed."""
    if chosen.method != "json-ld" or "structured_not_visible" not in flags:
        return None
    until = [d for block in page.ld_json if "priceValidUntil" in block for d in _valid_until(block, chosen.price)]
    if not until:
        return None
    if today is None:
        from store._types import utcnow  # (only for the rare page whose unshown offer has an end date)
        today = utcnow().date()
    if max(until) >= today:
        return None
    return Settled("structured_expired", None, f"structured data says {chosen.price}, valid until {max(until)}, "
                                               "which has passed, and the page does not show it", (chosen,))


def _valid_until(block: str, price: Decimal) -> list[date]:
    try:
        data = json.loads(block)
    except ValueError:
        return []
    out: list[date] = []
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
            until, value = node.get("priceValidUntil"), node.get("price")
            if isinstance(until, str) and value is not None:
                try:
                    if Decimal(str(value)) == price:
                        out.append(date.fromisoformat(until[:10]))
                except (ArithmeticError, ValueError):
                    continue
    return out
