"""Structured data that is another figure than the price the buy box charges.

A shop's JSON-LD, microdata or data layer may carry a real amount of the product that is not the price a
visitor pays now: the price before tax ("本体価格 5,436円" beside "5,980円（税込）"), the list or suggested
price, a stale price, a card holders' or subscription price, another variant's price. The page then still
shows that amount somewhere, but only in a role that disqualifies it, while its buy box shows another amount
as the current price. The principle (never a site's rule):

    When every printing of the structured amount in the buy box (from the title to the buy button) carries a
    disqualifying role (words before it: ex-tax, net, list, RRP, was, members', card, subscription, unit,
    instalment, "from"; words after it: "netto", "Regular Price", "/ kg"; drawn struck through; in the option of a
    variant not chosen; the higher of two neighbouring amounts a discount badge beside them relates), and the buy
    box shows another amount first with no such role, the structured amount is not confirmed by being shown: the
    page is read whole, and the buy box's amount replaces it when the visible scan agrees (it reads the structured
    amount aside or lower, and ranks the buy box's amount first once the other is set aside). Otherwise the
    cascade's choice and its undecided tests stand. The disqualified amount is never taken on this evidence.

:func:`demoted` finds such a page (called before the cascade's shortcuts, so that the page is read whole), and
:func:`overrule` settles it once the cascade has chosen the disqualified amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crawlers.extract.amounts import SIGN, find_amounts
from crawlers.extract.heuristics import NET_TEXT, discount_of, other_options
from crawlers.extract.model import Candidate

if TYPE_CHECKING:
    from crawlers.extract.heuristics import Visible
    from crawlers.extract.page import Page

__all__ = ["Demotion", "buy_box_to_button", "demoted", "overrule", "read_roles"]

# Words before an amount that say it is the price before tax, beyond the heuristics' NET_TEXT: "excl." and "exkl."
# on their own, "Nettopreis", "net price", "prix HT", "bez daně", "Net:".
EX_TAX = re.compile(f"{NET_TEXT.pattern}|"
                    r"\bexcl\.?(?:\s|$)|\bexkl\.?(?:\s|$)|\bnettopreis|\bnet price|\bprix HT|\bbez daně|\bnet\s*:",
                    re.I)
# The buy box read from the title on: as many visible characters as the cascade's region after the title.
_AFTER_TITLE = 2500
# The text just below the title, read first: most pages print the structured amount there as the current price.
_HEAD = 700
# How close (in visible characters) a discount badge must stand to the pair it relates.
_BADGE_REACH = 120
# Two amounts this close in the visible scan's confidence are as strong: the buy box's position breaks the tie.
_TIE = 0.05
# A parenthesis right after an amount (past a word at most): the amount's own words.
_CLOSING = re.compile(r"^\s*\S{0,12}\s*[(（][^)）]*[)）]")
# A colon this close after an amount ends a label of the amount after it.
_LABEL = 25
_RATE = re.compile(r"(?<![\d.])(\d(?:\.\d)?)\s*折")


@dataclass(frozen=True, slots=True)
class Demotion:
    """A structured amount the buy box shows only in a disqualifying role, and the amount it shows as current."""

    structured: Candidate
    shown: Decimal  # the buy box's first amount shown as a current price
    role: str  # why the structured amount is not the price (the first disqualified printing's role)


def demoted(page: Page, structured: list[Candidate], currency: str | None) -> Demotion | None:
    """The page's one structured price when the buy box shows it only in a disqualifying role and shows another
    amount first as a current price; else None (the cascade reads the page as before)."""
    from crawlers.extract import cascade as c  # (the cascade's text helpers; it imports this module)

    current = [cand for cand in structured if cand.role == "current"]
    if not current or len({cand.price for cand in current}) != 1 or any(cand.note == c._LOW for cand in current):
        return None
    cand = current[0]
    at = c._title_at(page)
    if at < 0:
        return None
    money = cand.currency or currency
    # (read as far as the structured amount's first printing and the words, badge or amount just after it: most
    # pages show it there as the current price, and the rest need not be read; the text just below the title first)
    head = _buy_box_text(page, at, _HEAD)
    ends = [end for _, end in c._printings(head, cand.price)]
    if ends and min(ends) + _BADGE_REACH <= len(head):
        first = _Roles(page, head[:min(ends) + _BADGE_REACH], money, c)
        if not all(first.role(i) for i, (amount, _, _) in enumerate(first.printed) if amount == cand.price):
            return None
    after = _buy_box_text(page, at)
    ends = [end for _, end in c._printings(after, cand.price)]
    if not ends:
        return None  # (not shown in the buy box: the cascade's not-visible and stale-data steps decide)
    first = _Roles(page, after[:min(ends) + _BADGE_REACH], money, c)
    if not all(first.role(i) for i, (amount, _, _) in enumerate(first.printed) if amount == cand.price):
        return None
    roles = _Roles(page, after[:max(ends) + _BADGE_REACH], money, c) if max(ends) > min(ends) else first
    printed = roles.printed
    mine = [i for i, (amount, _, _) in enumerate(printed) if amount == cand.price]
    first_role: str | None = None
    for i in mine:
        role = roles.role(i)
        if role is None:
            return None  # (the buy box shows it as a current price too: it is the price)
        first_role = first_role or role
    shown = next((printed[i][0] for i in range(len(printed)) if printed[i][0] != cand.price
                  and roles.role(i) is None), None)
    if shown is None or first_role is None:
        return None
    if first_role == "label" and shown > cand.price:
        # (a list price is above the price it accompanies: a "list price" label on the lower amount is a shop's
        # name for its price, Shopify Dawn's hidden "Regular price" in Italian "Prezzo di listino" beside a case's
        # higher price)
        return None
    return Demotion(cand, shown, first_role)


def read_roles(page: Page, at: int, money: str | None) -> list[tuple[Decimal, str | None]]:
    """Each amount the buy box (from the title, at ``at`` in the page text, to the buy button) prints with a
    currency sign, in order, with the role that disqualifies it as a current price (None: none does)."""
    from crawlers.extract import cascade as c

    roles = _Roles(page, _buy_box_text(page, at), money, c)
    return [(amount, roles.role(i)) for i, (amount, _, _) in enumerate(roles.printed)]


class _Roles:
    """The roles of the buy box's printed amounts, each worked out when asked (most pages settle on the first few;
    the markup's struck and option elements are looked up only when the words do not settle one)."""

    def __init__(self, page: Page, after: str, money: str | None, c: Any) -> None:
        self.page, self.after, self.c = page, after, c
        self.printed = _printed(after, page, money)
        self._own: dict[int, str | None] = {}
        self._final: dict[int, str | None] = {}
        self._marked: tuple[list[tuple[int, int]], set[Decimal]] | None = None

    def _markup(self) -> tuple[list[tuple[int, int]], set[Decimal]]:
        """Where the buy box text shows struck elements and another variant's options."""
        if self._marked is None:
            block = self.c._product_block(self.page) or _around_title(self.page)
            others, chosen = other_options(self.page)
            # (an amount shown in another variant's option, and in no chosen one, is that variant's wherever it is
            # printed)
            picked = [" ".join(node.text(deep=True, separator=" ").split()) for node in chosen]
            options = [" ".join(node.text(deep=True, separator=" ").split()) for node in others]
            variants = {amount for amount, _, _ in self.printed
                        if any(self.c._shows(t, amount) for t in options)
                        and not any(self.c._shows(t, amount) for t in picked)}
            self._marked = ([span for t in set(_struck_texts(self.page, block)) for span in _spans(self.after, t)],
                            variants)
        return self._marked

    def own(self, i: int) -> str | None:
        """The role of printing ``i`` said by its words and markup (not by a discount badge)."""
        if i not in self._own:
            printed, after = self.printed, self.after
            _, start, end = printed[i]
            # (the words since the amount before, past a parenthesis right after that amount, which are its words:
            # "$299.99 each (Reg) $179.99", "5,980円（税込） 本体価格 5,436円")
            label = _CLOSING.sub("", after[printed[i - 1][2] if i else 0:start][-40:])
            # (and the words up to the amount after, unless a colon soon ends them: "54 990 Ft Nettó ár: 43 299 Ft"
            # labels 43 299 Ft)
            upto = printed[i + 1][1] if i + 1 < len(printed) else end + 60
            tail = after[end:upto] if not 0 <= after.find(":", end, upto) < end + _LABEL else ""
            role = _said(label, tail, self.c)
            if role is None:
                old, options = self._markup()
                role = ("struck" if _within(start, end, old) else "other-variant" if printed[i][0] in options
                        else None)
            self._own[i] = role
        return self._own[i]

    def role(self, i: int) -> str | None:
        """The role of printing ``i``: its own, else the list price's when a discount badge beside it and the
        current amount next to it relates them ("HK$2,380 HK$2,980 8折", "219 ر.س 299 ر.س خصم 27%")."""
        if i not in self._final:
            self._final[i] = self.own(i) or self._badged(i)
        return self._final[i]

    def _badged(self, i: int) -> str | None:
        # (the badge stands beside the pair: from the amount before the pair to the amount after it, at most 40
        # characters either side)
        printed, after = self.printed, self.after
        amount = printed[i][0]
        for j in (i - 1, i + 1):
            if not 0 <= j < len(printed) or not 0 < printed[j][0] < amount or self.own(j) is not None:
                continue
            low, first, last = printed[j][0], min(i, j), max(i, j)
            since = printed[first - 1][2] if first else 0
            until = printed[last + 1][1] if last + 1 < len(printed) else len(after)
            window = after[max(since, printed[first][1] - 40):min(until, printed[last][2] + 40)]
            rate = _RATE.search(window)
            if (("%" in window and discount_of(low, amount, window))
                    or (rate and abs(amount * Decimal(rate.group(1)) / 10 - low) <= amount / 100)):
                return "discount-badge"
        return None


