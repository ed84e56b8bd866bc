"""Languages of the review app: Babel catalogs for English and Simplified Chinese.

Every user-visible string goes through gettext: ``_()`` in Python (``N_()`` marks a string for
translation where it is defined and translates it where it is shown), ``{{ _("...") }}`` and
``{% trans %}`` in templates. The catalogs are the ``.po`` files under ``web/locale``; they are
compiled in memory when the app starts, so there is no ``.mo`` file that could go stale.

Keep the catalogs complete: ``python -m web.i18n`` extracts every message from the code and the
templates and merges new ones into both catalogs (a test fails while a message has no Chinese).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LOCALES = ("en", "zh_Hans")
DEFAULT = "en"
# How each language is named in its own language, for the switch.
NAMES = {"en": "English", "zh_Hans": "简体中文"}
# HTML lang attribute per locale.
HTML_LANG = {"en": "en", "zh_Hans": "zh-Hans"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def normalise(value: str | None) -> str | None:
    """One of :data:`LOCALES` for a stored or requested locale (``zh``, ``zh_CN``, ``zh-Hans``, ``en-US``)."""
    if not value:
        return None
    text = value.replace("-", "_").lower()
    if text.startswith("zh"):
        # Traditional Chinese would need its own catalog; Simplified is the closest we have.
        return "zh_Hans"
    if text.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str:
    """The best locale for an ``Accept-Language`` header (English when nothing matches)."""
    if not accept_language:
        return DEFAULT
    wanted = []
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        wanted.append((weight, tag.strip()))
    for _weight, tag in sorted(wanted, key=lambda w: -w[0]):
        found = normalise(tag)
        if found:
            return found
    return DEFAULT


def po_path(locale: str) -> Path:
    """The catalog file of ``locale``."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalog of ``locale`` (built in memory from its ``.po``)."""
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=Locale.parse(locale))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Translator:
    """The gettext functions of one locale, as views and templates call them."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT
        self._t = translations(self.locale)

    def gettext(self, message: str, **values: Any) -> str:
        """``message`` translated, then ``%(name)s`` placeholders filled from ``values``."""
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The singular or plural form for ``n``; ``%(num)s`` is ``n``."""
        text = self._t.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    __call__ = gettext


# Extraction -------------------------------------------------------------------------------------

MAPPING = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract(root: Path | None = None) -> Catalog:
    """Every translatable message in the web package's code and templates."""
    from babel.messages.extract import extract_from_dir

    root = root or Path(__file__).parent
    catalog = Catalog(project="PriceWarden", domain=DOMAIN)
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found: Iterable[Any] = extract_from_dir(str(root), method_map=MAPPING, options_map=options,
                                            keywords=KEYWORDS)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update(write: Callable[[str], None] = print) -> None:
    """Merge the extracted messages into every catalog (new ones untranslated, old ones kept)."""
    template = extract()
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=Locale.parse(locale))
        else:
            catalog = Catalog(locale=Locale.parse(locale), domain=DOMAIN, project="PriceWarden")
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, omit_header=False, ignore_obsolete=True, sort_output=True)
        missing = [m.id for m in catalog if m.id and not m.string]
        write(f"{path}: {len(catalog)} messages, {len(missing)} untranslated")


__all__ = ["HTML_LANG", "LOCALES", "NAMES", "N_", "Translator", "extract", "negotiate", "normalise", "translations",
           "update"]

if __name__ == "__main__":
    update()
