"""Price rules a person chose: derive one from a picked candidate, and apply a site's rules to a page.

When the cascade cannot decide a page (:attr:`~crawlers.extract.Extraction.undecided`), a person
picks the right candidate in the review app. :func:`derive_rule` turns that choice into a CSS
selector for the candidate's element, as general as it can be while selecting *exactly* the chosen
amount on that page (an id, the element's classes, then its ancestors', at last its structural
path), so that it reads the same slot on the site's other pages. :func:`apply_rules` is what the
cascade does with a site's rules on a page it cannot decide: a rule that selects exactly one amount
there decides it; a rule that selects nothing or several amounts says nothing (never a guess).
"""

from __future__ import annotations

import re
from decimal import Decimal

from selectolax.lexbor import LexborNode

from crawlers.extract.amounts import parse_amount
from crawlers.extract.model import Candidate
from crawlers.extract.page import Page
from crawlers.profiles import PriceRule, Profile

__all__ = ["NoRuleFound", "apply_rules", "derive_rule", "rule_amounts"]

_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
_VOLATILE = re.compile(r"\d{3,}|[0-9a-f]{8,}", re.I)  # generated ids and classes ("p-123456", hashes)
_MAX_TEXT = 80
_CLIMB = 4


class NoRuleFound(ValueError):
    """No selector reads exactly the chosen amount on the page (the amount is not in a short element of its own)."""


def _amount_of(text: str, page: Page, profile: Profile | None) -> Decimal | None:
    text = " ".join(text.split())
    if not text or len(text) > _MAX_TEXT:
        return None
    parsed = parse_amount(text, decimal_separator=profile.decimal_separator if profile else None,
                          locale=(profile.locale if profile else None) or page.locale,
                          currency=profile.currency if profile else None)
    return parsed.amount if parsed is not None and parsed.amount > 0 else None


def rule_amounts(page: Page, selector: str, profile: Profile | None = None) -> list[Decimal | None]:
    """The amount each element ``selector`` selects on the page shows (``None`` for one showing none)."""
    try:
        nodes = page.tree.css(selector)
    except Exception:  # a selector lexbor cannot read selects nothing
        return []
    return [_amount_of(node.text(deep=True, separator=" "), page, profile) for node in nodes]


def apply_rules(page: Page, profile: Profile | None) -> Candidate | None:
    """The price the first of ``profile``'s rules that selects exactly one amount on the page reads, if any."""
    if profile is None:
        return None
    for rule in profile.price_rules:
        amounts = rule_amounts(page, rule.selector, profile)
        if amounts and None not in amounts and len(set(amounts)) == 1:
            node = page.tree.css_first(rule.selector)
            raw = " ".join(node.text(deep=True, separator=" ").split()) if node is not None else ""
            parsed = parse_amount(raw, decimal_separator=profile.decimal_separator,
                                  locale=profile.locale or page.locale, currency=profile.currency)
            currency = (parsed.currency if parsed else None) or profile.currency
            who = f" by {rule.by}" if rule.by else ""
            return Candidate("rule", amounts[0], currency, raw, 0.95,  # type: ignore[arg-type]
                             note=f"rule picked{who}: {rule.selector}")
    return None


def _token(node: LexborNode) -> list[str]:
    """Ways to name ``node`` alone, most telling first: its id, ``itemprop``, tag with its classes."""
    tag = node.tag or "*"
    attrs = node.attributes
    out = []
    ident = attrs.get("id") or ""
    if _NAME.match(ident) and not _VOLATILE.search(ident):
        out.append(f"#{ident}")
    itemprop = attrs.get("itemprop") or ""
    if _NAME.match(itemprop):
        out.append(f"{tag}[itemprop={itemprop}]")
    classes = [c for c in (attrs.get("class") or "").split() if _NAME.match(c) and not _VOLATILE.search(c)]
    if classes:
        out.append(tag + "".join(f".{c}" for c in classes))
    return out


def _position(node: LexborNode) -> str:
    """``tag:nth-of-type(n)`` of ``node`` among its parent's children."""
    tag = node.tag or "*"
    index, sib = 1, node.prev
    while sib is not None:
        if sib.tag == tag:
            index += 1
        sib = sib.prev
    return f"{tag}:nth-of-type({index})"


def _element_of(page: Page, amount: Decimal, raw_text: str, profile: Profile | None) -> list[LexborNode]:
    """The smallest elements whose text shows ``amount`` (``raw_text`` first), in page order."""
    body = page.tree.body
    if body is None:
        return []
    found: list[LexborNode] = []
    raw = " ".join((raw_text or "").split())
    for node in body.traverse(include_text=False):
        if node.tag in {"script", "style", "template", "body", "html"}:
            continue
        text = " ".join(node.text(deep=True, separator=" ").split())
        if not text or len(text) > _MAX_TEXT or (raw and raw not in text and raw.replace(" ", "") not in
                                                  text.replace(" ", "")):
            continue
        if _amount_of(text, page, profile) != amount:
            continue
        # The smallest: no child element shows the same amount on its own.
        if any(_amount_of(child.text(deep=True, separator=" "), page, profile) == amount
               for child in node.iter(include_text=False)):
            continue
        found.append(node)
    return found


def _selectors(node: LexborNode) -> list[str]:
    """Selectors for ``node`` from the most general to the most particular (the last one is its full path)."""
    chain: list[LexborNode] = []
    probe: LexborNode | None = node
    while probe is not None and probe.tag not in {"body", "html"}:
        chain.append(probe)
        probe = probe.parent
    own = _token(node)
    out = list(own)
    for depth in range(1, min(_CLIMB, len(chain) - 1) + 1):
        for ancestor in _token(chain[depth]):
            out.extend(f"{ancestor} {mine}" for mine in own or [node.tag or "*"])
    out.append(" > ".join(["body", *(_position(n) for n in reversed(chain))]))
    return out


def derive_rule(html: bytes | str, url: str, amount: Decimal, raw_text: str, *, profile: Profile | None = None,
                by: str | None = None, at: str | None = None, encoding: str | None = None) -> PriceRule:
    """A rule whose selector selects exactly ``amount`` on this page, as general as possible.

    Raises :class:`NoRuleFound` when no element of the page shows the amount on its own.
    """
    page = Page.parse(html, url, encoding)
    for node in _element_of(page, amount, raw_text, profile):
        for selector in _selectors(node):
            amounts = rule_amounts(page, selector, profile)
            if amounts and all(a == amount for a in amounts):
                return PriceRule(selector=selector, amount=str(amount), url=url, by=by, at=at)
    raise NoRuleFound(f"{url}: no element of the page shows {amount} on its own ({raw_text!r})")