def _around_title(page: Page) -> Any:
    """The title's third ancestor below ``body`` (where a product page's buy box is), else the page."""
    node = page.heading
    for _ in range(3):
        if node is None or node.parent is None or node.parent.tag in {"body", "html"}:
            break
        node = node.parent
    return node if node is not None and node is not page.heading else page.tree


def _within(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s_start <= start + 1 and end - 1 <= s_end for s_start, s_end in spans)


def _said(label: str, tail: str, c: Any) -> str | None:
    """The role the words before an amount (``label``) or after it (``tail``) give it, or None."""
    if EX_TAX.search(label):
        return "ex-tax"
    if c._NOT_CONFIRMING.search(label):
        return "label"
    tail = c._after_sign(tail)
    if tail and (c._NOT_CONFIRMING_TAIL.match(tail) or c._WAS_LABEL_TAIL.match(tail)
                 or EX_TAX.match(tail.lstrip(" *."))):
        return "label-after"
    return None


def buy_box_to_button(page: Page, at: int) -> str | None:
    """The visible text from the title (at ``at`` in the page text) to the buy button, blanks collapsed; None when no
    buy button's label follows the title within the cascade's region after it."""
    after, stop = _to_button(page, at, _AFTER_TITLE)
    return after[:stop] if stop > 0 else None


