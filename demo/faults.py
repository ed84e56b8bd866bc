"""Faults as real sites have them, planted deterministically by seed and day.

Persistent faults (a perfect monitor records a crawl failure, never a price): ``not_found`` (a
removed listing, 404 from day 3), ``captcha`` (200 page that is a robot check), ``login`` (302 to a
login page), ``redirect_loop``, ``truncated`` (Content-Length larger than the body, then the
connection closes) and ``layout_changed`` (P005's shop changes its markup on day 20).
Transient faults (a retry gets the real page): ``http_500`` / ``http_503`` (the first two requests
of the day fail), ``http_429`` (the first request is refused with ``Retry-After: 1``) and ``slow``.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.catalog import Listing, rng, unit

LAYOUT_CHANGE_DAY = 20
LAYOUT_PARTNER = "P005"
REMOVED_FROM_DAY = 3
PLANTED = ("captcha", "login", "redirect_loop", "truncated", "slow", "slow", "http_500", "http_500",
           "http_503", "http_503", "http_429", "http_429")
FAILS_FIRST = {"http_500": 2, "http_503": 2, "http_429": 1}
STATUS = {"not_found": 404, "captcha": 200, "login": 302, "redirect_loop": 301, "truncated": 200,
          "http_500": 500, "http_503": 503, "http_429": 429, "slow": 200, "layout_changed": 200}
PERSISTENT = {"not_found", "captcha", "login", "redirect_loop", "truncated", "layout_changed"}
FLAKY_RATE = 0.01


@dataclass(frozen=True, slots=True)
class Fault:
    """What is wrong with one page on one day."""

    kind: str

    @property
    def persistent(self) -> bool:
        """True when retrying never yields the page (a crawl failure, not a price)."""
        return self.kind in PERSISTENT

    def as_truth(self, slow_seconds: float) -> dict[str, object]:
        """The fault as ground truth: kind, status, whether it persists, and how it behaves."""
        out: dict[str, object] = {"kind": self.kind, "status": STATUS[self.kind], "persistent": self.persistent}
        if self.kind in FAILS_FIRST:
            out["fails_first"] = FAILS_FIRST[self.kind]
        if self.kind == "http_429":
            out["retry_after"] = 1
        if self.kind == "slow":
            out["delay_seconds"] = slow_seconds
        return out


def plan(seed: int, day: int, eligible: list[Listing], layout_keys: list[str]) -> dict[str, Fault]:
    """Faults of ``day`` by listing key; ``eligible`` are pages whose failure hides no scenario."""
    faults: dict[str, Fault] = {}
    removed = rng(seed, "removed").sample(eligible, k=min(2, len(eligible)))
    if day >= REMOVED_FROM_DAY:
        for listing in removed:
            faults[listing.key] = Fault("not_found")
    if day >= LAYOUT_CHANGE_DAY:
        for key in layout_keys:
            faults[key] = Fault("layout_changed")
    pool = [x for x in eligible if x.key not in faults]
    for listing, kind in zip(rng(seed, "faults", day).sample(pool, k=min(len(PLANTED), len(pool))), PLANTED,
                             strict=False):
        faults[listing.key] = Fault(kind)
    for listing in pool:
        if listing.key not in faults and unit(seed, "flaky", day, listing.key) < FLAKY_RATE:
            faults[listing.key] = Fault("http_500" if unit(seed, "flaky-kind", listing.key) < 0.5 else "http_503")
    return faults


CAPTCHA_PAGE = (b"<!DOCTYPE html><html><head><title>Robot Check</title></head><body><h1>Sorry, we just need to "
                b"make sure you're not a robot</h1><p>Enter the characters you see below</p><form action="
                b"\"/errors/validateCaptcha\"><img src=\"/captcha/Captcha_abc.jpg\" alt=\"captcha\"><input "
                b"name=\"field-keywords\"><button>Continue shopping</button></form></body></html>\n")
LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in to see this page</h1>"
              b"<form method=\"post\" action=\"/account/login\"><input name=\"email\"><input type=\"password\" "
              b"name=\"password\"><button>Sign in</button></form></body></html>\n")
NOT_FOUND_PAGE = (b"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>404</h1><p>This "
                  b"product is no longer available.</p></body></html>\n")
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>Something went "
              b"wrong</h1><p>Please try again later.</p></body></html>\n")
