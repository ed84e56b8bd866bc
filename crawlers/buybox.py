"""The amount a rendered page shows at its buy box: the second reading before an accusation.

The extraction cascade reads a page's markup: its structured data first, then the visible text by
hand-ordered rules. A second reading that uses the same cascade agrees with the first by
construction (a stale JSON-LD price agrees with itself). This one reads only what Chromium lays out
and a shopper sees: it finds the add-to-cart button, measures every amount shown on the page
(where it is, its font size and weight, whether it is struck through) and takes the most prominent
amount near the button. Structured data, microdata, meta tags and script state are never read.

The page is rendered as a crawl renders it (under the network policy, in the cycle's shared
Chromium when there is one: :mod:`crawlers.screenshots`), with no screenshot.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from crawlers.extract.amounts import find_amounts
from crawlers.extract.heuristics import (
    CONDITIONAL,
    FROM,
    INSTALMENT,
    INSTALMENT_LOCAL,
    MULTI_BUY,
    NET_TEXT,
    PRICE_LABEL,
    SAVING,
    SAVING_LOCAL,
    SHIPPING,
    THRESHOLD,
    WAS_TEXT,
)
from crawlers.extract.page import _BUY_BUTTON, STRUCK, Page  # (the cascade's wording of a buy button, every language)

__all__ = ["BuyBoxReading", "choose", "read_buy_boxes"]

# An amount farther than this from the buy button (CSS pixels, edge to edge) is not in the buy box.
NEAR_BUTTON = 450.0
# Without a buy button, the amounts in the first screen below the product's title are read instead.
FIRST_SCREEN = 900.0
# Two font sizes this close (CSS pixels) are the same size; two distances this close, as near.
_SAME_SIZE = 0.5
_SAME_DISTANCE = 12.0
# Wording around an amount that says it is not what the item costs now (beside the cascade's own
# "was", net-of-tax, members-only, instalment and saving wordings, in every language it knows): a unit
# or monthly price, a fee, a deposit...
_NOT_THE_PRICE = re.compile(
    r"\bsave\b|\bsavings\b|\byou save\b|\boff\b|\bper\b|"
    r"/\s*(?:kg|g|100\s?g|l|ml|100\s?ml|oz|lb|unit|ea|mo|month|m|mnd)\b|"
    r"\bmonthly\b|\ba month\b|\binstal?ments?\b|\bpayments? of\b|\bcuotas?\b|\bparcelas?\b|\bx\s?\d+\b|\d+\s?x\b|"
    r"\bpoints?\b|\bfee\b|monatsrate|\braten\b|\brater\b|\bpfand\b",
    re.I,
)
# ... and, in the amount's own text only, a threshold, a starting price or a price for several ("Free shipping
# over $50", "from $9", "nuo 50 €", "virs 30 €", "3 for €20", "Lleva 2 por S/ 45.00"; beside the cascade's wordings).
_NOT_THE_PRICE_OWN = re.compile(r"\bover\b|\bnuo\b|\bvirs\b|\blleva\s\d+\s?por\b", re.I)
# An amount written with a sign is a difference, not a price: "Savings: -$80.00", an add-on's "+$35.99".
_SIGNED = re.compile(r"(?:^|[\s(:])[-−–+]\s?(?:[^\d\s]{1,4}\s?)?\d")


def _not_the_price(text: str, context: str) -> bool:
    """Whether the wording of an amount's own text or its neighbours' says it is not the price."""
    words = f"{text} {context}"
    return bool(WAS_TEXT.search(words) or NET_TEXT.search(words) or CONDITIONAL.search(words)
                or _NOT_THE_PRICE.search(words) or INSTALMENT.search(words)
                or (not words.isascii() and INSTALMENT_LOCAL.search(words))
                or ((SAVING.search(words) or (not words.isascii() and SAVING_LOCAL.search(words)))
                    and not PRICE_LABEL.search(words))
                or _NOT_THE_PRICE_OWN.search(text) or FROM.search(text) or SHIPPING.search(text)
                or THRESHOLD.search(text) or MULTI_BUY.search(text) or _SIGNED.search(text))


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
  const struck = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).textDecorationLine.includes('line-through')) return true;
    }
    // (struck through or marked as the old price by the page's markup: del, s, class "was", "old" ...)
    return !!el.closest(oldPrice);
  };
  const units = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n && units.size < 600; n = walker.nextNode()) {
    if (!/\d/.test(n.nodeValue)) continue;
    let el = n.parentElement;
    if (!el || /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE|OPTION|TEXTAREA)$/.test(el.tagName) || !seen(el)) continue;
    // The amount's unit: the highest element around it still as short as one amount ("$", "89", ".00"),
    // without a button or link of its own.
    const numbers = (t) => (t.match(/\d[\d.,'’\u00a0\u202f ]*/g) || []).length;
    for (let up = 0; up < 4 && el.parentElement && el.parentElement !== document.body; up++) {
      const parent = el.parentElement, t = (parent.innerText || '').trim();
      if (t.length > 32 || /\n/.test(t) || numbers(t) > numbers(el.innerText || '')) break;
      if ([...parent.querySelectorAll('button, input, select, a, [role=button]')].some((b) => !el.contains(b))) break;
      el = parent;
    }
    units.add(el);
  }
  const amounts = [];
  for (const el of units) {
    const r = seen(el);
    if (!r) continue;
    let text = '', cents = '', size = 0, weight = 0, cross = false;
    const inner = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let t = inner.nextNode(); t; t = inner.nextNode()) {
      const host = t.parentElement;
      if (!host || !seen(host)) continue;
      const value = t.nodeValue.trim();
      if (!value) continue;
      const style = getComputedStyle(host);
      // Cents set as a superscript ("$89<sup>00</sup>") are cents, not more digits.
      if (/^\d{2}$/.test(value) && /\d$/.test(text) &&
          (host.tagName === 'SUP' || ['super', 'top', 'text-top'].includes(style.verticalAlign))) {
        cents = value;
        continue;
      }
      text += (text && /^\s/.test(t.nodeValue) ? ' ' : '') + value;
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
    // Another product's price: in an aside, or in a list item or card that links to another page.
    const item = el.closest('li, article, [class*=card], [class*=tile]');
    const other = !!el.closest('aside, footer, nav') ||
      !!(item && [...item.querySelectorAll('a[href]')].some((a) => !a.getAttribute('href').startsWith('#')));
    amounts.push({text: text.slice(0, 80), cents, size, weight, struck: cross, other, context, ...box(r)});
  }
  const meta = document.querySelector('meta[property="og:locale"]');
  const h1 = [...document.querySelectorAll('h1')].map((h) => [h, seen(h)]).find(([, r]) => r);
  return {buttons, amounts, title: h1 ? {label: h1[0].innerText.trim().slice(0, 80), ...box(h1[1])} : null,
          lang: document.documentElement.lang || '',
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

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a violation's evidence (amount as text)."""
        data = asdict(self)
        data["price"] = None if self.price is None else str(self.price)
        return data


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Edge-to-edge distance between two boxes (0 when they overlap)."""
    dx = max(0.0, b["x"] - (a["x"] + a["w"]), a["x"] - (b["x"] + b["w"]))
    dy = max(0.0, b["y"] - (a["y"] + a["h"]), a["y"] - (b["y"] + b["h"]))
    return float((dx * dx + dy * dy) ** 0.5)


def _locale(probe: dict[str, Any], url: str) -> str | None:
    """The page's locale as the cascade works it out, from ``<html lang>``, ``og:locale`` and the domain."""
    from html import escape

    head = (f'<html lang="{escape(probe.get("lang") or "")}"><head>'
            f'<meta property="og:locale" content="{escape(probe.get("og_locale") or "")}"></head></html>')
    return Page.parse(head, url).locale


