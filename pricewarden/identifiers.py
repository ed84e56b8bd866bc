"""Identifiers that come from people and partners, checked where they enter PriceWarden.

Partner codes name files and folders (receipts, templates, the inbox), usernames go into the audit
log, SKUs into URLs and reports, evidence keys into storage paths. Each is checked where it enters
(catalog import, report import, the CLI, the evidence store) so that ``../../..``, a NUL byte or a
terminal escape sequence can never reach a path, a log line or a screen:

==============  =====================================================================================
partner code    1-50 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit; never ``..``
username        1-100 letters, digits, ``.``, ``_``, ``-``, ``@`` or ``+``, starting with a letter or digit;
                never ``..``
SKU             1-100 printable characters without leading or trailing blanks, no control or invisible
                formatting characters, no backslash, and no ``.`` or ``..`` between slashes
evidence key    a SHA-256: exactly 64 lower-case hexadecimal digits
actor           who an audit entry names (a username, ``catalog-import``, ``partner:P001``): 1-100
                printable characters, no control characters, no leading or trailing blanks
==============  =====================================================================================
"""

from __future__ import annotations

import re
import unicodedata

from pricewarden.errors import InvalidIdentifier

__all__ = ["check_actor", "check_evidence_key", "check_partner_code", "check_sku", "check_username", "is_sha256"]

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,49}")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+\-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _refuse(kind: str, value: object, rule: str) -> InvalidIdentifier:
    # repr() shows a NUL byte or an escape sequence as \x00, \x1b: never raw on a terminal.
    shown = repr(value[:80] + "…" if isinstance(value, str) and len(value) > 80 else value)
    return InvalidIdentifier(f"{shown} is not a valid {kind}: {rule}", kind=kind, value=str(value))


def check_partner_code(value: str) -> str:
    """``value`` when it is a valid partner code, else :class:`InvalidIdentifier` saying what a code may hold."""
    if not isinstance(value, str) or not _CODE.fullmatch(value) or ".." in value:
        raise _refuse("partner code", value, "use 1-50 letters, digits, '.', '_' or '-', starting with a letter "
                      "or digit (no '..')")
    return value


def check_username(value: str) -> str:
    """``value`` when it is a valid username, else :class:`InvalidIdentifier`."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value) or ".." in value:
        raise _refuse("username", value, "use 1-100 letters, digits, '.', '_', '-', '@' or '+', starting with a "
                      "letter or digit (no '..')")
    return value


def _printable(value: object) -> bool:
    """1-100 characters, no leading or trailing blanks, no control, format or line-separator characters."""
    return (isinstance(value, str) and 1 <= len(value) <= 100 and value == value.strip()
            and not any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in value))


def check_sku(value: str) -> str:
    """``value`` when it is a valid SKU, else :class:`InvalidIdentifier`."""
    rule = ("use 1-100 printable characters without leading or trailing blanks, control characters, '\\' "
            "or '.'/'..' between slashes")
    if not _printable(value):
        raise _refuse("SKU", value, rule)
    if "\\" in value or any(part in (".", "..") for part in value.split("/")):
        raise _refuse("SKU", value, rule)
    return value


def check_actor(value: str) -> str:
    """``value`` when it can name who did something in the audit log, else :class:`InvalidIdentifier`."""
    if not _printable(value):
        raise _refuse("actor", value, "use 1-100 printable characters without control characters or leading or "
                      "trailing blanks")
    return value


def is_sha256(value: object) -> bool:
    """Whether ``value`` is a SHA-256 as PriceWarden writes it: 64 lower-case hexadecimal digits."""
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def check_evidence_key(value: str) -> str:
    """``value`` when it is an evidence key (a SHA-256), else :class:`InvalidIdentifier`."""
    if not is_sha256(value):
        raise _refuse("evidence key", value, "an evidence key is a SHA-256 of 64 lower-case hexadecimal digits")
    return value
