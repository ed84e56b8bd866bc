"""An amount the page labels as the price after a coupon: the coupon's result, never the price shown before it.

Shops print, beside the price, what the item costs once a coupon, a voucher or a code is applied: "券后价
￥2799.00", "到手价 ￥4588.00（领券满4000减200后）", "クーポン利用で 15,840円", "쿠폰적용가 116,100원", "Best
Price ₹1,274 with coupon", "Precio con cupón: 269,00 €", "Z kodem AGD100 zapłacisz 1 799,00 zł". The visible scan
never takes such an amount for the price (its label is one of :data:`heuristics.CONDITIONAL`'s); this module reads
it as the price's *effective* price (DESIGN: the effective advertised price accounts for visible coupons), when
the coupon is shown and its reduction consistent:

- a label that says after a coupon, a voucher or a code (:data:`heuristics.AFTER_COUPON`, in many languages)
  shows the coupon by itself;
- "到手价" (the price in hand, after whatever the shop deducts: a coupon, a subsidy, a members' rate), where the
  page states reductions ("满4000减200", "立减200", "店铺券 满300减50"), only when one of them takes the price to it.

Not when the page says the coupon does not apply, or names a condition the item's own price does not meet (a
first order, new customers, members, the app, "满5000" for a ￥4,788 item).
"""

from __future__ import annotations

import re
from decimal import Decimal

from crawlers.extract.amounts import find_amounts
from crawlers.extract.heuristics import COUPON_LABEL, SAVING

__all__ = ["AUTOMATIC_KEYS", "COUPON_WORDS", "after_automatic", "after_coupon"]

# The label, its code and the words up to a verb before the amount (heuristics.COUPON_LABEL).
_LABEL = re.compile(COUPON_LABEL, re.I)
# A label said right after the amount ("₹1,274 with coupon", "12,99 € mit Gutschein").
_TAIL = re.compile(r"\s*(?:\bwith (?:a |the )?(?:coupon|voucher|code)|\bafter (?:the )?coupon|\bmit (?:dem )?"
                   r"(?:gutschein|code)|\bavec (?:le )?(?:code|coupon)|\bcon (?:el )?(?:cup[oó]n|c[oó]digo)|"
                   r"\bcom (?:o )?(?:cupom|código)|\bz kodem|\bmet (?:de )?code)\b", re.I)
# An amount followed by these is a reduction, not a price ("クーポン利用で 1,000円OFF", "10,000원 할인").
_REDUCTION_AFTER = re.compile(r"\s*(?:off\b|引き|割引|値引|할인|減|减|%|rabatt|de descuento|descuento|desconto|"
                              r"korting|remise|sconto|rabatu|indirim|potongan)", re.I)
# A reduction the page states in Chinese: "满4000减200", "立减200", "券200元".
_STATED = re.compile(r"(?:减|減|立减|立減|券)\s*[¥￥]?\s*(?P<r>\d+(?:\.\d{1,2})?)\s*元?")
# A spend threshold ("满4000"): a condition the item's own price may meet.
_SPEND = re.compile(r"[满滿]\s?(?P<x>\d+(?:\.\d{1,2})?)")
# Conditions in other words than the cascade's (a welcome code is a first order's).
_WELCOME = re.compile(r"bienvenid|\bwelcome|willkommen|bienvenue|benvenut|boas[- ]vindas|welkom|powitaln", re.I)
# Every wording :data:`_LABEL` or :data:`_TAIL` matches contains one of these (lower case): text with none skips both.
COUPON_WORDS = ("coupon", "code", "voucher", "gutschein", "cupón", "cupon", "cupom", "cupão", "código", "codigo",
                "codice", "kodem", "kupon", "クーポン", "쿠폰", "券", "到手")


def after_coupon(text: str, price: Decimal, *, locale: str | None, currency: str | None,
                 not_applicable: re.Pattern[str], condition: re.Pattern[str]) -> tuple[str, Decimal] | None:
    """The wording and amount of the price after a coupon that ``text`` (the page's text around ``price``) labels
    so, when the coupon is shown and brings ``price`` to it; else ``None``.

    ``not_applicable``: words that say a coupon does not apply; ``condition``: words that name a condition
    (the cascade's).
    """
    lowered = text.lower()
    if not any(word in lowered for word in COUPON_WORDS):
        return None
    for m in _LABEL.finditer(text):
        found = find_amounts(text[m.end():m.end() + 40], locale=locale, currency=currency)
        if not found or found[0].start > 1 or found[0].currency is None:
            continue
        amount = found[0]
        end = m.end() + amount.end
        at = m.end() + amount.start
        if _REDUCTION_AFTER.match(text, end) or text[at - 1:at] in {"-", "−"}:
            continue  # (a reduction: "1,000円OFF", a minus right before it, "z kuponem -30 zł")
        stated = [Decimal(s.group("r")) for s in _STATED.finditer(text)] if m.group("hand") else []
        if stated and not any(price - r == amount.amount for r in stated):
            continue  # (the price in hand is more than the stated coupon: a members' rate, a subsidy, not everyone's)
        if _holds(text, m.start(), end, amount.amount, price, not_applicable, condition):
            return text[m.start():end].strip(), amount.amount
    for m in _TAIL.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        found = find_amounts(before, locale=locale, currency=currency)
        if not found or before[found[-1].end:].strip():
            continue
        amount = found[-1]
        start = m.start() - len(before) + amount.start
        if SAVING.search(before[max(0, amount.start - 15):amount.start]) or before[:amount.start].rstrip().endswith(
                ("-", "−", "+")):
            continue  # ("Save $10.00 with coupon": the reduction itself)
        if _holds(text, start, m.end(), amount.amount, price, not_applicable, condition):
            return text[start:m.end()].strip(), amount.amount
    return None


