"""Classify why a fetch yielded no price: every failure becomes a ``CrawlFailure`` with a kind, never a price.

Kinds (``FailureKind``): ``not_found`` (404/410), ``http_error`` (other 4xx), ``server_error`` (5xx
after retries), ``rate_limited`` (429 after retries or a Retry-After too long to wait), ``timeout``,
``dns``, ``connection``, ``truncated`` (body shorter than Content-Length), ``redirect_loop``,
``robots`` (disallowed by robots.txt), ``blocked`` (captcha or block page), ``login_wall``,
``not_product`` (the page is no product page), ``no_price`` (a product page with no price),
``profile_broken`` (the site profile's selectors stopped matching a page they used to read),
``render_skipped`` (a page that needed the browser was not rendered: its site's renders keep failing,
see :class:`crawlers.rendering.RenderBreaker`), ``stalled`` (the page was not read: its crawl process
finished nothing for ``crawl.stall_timeout`` seconds and was stopped, see :mod:`crawlers.watchdog`),
``refused`` (the network policy refused the URL, a redirect or the address: see :mod:`crawlers.network`)
and ``error`` (anything else, with the exception text in ``detail``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class FailureKind(enum.StrEnum):
    """Why a page yielded no price."""

    NOT_FOUND = "not_found"
    HTTP_ERROR = "http_error"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    DNS = "dns"
    CONNECTION = "connection"
    TRUNCATED = "truncated"
    REDIRECT_LOOP = "redirect_loop"
    ROBOTS = "robots"
    BLOCKED = "blocked"
    LOGIN_WALL = "login_wall"
    NOT_PRODUCT = "not_product"
    NO_PRICE = "no_price"
    PROFILE_BROKEN = "profile_broken"
    RENDER_SKIPPED = "render_skipped"
    STALLED = "stalled"
    REFUSED = "refused"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure: its kind, the HTTP status when there was one, and a human detail."""

    kind: FailureKind
    status: int | None = None
    detail: str = ""


def from_status(status: int) -> FailureKind | None:
    """The failure kind of an HTTP status, or ``None`` for a success."""
    if status < 400:
        return None
    if status in (404, 410):
        return FailureKind.NOT_FOUND
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status in (401, 407):
        return FailureKind.LOGIN_WALL
    if status >= 500:
        return FailureKind.SERVER_ERROR
    return FailureKind.HTTP_ERROR


def from_exception(exc: BaseException) -> Failure:
    """Classify a download exception (Twisted, Scrapy or Playwright) by its type and message."""
    from scrapy import exceptions as sx
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as terror
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    from pricewarden.errors import RefusedError

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RefusedError):
        return Failure(FailureKind.REFUSED, None, exc.reason)
    if isinstance(exc, HttpError):
        status = exc.response.status
        return Failure(from_status(status) or FailureKind.HTTP_ERROR, status, f"HTTP {status}")
    if isinstance(exc, sx.IgnoreRequest):
        message = str(exc).lower()
        if "redirection" in message:
            return Failure(FailureKind.REDIRECT_LOOP, None, str(exc))
        if "robots.txt" in message:
            return Failure(FailureKind.ROBOTS, None, str(exc))
        return Failure(FailureKind.ERROR, None, text)
    if isinstance(exc, sx.ResponseDataLossError):
        return Failure(FailureKind.TRUNCATED, None, "body shorter than its Content-Length")
    if isinstance(exc, sx.CannotResolveHostError | terror.DNSLookupError):
        return Failure(FailureKind.DNS, None, text)
    if isinstance(exc, sx.DownloadTimeoutError | terror.TimeoutError):
        return Failure(FailureKind.TIMEOUT, None, text)
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        reasons = " ".join(repr(r.value) for r in getattr(exc, "reasons", []))
        if "_DataLoss" in reasons or "dataloss" in reasons.lower():
            return Failure(FailureKind.TRUNCATED, None, "body shorter than its Content-Length")
        return Failure(FailureKind.CONNECTION, None, f"{text} {reasons}".strip())
    if isinstance(
        exc,
        sx.DownloadConnectionRefusedError | sx.DownloadFailedError | terror.ConnectError
        | terror.ConnectionLost | terror.ConnectionDone,
    ):
        return Failure(FailureKind.CONNECTION, None, text)
    for code, kind in _CHROMIUM_ERRORS.items():  # Playwright: "net::ERR_... at http://..."
        if code in str(exc):
            return Failure(kind, None, text[:2000])
    if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
        return Failure(FailureKind.TIMEOUT, None, text)  # Playwright's TimeoutError and friends
    return Failure(FailureKind.ERROR, None, text[:2000])


# Chromium's network error codes, as Playwright reports them.
_CHROMIUM_ERRORS = {
    "ERR_CONTENT_LENGTH_MISMATCH": FailureKind.TRUNCATED, "ERR_INCOMPLETE_CHUNKED_ENCODING": FailureKind.TRUNCATED,
    "ERR_TOO_MANY_REDIRECTS": FailureKind.REDIRECT_LOOP, "ERR_NAME_NOT_RESOLVED": FailureKind.DNS,
    "ERR_CONNECTION_REFUSED": FailureKind.CONNECTION, "ERR_CONNECTION_RESET": FailureKind.CONNECTION,
    "ERR_CONNECTION_CLOSED": FailureKind.CONNECTION, "ERR_EMPTY_RESPONSE": FailureKind.CONNECTION,
    "ERR_TUNNEL_CONNECTION_FAILED": FailureKind.CONNECTION,  # through the proxy of crawlers.network
    "ERR_TIMED_OUT": FailureKind.TIMEOUT, "ERR_CONNECTION_TIMED_OUT": FailureKind.TIMEOUT,
}
# Phrases that only a challenge or block page puts in its title or main heading.
_STRONG = re.compile(
    r"captcha|robot check|are you a (?:human|robot)|verify you are (?:a )?human|access denied|request blocked|"
    r"unusual traffic|attention required|just a moment|bot detection|pardon our interruption",
    re.IGNORECASE,
)
# Markers of a challenge widget; real product pages may load them too (review forms), so they only
# count when the page yields no price.
_WEAK = re.compile(
    rb"g-recaptcha|h-captcha|hcaptcha\.com|cf-challenge|challenge-platform|px-captcha|captcha-delivery|"
    rb"name=[\"']captcha|validatecaptcha|/captcha/|alt=[\"']captcha",
    re.IGNORECASE,
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_PASSWORD = re.compile(rb"<input[^>]+type=[\"']?password", re.IGNORECASE)
_LOGIN_WORDS = re.compile(rb"sign in|log ?in|anmelden|connexion|iniciar sesi", re.IGNORECASE)


def block_kind(body: bytes, *, has_price: bool) -> FailureKind | None:
    """``blocked`` or ``login_wall`` when the body is a challenge or login page, else ``None``.

    A title or heading that names a captcha or block is decisive; challenge widgets and password
    forms only count on a page that yields no price (product pages carry login forms and review
    captchas too).
    """
    end = 200_000  # the head of the page: searched in place (a slice would copy it)
    for match in _TITLE.finditer(body, 0, end):
        heading = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace")
        if _STRONG.search(heading):
            return FailureKind.BLOCKED
    if has_price:
        return None
    if _WEAK.search(body, 0, end):
        return FailureKind.BLOCKED
    if _PASSWORD.search(body, 0, end) and _LOGIN_WORDS.search(body, 0, end):
        return FailureKind.LOGIN_WALL
    return None