def choose(probe: dict[str, Any], url: str, *, currency: str | None = None,
           locale: str | None = None) -> BuyBoxReading:
    """The buy box's price from a page's measurements (:data:`_PROBE`'s answer); pure, for tests and reuse.

    The amounts near the main buy button (the largest one shown; without one, below the product's
    title), not struck through, not another product's (in an aside, or a card linking elsewhere), and
    not said to be something else (a saving, a unit or monthly price, a members' price), ranked by font
    size, then weight, then nearness. Two different amounts as prominent and as near: no price
    (``problem`` says why).
    """
    locale = locale or _locale(probe, url)
    buttons = probe.get("buttons") or []
    button = max(buttons, key=lambda b: (b["w"] * b["h"], -b["y"])) if buttons else None
    title = probe.get("title")
    anchor = button or title
    readings = []
    for shown in probe.get("amounts") or []:
        if shown.get("struck") or shown.get("other"):
            continue
        if _not_the_price(shown.get("text", ""), shown.get("context", "")):
            continue
        found = [a for a in find_amounts(shown["text"], locale=locale, currency=currency) if a.currency]
        if len({(a.amount, a.currency) for a in found}) != 1:
            continue
        amount = found[0].amount
        if amount <= 0:
            continue
        if shown.get("cents") and amount == amount.to_integral_value():
            amount += Decimal(shown["cents"]) / 100
        if button is not None:
            distance = _gap(shown, button)
            if distance > NEAR_BUTTON:
                continue
        else:  # below the title (or the top of the page), in the first screen
            top = title["y"] if title is not None else 0
            if shown["y"] < top or shown["y"] - top > FIRST_SCREEN or shown is title:
                continue
            distance = _gap(shown, title) if title is not None else float(shown["y"])
        readings.append((shown, amount, found[0].currency, distance))
    where_anchor = None if anchor is None else {k: anchor[k] for k in ("label", "x", "y", "w", "h")}
    near = ("the buy button" if button is not None else "the product title (no buy button found)"
            if title is not None else "the top of the page (no buy button nor title found)")
    if not readings:
        return BuyBoxReading(None, None, None, {"anchor": where_anchor, "near": near},
                             problem=f"no amount shown near {near}")
    readings.sort(key=lambda r: (-r[0]["size"], -r[0]["weight"], r[3], r[0]["y"], r[0]["x"]))
    top_shown, amount, iso, distance = readings[0]
    rivals = {(a, c) for s, a, c, d in readings if abs(s["size"] - top_shown["size"]) <= _SAME_SIZE
              and s["weight"] == top_shown["weight"] and d - distance <= _SAME_DISTANCE}
    where = {"anchor": where_anchor, "near": near, "box": {k: top_shown[k] for k in ("x", "y", "w", "h")},
             "font_size": top_shown["size"], "font_weight": top_shown["weight"], "distance": round(distance)}
    others = [s["text"] for s, *_ in readings[1:8]]
    raw = top_shown["text"] + (f" {top_shown['cents']}" if top_shown.get("cents") else "")
    if len(rivals) > 1:
        return BuyBoxReading(None, None, raw, where, others=others,
                             problem=f"{len(rivals)} different amounts as prominent and as near {near}")
    return BuyBoxReading(amount, iso, raw, where, others=others)