def _buy_box_text(page: Page, at: int, size: int = _AFTER_TITLE) -> str:
    """The visible text from the title to the buy button (blanks collapsed), or as far as the cascade's region
    after the title reaches when no button follows (``size`` visible characters: its beginning)."""
    after, stop = _to_button(page, at, size)
    return after[:stop] if stop > 0 else after


def _to_button(page: Page, at: int, size: int) -> tuple[str, int]:
    """``size`` visible characters from the title on (blanks collapsed), and where the buy button's label starts
    in them (-1: not there)."""
    text = page.body_text
    after = " ".join(text[at:at + 2 * size].split())
    if len(after) < size and len(text) > at + 2 * size:  # (an indented page: read further)
        after = " ".join(text[at:at + 8 * _AFTER_TITLE].split())
    after = after[:size]
    button = page.buy_button
    label = " ".join(button.text(deep=True).split()) if button is not None else ""
    return after, (after.find(label) if len(label) >= 3 else -1)


# An amount whose last group of digits, after a blank, is two digits: the cents set apart ("$ 1 899 00", spans of
# their own), never a group of thousands.
_SPLIT_CENTS = re.compile(r"\d\s\d\d$")
_BARE_NUMBER = re.compile(r"\d[\d.,  ]*$")


def _printed(text: str, page: Page, money: str | None) -> list[tuple[Decimal, int, int]]:
    """Each amount ``text`` prints with a currency sign: (amount, start, end), in order.

    A sign between two numbers belongs to the first when the first has none ("799 ر.س 45 مم", "219 ر.س 299 ر.س"):
    the amount read with the sign before the second number is the first number's, and the second is an amount
    only with a sign after it."""
    found = [f for f in find_amounts(text, locale=page.locale, currency=money) if f.currency in {None, money}]
    out: list[tuple[Decimal, int, int]] = []
    for f in found:
        if not SIGN.search(f.raw):
            continue
        amount = f.amount
        if _SPLIT_CENTS.search(f.raw) and not re.search(r"[.,]", f.raw) and amount == amount.to_integral_value():
            amount = amount / 100
        if out and f.start < out[-1][2]:
            continue  # (a sign read twice: "5,436円 60ポイント")
        head = text[:f.start].rstrip()
        bare = _BARE_NUMBER.search(head) if f.raw[:1] and not f.raw[:1].isdigit() else None
        if bare is not None and (not out or out[-1][2] <= bare.start()):
            first = find_amounts(f"{bare.group(0).strip()} {f.raw.split()[0]}", locale=page.locale, currency=money)
            if first:
                out.append((first[0].amount, bare.start(), f.start + len(f.raw.split()[0])))
            tail = text[f.end:f.end + 8].lstrip()
            if not (tail and SIGN.match(tail)):
                continue
        out.append((amount, f.start, f.end))
    return out


