"""Locale facts from CLDR (through Babel): decimal and group symbols, territories and their currencies.

Nothing here is a table kept by hand: a new market is whatever CLDR says about it. Every answer is
cached, since the extractor asks the same few questions for each amount on a page.

- :func:`decimal_symbol` / :func:`group_symbol`: how a locale writes ``1.299,00`` (``de_CH`` writes
  ``1'299.00``, ``es_MX`` ``1,299.00``, ``es_CL`` ``1.299,00``, ``en_IN`` ``1,29,999.00``).
- :func:`territory_of`: the country a locale names, or the likely one of its language (``sv`` → SE).
- :func:`locale_for_territory`: the likely locale of a country (``CL`` → ``es_CL``), for a page that
  says nothing but its country-code domain.
- :func:`country_of_host`: the country of a host's country-code top-level domain, when it is one.
"""

from __future__ import annotations

from functools import lru_cache

from babel.core import Locale, UnknownLocaleError, get_global
from babel.numbers import get_decimal_symbol, get_group_symbol

__all__ = ["country_of_host", "decimal_symbol", "group_symbol", "locale_for_territory", "parse_locale",
           "territory_of"]

# Country-code domains used by everyone as generic names ("shop.io", "brand.co", "app.ai"): a host
# there says nothing about the shop's country unless under a national second level ("com.co").
_VANITY_TLDS = frozenset({"co", "io", "tv", "me", "ai", "ly", "fm", "gg", "to", "ws", "cc", "sh", "ac", "la", "nu",
                          "tk", "so", "vc", "im", "am", "is", "it", "st", "gs", "ms", "ag", "bz", "cx", "dj", "ps"})
_SECOND_LEVEL = frozenset({"com", "co", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "web", "shop",
                           "store", "biz", "in", "ltd", "plc", "info"})
# IANA's domain for the United Kingdom is not its ISO 3166 code.
_TLD_TO_ISO = {"uk": "GB"}


@lru_cache(maxsize=512)
def parse_locale(tag: str | None) -> Locale | None:
    """The CLDR locale for a tag as pages write it (``de-CH``, ``pt_br``, ``zh-Hans-CN``), or None."""
    if not tag:
        return None
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        # "en_XX", "xx": keep what CLDR knows of it (the language alone), else nothing
        lang = tag.strip().replace("-", "_").split("_", 1)[0]
        if lang and lang != tag:
            return parse_locale(lang)
        return None


@lru_cache(maxsize=512)
def decimal_symbol(locale: str | None) -> str | None:
    """The decimal separator a locale writes amounts with (``.`` or ``,``), or None when unknown."""
    loc = parse_locale(locale)
    if loc is None:
        return None
    symbol = get_decimal_symbol(loc)
    # Arabic-script locales write U+066B with Arabic-Indic digits; shops in Latin digits use ".".
    return symbol if symbol in {".", ","} else "."


@lru_cache(maxsize=512)
def group_symbol(locale: str | None) -> str | None:
    """The thousands separator a locale writes (``,`` ``.`` ``'`` no-break space ...), or None when unknown."""
    loc = parse_locale(locale)
    return None if loc is None else get_group_symbol(loc)


@lru_cache(maxsize=512)
def territory_of(locale: str | None) -> str | None:
    """The ISO 3166 country a locale names (``es_CL`` → CL), else its language's likely one (``sv`` → SE).

    A region CLDR has no locale for still counts (``en_KW`` → KW: English pages of a Kuwaiti shop).
    """
    parts = (locale or "").replace("-", "_").split("_")
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return parts[-1].upper()
    loc = parse_locale(locale)
    if loc is None:
        return None
    if loc.territory:
        return loc.territory
    likely = get_global("likely_subtags").get(loc.language)
    parts = (likely or "").split("_")
    return parts[-1] if len(parts) > 1 and len(parts[-1]) == 2 else None


@lru_cache(maxsize=512)
def locale_for_territory(country: str | None, language: str | None = None) -> str | None:
    """The locale of ``language`` in ``country`` (``es``, CL → ``es_CL``); without a language, the country's likely one.

    None when CLDR knows no such locale.
    """
    if not country:
        return None
    country = country.upper()
    if language:
        candidate = f"{language.lower()}_{country}"
        loc = parse_locale(candidate)
        return candidate if loc is not None and loc.territory == country else None
    # The country's most spoken language that CLDR has a locale for there (CA → en_CA, CH → de_CH).
    spoken = get_global("territory_languages").get(country, {})
    for lang in sorted(spoken, key=lambda k: -float(spoken[k].get("population_percent") or 0)):
        found = locale_for_territory(country, lang)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=1024)
def country_of_host(host: str) -> str | None:
    """The country of a host's country-code domain (``tienda.cl`` → CL, ``shop.co.uk`` → GB), else None.

    Generic top-level domains, and country codes used as vanity names (``.io``, ``.co``, ``.tv``)
    unless under a national second level (``.com.co``), say nothing.
    """
    labels = host.lower().split(":", 1)[0].rstrip(".").split(".")
    if len(labels) < 2:
        return None
    tld = labels[-1]
    if len(tld) != 2 or not tld.isalpha():
        return None
    if tld in _VANITY_TLDS and not (len(labels) >= 3 and labels[-2] in _SECOND_LEVEL):
        return None
    code = _TLD_TO_ISO.get(tld, tld.upper())
    return code if code in get_global("territory_languages") else None