async def _measure(page: Any, started: float, budget: float, url: str) -> dict[str, Any]:
    """The page's buy buttons and amounts, once its price has shown (as a crawl waits for it)."""
    from crawlers.rendering import _RESERVE, _RESERVE_CAP, wait_for_price

    await wait_for_price(page, started + budget - min(_RESERVE * budget, _RESERVE_CAP))
    probe: dict[str, Any] = await page.evaluate(_PROBE, [_BUY_BUTTON.pattern, STRUCK])
    return probe


def read_buy_boxes(urls: dict[Any, str], *, currencies: dict[Any, str | None] | None = None,
                   locales: dict[Any, str | None] | None = None) -> dict[Any, BuyBoxReading]:
    """Each page's buy box price, rendered in Chromium; a page that cannot be rendered is missing.

    ``currencies``: the currency an amount without a sign is in (the first reading's);
    ``locales``: a site profile's locale, where it has one.
    """
    from crawlers.screenshots import _run_in_thread
    from pricewarden.settings import get_settings

    if not urls:
        return {}
    settings = get_settings()
    probes = _run_in_thread(urls, settings.crawl.browser_concurrency, settings.crawl.render_budget * 1000,
                            probe=_measure)
    return {key: choose(probe, urls[key], currency=(currencies or {}).get(key), locale=(locales or {}).get(key))
            for key, probe in probes.items()}
