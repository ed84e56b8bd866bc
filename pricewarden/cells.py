"""Spreadsheet-safe text cells: the one guard every CSV PriceWarden writes goes through (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some strip before looking). A cell can also start in the *middle* of our text: a semicolon
locale splits a comma file at every ``;`` (and a comma locale a semicolon file at every ``,``), and
a paste splits at tabs and line breaks. So :func:`safe_text` puts a ``'`` before a formula character
at the start of the text AND after every ``,`` ``;`` tab or line break inside it (spaces and quotes
in between are skipped by some spreadsheets, so they do not protect), and :func:`csv_line` quotes
every cell holding a ``,`` ``;`` quote, tab or line break, whichever the delimiter, so that both
locales read the cell whole.

Used by the partner report receipts (``crawlers/reports``) and the review app's exports (``web/exports``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["UNSAFE_ROW", "csv_line", "safe_text"]

# A formula character where a spreadsheet may start a cell: the start, or after a separator, past the blanks
# and quotes some spreadsheets skip. One right after a ``'`` is neutralised already (so the guard is idempotent).
_FORMULA = re.compile(r"""(^|[,;\t\r\n])([ "']*)(?<!')(?=[=+\-@\t\r])""")
_NEEDS_QUOTES = re.compile(r'[,;"\t\r\n]')
UNSAFE_ROW = re.compile(r"""(?:^|[\x1f,;\t\r\n])[ "']*(?<!')[=+\-@\t\r]|\x00""")
"""Over a row's cells joined with ``\\x1f``: finds the rare row with a cell that :func:`safe_text` would change
(a formula character at a cell's start or after a separator inside it, or a NUL), so that a writer of
millions of plain rows can skip the guard on the rest."""


def safe_text(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates, in a comma or semicolon locale.

    ``=1+2`` -> ``'=1+2``; `` =1`` -> `` '=1``; ``a;=1+2`` -> ``a;'=1+2``; ``a;'=1+2`` stays; a NUL
    (which ends the cell in some readers) becomes U+FFFD. Plain text comes back unchanged.
    """
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return _FORMULA.sub(r"\1\2'", text) if _FORMULA.search(text) else text


def csv_line(values: Iterable[str], delimiter: str = ",") -> str:
    """One CSV line ending in CRLF: a cell holding a comma, semicolon, quote, tab or line break is quoted.

    Quoting on both ``,`` and ``;`` whatever the ``delimiter`` keeps the cell whole when a spreadsheet
    in the other locale opens the file. The cells must already be safe (:func:`safe_text`).
    """
    needs = _NEEDS_QUOTES.search
    return delimiter.join('"' + text.replace('"', '""') + '"' if needs(text) else text for text in values) + "\r\n"
