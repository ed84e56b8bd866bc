"""Secrets out of everything PriceWarden shows, logs or stores: the one place that decides what to hide.

URLs carry secrets in four places: the password of the user part (``postgresql://bob:s3cret@db``),
query parameters (``?token=``, ``?password=``, ``&sig=``, ``?apikey=``, an fsspec ``?key=``/``secret=``),
the fragment (``#access_token=``) and long random path segments (``/feeds/9f3c…e1/products.xml``).
:func:`redact_url` hides all four and keeps what a person needs to recognise the URL: scheme, host,
port, path and the names of the parameters. :func:`redact_text` does the same for every URL inside a
free text (an error message, a log line) and for ``password=…``-style pairs, and replaces any
secrets the caller knows by value.

Notification (Apprise) URLs are secrets as a whole: tokens live in their user, password and path
segments. They are shown only as scheme and host (:func:`redact_notification_url`); text that may
quote them (Apprise's own log lines, which print a password as ``h...2``) goes through
:func:`redact_notification_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

__all__ = [
    "REDACTED", "is_secret_name", "redact_notification_text", "redact_notification_url", "redact_text",
    "redact_url", "secrets_of_url",
]

REDACTED = "**********"

# A parameter whose name holds one of these words carries a secret (apikey, api_key, X-Amz-Signature,
# client_secret, access_token, sig, passwd, auth, credentials, session...). Hiding a harmless one is
# the cheaper mistake.
_SECRET_WORDS = ("pass", "pwd", "token", "secret", "key", "sig", "auth", "cred", "session", "cookie", "bearer",
                 "jwt", "otp", "private")
_PAIR = re.compile(r"(?P<sep>^|[&;])(?P<name>[^=&;]*)=(?P<value>[^&;]*)")
# A path segment that looks like a generated token: 24+ hex digits, or 24+ characters of base64
# mixing upper case, lower case and digits (a product slug is lower case words).
_TOKENISH = re.compile(r"[0-9a-fA-F]{24,}|(?=[^/]*\d)(?=[^/]*[a-z])(?=[^/]*[A-Z])[A-Za-z0-9_\-]{24,}")
# A URL inside free text: up to the next blank, quote or bracket (a closing parenthesis is kept out).
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>()\[\]{}]+")
# ``password=hunter2``, ``"apikey": "abc"`` in free text (``KeyError: 'x'`` is no pair).
_PAIR_IN_TEXT = re.compile(
    r"(?P<name>\b[\w\-]*(?:" + "|".join(_SECRET_WORDS) + r")[\w\-]*)(?P<sep>\s*=\s*|[\"']\s*:\s*[\"']?)"
    r"(?P<value>[^\s\"'&;,}]+)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether a parameter or field called ``name`` holds a secret (``token``, ``X-Amz-Signature``, ``apikey``)."""
    folded = re.sub(r"[^a-z]", "", unquote(name).lower())
    return any(word in folded for word in _SECRET_WORDS)


def _pairs(text: str) -> str:
    """``a=1&token=abc`` → ``a=1&token=**********``: values of secret-named parameters hidden."""

    def hide(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]) or not match["value"]:
            return match.group(0)
        return f"{match['sep']}{match['name']}={REDACTED}"

    return _PAIR.sub(hide, text)


def _path(path: str) -> str:
    return "/".join(REDACTED if _TOKENISH.fullmatch(part) else part for part in path.split("/"))


def redact_url(url: str, *, paths: bool = True) -> str:
    """``url`` with its secrets hidden: password, secret-named query and fragment values, token-like path parts.

    ``paths=False`` keeps the path as it is (a product page's address quoted in an error message).

    ``postgresql://bob:s3cret@db:5432/pw`` → ``postgresql://bob:**********@db:5432/pw``;
    ``https://feeds.example.com/p.xml?partner=7&token=abc`` → ``…/p.xml?partner=7&token=**********``.
    fsspec's chained URLs (``simplecache::s3://key:secret@bucket``) are redacted link by link.
    """
    if "::" in url:
        return "::".join(redact_url(part, paths=paths) for part in url.split("::"))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here, before anything is shown
    except ValueError:
        return REDACTED
    if not parts.scheme or not (parts.netloc or parts.query or parts.fragment):
        return url  # a plain path or word: nothing to hide
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name, has_password, _ = user.partition(":")
        netloc = f"{name}:{REDACTED}@{host}" if has_password else f"{user}@{host}"
        if not has_password and is_secret_name(name):
            netloc = f"{REDACTED}@{host}"
    return parts._replace(netloc=netloc, path=_path(parts.path) if paths else parts.path, query=_pairs(parts.query),
                          fragment=_pairs(parts.fragment)).geturl()


def secrets_of_url(url: str) -> list[str]:
    """The secret values inside ``url`` (password, secret-named parameter values, token-like path parts)."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    if parts.password:
        found.update({parts.password, unquote(parts.password)})
    for text in (parts.query, parts.fragment):
        for match in _PAIR.finditer(text):
            if is_secret_name(match["name"]) and match["value"]:
                found.update({match["value"], unquote(match["value"])})
    found.update(part for part in parts.path.split("/") if _TOKENISH.fullmatch(part))
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given ``secrets`` replaced, every URL in it redacted and ``password=…`` pairs hidden.

    URL paths in text are kept (product pages are quoted in errors); a caller that knows a URL with
    a token in its path passes :func:`secrets_of_url` of it as ``secrets``.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_IN_TEXT.sub(lambda m: _in_text(m.group(0), lambda u: redact_url(u, paths=False)), text)

    def hide(match: re.Match[str]) -> str:
        if REDACTED in match["value"] or "://" in match["value"]:
            return match.group(0)
        return f"{match['name']}{match['sep']}{REDACTED}"

    return _PAIR_IN_TEXT.sub(hide, text)


def redact_notification_url(url: str) -> str:
    """A notification (Apprise) URL reduced to its scheme and host: ``mailto://smtp.example.com/**********``.

    Apprise URLs carry tokens in the user, password, path and query, so only scheme and a host
    that is a domain name are kept.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    scheme = parts.scheme or "?"
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if re.fullmatch(r"[A-Za-z0-9.-]+", host) and "." in host:
        return f"{scheme}://{host}/{REDACTED}"
    return f"{scheme}://{REDACTED}"


def redact_notification_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Text that may quote notification URLs: each URL reduced to scheme and host, known secrets replaced."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_text(_URL_IN_TEXT.sub(lambda m: _in_text(m.group(0), redact_notification_url), text))


def _in_text(url: str, redact: Callable[[str], str]) -> str:
    """A URL found in text, redacted; punctuation that ends the sentence after it is kept as it was."""
    core = url.rstrip(".,:;!?")
    return redact(core) + url[len(core):]
