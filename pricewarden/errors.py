"""PriceWarden's one tree of typed errors.

Every error the product raises on purpose derives from :class:`PriceWardenError` and carries the
context a person needs to act on it (file and row, URL and status, recipient and attempt)::

    PriceWardenError
    ├── ConfigError              bad settings or workspace             (pricewarden.settings, CLI)
    ├── StoreError               database problems                     (store)
    │   ├── NotFoundError        an id or key that does not exist      (store)
    │   ├── AccessDenied         a user asked for data outside its scope (store access layer)
    │   ├── PartnerInactive      a partner's account or token used while it is suspended or terminated
    │   ├── PortalLimit          a partner's response or complaint beyond its share of the portal's crawls
    │   └── InvalidTransition    a violation status change not allowed (detection lifecycle)
    ├── PolicyError              price policy problems                 (policies)
    │   ├── PolicyValidationError  a policy file with problems; .problems lists each (file, line, field)
    │   └── NoRuleError          no rule covers that SKU / partner / instant
    ├── CatalogImportError       catalog file rejected as a whole      (store.catalog)
    ├── InvalidIdentifier        a partner code, SKU, username or evidence key that is not one
    │                            (pricewarden.identifiers; catalog, report import, audit, evidence)
    ├── CrawlError               fetching or extracting a page         (crawlers)
    │   ├── FetchError           HTTP status, timeout, redirect loop, truncated body (url, status)
    │   │   └── RefusedError     a scheme or address the network policy refuses (crawlers.network)
    │   ├── BlockedError         captcha, block page, login wall       (url, kind)
    │   └── ExtractionError      a page that yields no trustworthy price (url, reason)
    ├── ReportImportError        a partner report that cannot be read at all (file, reason)
    ├── DetectionError           detection could not run               (detection)
    ├── OrchestrationError       Prefect's server did not start, and why (flows)
    ├── UploadRefused            a file uploaded in the web app: too large, empty, wrong type (name, limit)
    ├── ExportError              a download that could not be made: a PDF not printed in time (what, why)
    └── DeliveryError            notification delivery                 (alerts)
        └── NoticeRefused        a partner-facing message the scope's mode does not allow

Row-level problems in catalog and partner-report imports are *not* exceptions: they are collected
as :class:`Problem` records so that good rows are kept and every bad row is reported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file: where it is and why it is wrong.

    ``line`` is the 1-based line (YAML) or row number (CSV/XLSX, header = row 1); ``field`` is the
    column or dotted path of the field at fault.
    """

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class PriceWardenError(Exception):
    """Root of every error PriceWarden raises on purpose."""


class ConfigError(PriceWardenError):
    """Settings or workspace are invalid or missing."""


class StoreError(PriceWardenError):
    """The database could not do what was asked."""


class NotFoundError(StoreError):
    """An object looked up by id or key does not exist."""


class AccessDenied(StoreError):
    """A user asked for data outside what its role and scope allow."""


class PartnerInactive(StoreError):
    """A partner's account or API token used while the partner is suspended or terminated (partner, status).

    Unlike :class:`AccessDenied` (answered as "not found"), the partner is told why: 403 naming the status.
    """

    def __init__(self, partner: str, status: str) -> None:
        self.partner, self.status = partner, status
        super().__init__(f"partner {partner} is {status}: its portal accounts and API tokens are refused until the "
                         "brand reinstates it")


class PortalLimit(StoreError):
    """A partner's response or complaint refused: the crawls it would queue are beyond the partner's share
    (``web.partner_jobs_waiting`` waiting at once, ``web.partner_requests_per_day`` a day); ``limit`` says which.

    Each response and complaint starts a crawl and messages a manager: without a bound one partner could fill the
    queue every other partner and the monitor wait on, point the crawlers at any site, and flood its manager.
    """

    def __init__(self, partner: str, limit: str, detail: str) -> None:
        self.partner, self.limit = partner, limit
        super().__init__(detail)


class InvalidTransition(StoreError):
    """A violation status change that the lifecycle does not allow (e.g. reopening a dismissal)."""


class PolicyError(PriceWardenError):
    """A price policy problem."""


class PolicyValidationError(PolicyError):
    """A policy file with one or more problems; nothing from it was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid policy"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class NoRuleError(PolicyError):
    """No rule of the policy covers that SKU, partner and instant."""


class CatalogImportError(PriceWardenError):
    """A catalog file that cannot be read at all (bad format, missing header)."""


class InvalidIdentifier(PriceWardenError):
    """A partner code, SKU, username or evidence key that breaks its rule (``../../..``, a NUL byte).

    ``kind`` names the identifier ("partner code"), ``value`` is what was given.
    """

    def __init__(self, message: str, *, kind: str, value: str) -> None:
        self.kind = kind
        self.value = value
        super().__init__(message)


class CrawlError(PriceWardenError):
    """Fetching or reading a page failed; it is a crawl failure, never a price."""

    def __init__(self, message: str, *, url: str | None = None, kind: str = "error") -> None:
        self.url = url
        self.kind = kind
        self.reason = message  # without the URL
        super().__init__(f"{message} ({url})" if url else message)


class FetchError(CrawlError):
    """The page could not be fetched: HTTP status, timeout, redirect loop or truncated body."""

    def __init__(self, message: str, *, url: str | None = None, kind: str = "http_error",
                 status: int | None = None) -> None:
        self.status = status
        super().__init__(message, url=url, kind=kind)


class RefusedError(FetchError):
    """A URL, redirect or address that the network policy refuses: not http(s), or not public and not allowed."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message, url=url, kind="refused")


class BlockedError(CrawlError):
    """The site answered with a captcha, block page or login wall instead of the product."""


class ExtractionError(CrawlError):
    """The page was fetched but yields no trustworthy price (layout change, broken profile)."""


class ReportImportError(PriceWardenError):
    """A partner report that cannot be read at all; row-level problems are reported per row instead."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)


class DetectionError(PriceWardenError):
    """Detection could not run (no policy published, bad model settings)."""


class OrchestrationError(PriceWardenError):
    """Prefect could not run flows here: its server did not start in time or exited (one line: why, what to set)."""


class ExportError(PriceWardenError):
    """A download that could not be made (a PDF that Chromium did not print in time, or at all)."""


class UploadRefused(PriceWardenError):
    """An uploaded file refused as a whole: too large, empty or of a type not accepted (web.portal)."""


class DeliveryError(PriceWardenError):
    """A notification could not be delivered; the outbox keeps it for retry."""


class NoticeRefused(DeliveryError):
    """A partner-facing notice or penalty that the scope's policy mode does not allow."""


class ProfileValidationError(ConfigError):
    """A site profile file with problems; ``.problems`` lists each (file, line, field). Raised by crawlers.profiles."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid site profile"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)