def _struck_texts(page: Page, block: Any) -> list[str]:
    """The texts (as shown, under 80 characters) of the block's elements drawn struck through, by their tag, style
    or the page's own stylesheet (a name such as "retail-price" is as often the current price's)."""
    parts = ["del", "s", "strike"]
    if page.mentions("line-through"):  # (one search of the source: the attribute selectors cost more)
        parts += ["[style*=line-through]", "[class*=line-through i]"]
    if page.struck_css:
        parts.append(page.struck_css)
    nodes = block.css(", ".join(dict.fromkeys(parts)))
    texts = (" ".join(node.text(deep=True, separator=" ").split()) for node in nodes)
    return [text for text in texts if text and len(text) < 80]


def _spans(text: str, part: str) -> list[tuple[int, int]]:
    """Every place ``part`` stands in ``text``: (start, end)."""
    out, at = [], text.find(part) if part else -1
    while at >= 0:
        out.append((at, at + len(part)))
        at = text.find(part, at + 1)
    return out


def overrule(demotion: Demotion, visible: Visible, aside: set[Decimal]) -> Candidate | None:
    """The buy box's amount in place of the disqualified structured one the cascade chose, when the visible scan
    agrees: it reads the structured amount as a list, members', unit or instalment price (``aside``) or ranks it
    below the buy box's amount, and ranks the buy box's amount first (within a tie) once it is set aside;
    else None (the cascade's choice stands)."""
    from crawlers.extract import cascade as cas

    ranked = [v for v in visible.candidates if v.role == "current"
              and not any(r.startswith(cas._ELSEWHERE) for r in (v.note or "").split(","))]
    strength = {v.price: v.confidence for v in reversed(ranked)}
    structured, shown = demotion.structured.price, demotion.shown
    if shown not in strength or (structured not in aside and strength.get(structured, 0.0) >= strength[shown]):
        return None
    rest = [v for v in ranked if v.price != structured]
    best = max(v.confidence for v in rest)
    return next(v for v in rest if v.price == shown) if strength[shown] >= best - _TIE else None
