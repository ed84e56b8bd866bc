"""Structured data still in a currency the shop's country has retired (a changeover to the euro).

When a country changes its currency, shops print both for months (by law in Bulgaria from August 2025 to
August 2026: "12,90 € (25,23 лв.)"), and their feeds, JSON-LD and data layers lag behind: the page charges
12,90 € while its structured data still says 25.23 BGN. The principle (never a site's rule):

    A structured offer in a currency that was legal tender in the shop's country (its country-code domain,
    else its ``lang``) and no longer is, where CLDR names another currency in its place today, is not the
    price when the page shows amounts in today's currency: the page is read without it, in today's currency
    (the lev amounts printed beside it are then references in another currency). A page that shows none of
    today's currency keeps the structured reading (nothing on it says otherwise).

CLDR (through Babel) knows every changeover with its dates (BGN until 31 January 2026, HRK until 14 January
2023, LTL until 2014 ...), so the next country that adopts the euro needs no code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.numbers import get_territory_currencies

from crawlers.extract.amounts import find_amounts
from pricewarden.money import territory_currencies

if TYPE_CHECKING:
    from crawlers.extract.page import Page
    from crawlers.extract.structured import Facts

__all__ = ["retired_offers"]

# The changeovers worth knowing begin with the euro (a shop's data that old is not served any more).
_SINCE = date(1999, 1, 1)


@lru_cache(maxsize=256)
def _retired(country: str, today: date) -> tuple[frozenset[str], str | None]:
    """The currencies ``country`` has retired since 1999, and the one legal tender there today (None: several)."""
    now = territory_currencies(country)
    try:
        spans = get_territory_currencies(country, start_date=_SINCE, end_date=today, tender=True,
                                         include_details=True)
    except (KeyError, ValueError):
        return frozenset(), None
    gone = frozenset(span["currency"] for span in spans
                     if span["to"] is not None and span["to"] < today and span["currency"] not in now)
    return gone, now[0] if len(now) == 1 else None


def retired_offers(page: Page, facts: Facts) -> str | None:
    """Take the structured offers in a retired currency out of ``facts`` when the page shows amounts in the
    currency that replaced it, and set ``facts.currency`` to today's; return the retired currency (else None)."""
    codes = {code for code in (*(cand.currency or facts.currency for cand in facts.candidates), facts.currency)
             if code is not None}
    if not codes:
        return None
    country = page.country
    if country is None:
        return None
    gone, today = _retired(country, datetime.now(UTC).date())
    old = codes & gone
    if not old or today is None:
        return None
    # (the text as shown, blanks collapsed: pretty-printed markup sets "€" on a line of its own after "12,90")
    if not any(found.currency == today for found in find_amounts(page.visible_text, locale=page.locale)):
        return None
    facts.candidates = [cand for cand in facts.candidates if (cand.currency or facts.currency) not in old]
    if facts.currency in old:
        facts.currency = today
    return sorted(old)[0]