def _holds(text: str, start: int, end: int, effective: Decimal, price: Decimal, not_applicable: re.Pattern[str],
           condition: re.Pattern[str]) -> bool:
    """Whether the price after a coupon read at ``text[start:end]`` applies to everyone buying the item now: lower
    than the price, not said not to apply, with no condition the item's own price does not meet."""
    if not 0 < effective < price or not_applicable.search(text[max(0, start - 40):end]):
        return False
    after = text[start:end + 40]
    for m in condition.finditer(after):
        spend = _SPEND.match(after, m.start())
        if spend is None or Decimal(spend.group("x")) > price:
            return False
    return _WELCOME.search(after) is None


# A discount the shop applies by itself, in the basket, with no code to type ("-10 % supplémentaires appliqués
# automatiquement au panier, sans code", "Nochmals -20 % im Warenkorb, ohne Code", "يطبق تلقائيًا في السلة بدون كود")
_AUTOMATIC = re.compile(
    # (applied by itself, said around "automatic": not a product's own "automatische Abschaltung", "자동세척")
    r"automati\w*\s+(?:\w+\s+){0,3}?(?:appli|abgezogen|angewendet|aplica|toegepast|naliczan|im warenkorb|au panier|"
    r"in (?:the|your) (?:cart|basket)|at checkout|en el carrito|no carrinho|nel carrello)|"
    r"(?:appli\w*|abgezogen|angewendet|aplicad\w*|toegepast|naliczan\w*)\s+(?:\w+\s+){0,2}?automati|"
    r"ohne (?:code|gutschein)|sans code|sin c[oó]digo|sem c[oó]digo|senza codice|zonder code|bez kodu|"
    r"no code (?:needed|required)|without (?:a )?code|تلقائي|بدون كود|"
    r"自动(?:减|优惠|抵扣|折扣)|自動(?:割引|適用|折扣)|자동\s?(?:할인|적용)|자동으로 할인", re.I)
# Every wording _AUTOMATIC matches contains one of these (lower case): a page with none skips it
AUTOMATIC_KEYS = ("automat", "code", "codice", "código", "codigo", "kodu", "تلقائي", "بدون كود", "自动", "自動", "자동")
# ... in the basket or at the checkout
_BASKET = re.compile(r"panier|warenkorb|kasse|basket|\bcart\b|checkout|carrito|carrinho|carrello|winkelwagen|"
                     r"winkelmand|koszyk|kundvagn|ostoskori|kurv|السلة|عربة|购物车|購物車|结算|結帳|장바구니|결제|"
                     r"カート|レジ", re.I)
_RATE = re.compile(r"(\d{1,2}(?:[.,]\d)?)\s?[%٪]")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")


def after_automatic(text: str, price: Decimal, *, locale: str | None,
                    currency: str | None) -> tuple[str, Decimal] | None:
    """The wording and amount of the price after a discount the shop applies by itself in the basket, when ``text``
    (the page's text around ``price``) says so and states the resulting amount, which is ``price`` less the rate it
    names ("-10 % ... appliqués automatiquement au panier, sans code : soit 53,91 €" beside 59,90 €); else ``None``.
    The words must say both that it applies by itself and that it does so in the basket or at the checkout. A
    percentage alone with no resulting amount is no stated price: the shopper sees it only in the basket."""
    for found in _AUTOMATIC.finditer(text):
        if not _BASKET.search(text, max(0, found.start() - 80), found.end() + 80):
            continue  # (an automatic thing that is no discount in the basket: a robot's "자동세척", self-cleaning)
        window = text[max(0, found.start() - 120):found.end() + 160]
        rates = {Decimal(r.replace(",", ".")) for r in _RATE.findall(window.translate(_EASTERN_DIGITS))}
        for amount in find_amounts(window, locale=locale, currency=currency) if rates else ():
            if amount.currency not in {None, currency} or not 0 < amount.amount < price:
                continue
            if any(abs(price * (100 - rate) / 100 - amount.amount) <= Decimal("0.011") for rate in rates):
                return " ".join(window[:amount.end].split())[-120:], amount.amount
    return None
