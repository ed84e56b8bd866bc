"""One typed settings tree, read from ``PRICEWARDEN_*`` environment variables and the workspace file.

Precedence, highest first: values passed in code, environment (``PRICEWARDEN_CRAWL__CONCURRENCY=8``
for nested groups), ``<workspace>/pricewarden.toml``, defaults. Every field has a description;
``pricewarden config show`` prints the effective values with secrets redacted, and a test checks
that every field is documented in docs/reference/settings.md.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pricewarden.errors import ConfigError

# The system's browsers in the order they are preferred. The headless shell (Debian's
# ``chromium-headless-shell``) renders the same pages as the full browser for much less CPU: on
# two cores, 4.3-4.4 rendered pages/s with a full-page screenshot each against 2.8-3.5.
# Its real binary, not the /usr/bin wrapper script that would stand between Playwright and it.
SYSTEM_BROWSERS = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell",
                   "/usr/bin/chromium", "/usr/bin/chromium-browser")

ENV_PREFIX = "PRICEWARDEN_"
WORKSPACE_FILE = "pricewarden.toml"
Mode = Literal["map", "recommended", "maximum", "observe"]


class CrawlSettings(BaseModel):
    """How the crawlers fetch pages."""

    concurrency: int = Field(16, ge=1, description="Concurrent requests per crawl process.")
    per_domain_concurrency: int = Field(4, ge=1, description="Concurrent requests per site.")
    processes: int = Field(
        0, ge=0, description="Crawl processes (shards) run in parallel on this machine; 0 = one per core."
    )
    obey_robots_txt: bool = Field(True, description="Honour each site's robots.txt.")
    autothrottle: bool = Field(
        True, description="Adapt the request rate to each site's latency (Scrapy AutoThrottle)."
    )
    download_timeout: float = Field(30.0, gt=0, description="Seconds before a request is a timeout failure.")
    retries: int = Field(
        3, ge=0, description="Retries for 5xx, 429 and timeouts (with backoff, honouring Retry-After)."
    )
    max_retry_after: float = Field(
        300.0, ge=0, description="Longest Retry-After (seconds) the crawler will wait before giving up."
    )
    user_agent: str = Field(
        "PriceWarden/0.1 (+price compliance monitoring)", description="User-Agent header sent to sites."
    )
    proxy: SecretStr | None = Field(None, description="HTTP(S) proxy URL for all requests (may hold credentials).")
    render_fallback: bool = Field(
        True, description="Render a page in the browser when it looks like a product page but yields no price."
    )
    browser_concurrency: int = Field(8, ge=1, description="Pages rendered at once in the browser (per crawl process).")
    retry_backoff: float = Field(
        0.5, ge=0, description="First retry delay in seconds when a site gives no Retry-After; doubles per retry."
    )
    store_batch: int = Field(
        100, ge=1, description="Pages a crawl process buffers before writing their observations in one batch."
    )
    profiles_dir: Path | None = Field(
        None, description="Folder of site profile files; default <workspace>/profiles."
    )
    render_budget: float = Field(
        8.0, gt=0, description="Seconds one rendered page may take in all (from its browser tab opening: the DOM, "
        "waiting for a price, the HTML and the screenshot); what is not done by then is cut."
    )
    render_breaker_after: int = Field(
        3, ge=1, description="Failed renders in a row (timeout, error, no price) after which a site is rendered "
        "less often."
    )
    render_breaker_every: int = Field(
        10, ge=1, description="While a site's renders keep failing, one of this many of its pages is rendered "
        "(the others are render_skipped failures) until one gives a price again."
    )
    undecided_below: float = Field(
        0.35, ge=0, le=1, description="Confidence (0 to 1) under which the extraction takes no price: the page "
        "is undecided and waits in the review app's queue for a person to pick its price (0 = never for "
        "confidence alone)."
    )
    stall_timeout: float | None = Field(
        None, ge=0, description="Seconds a crawl process may go without finishing anything (a request, a render, "
        "a page stored or failed) before it is stopped, counted as a failed shard, and its unread pages are "
        "recorded as stalled failures. Default (unset): the longest a healthy process can go without finishing "
        "anything, worked out from the settings above: max(max_retry_after, 60) + download_timeout + render_budget "
        "+ 120 s (AutoThrottle's longest delay, starting Chromium, writing a batch), 458 s with the defaults; every "
        "attempt's end counts, so retries do not add up. A shorter value is taken, with a warning. 0 = never stopped."
    )


class ExtractSettings(BaseModel):
    """How sure an extracted price must be before it is acted on without a person."""

    auto_confidence: float = Field(
        0.98, ge=0, le=1, description="Calibrated confidence (the share of answers of that method and score that "
        "were right, on the development pages and on pages read blind) at or above which a crawled price may "
        "accuse a partner on its own; a violation on a price below it is confirmed first by a second reading "
        "(the amount the rendered page shows at its buy box) or by a person "
        "(docs/extraction-confidence.md)."
    )


class DetectionSettings(BaseModel):
    """How detection judges observations and manages violations."""

    resolve_after: int = Field(
        2, ge=1, description="Compliant observations in a row that resolve an open violation."
    )
    stale_after_days: int = Field(7, ge=1, description="Days without a valid observation before a listing is stale.")
    repeat_window_days: int = Field(
        90, ge=1, description="Rolling window (days) in which repeat offences move a partner up the ladder."
    )
    misreport_window_hours: int = Field(
        48, ge=1, description="A reported price is cross-checked with web observations within this many hours."
    )
    misreport_tolerance_pct: float = Field(
        1.0, ge=0, description="Percent difference between reported and observed price that is tolerated."
    )
    anomaly_contamination: float = Field(
        0.02, gt=0, lt=0.5, description="Share of price-history points the anomaly model treats as outliers."
    )
    anomaly_min_history: int = Field(5, ge=2, description="Observations a SKU/seller needs before it is modelled.")
    anomaly_drop_pct: float = Field(
        15.0, gt=0, description="A price drop of at least this percent against the baseline is a sudden drop."
    )
    anomaly_price_war_days: int = Field(
        7, ge=1, description="Window (days) in which sellers of one SKU dropping in sequence count as a price war."
    )
    anomaly_price_war_sellers: int = Field(
        3, ge=2, description="Distinct sellers of one SKU dropping within the window that make a price war."
    )
    confirm_per_run: int = Field(
        100, ge=1, description="Violations whose price waits for a second reading (the page rendered in Chromium) "
        "read per monitoring run, oldest first; the rest wait for the next run, counted in the run's result."
    )


class AlertSettings(BaseModel):
    """How alerts are routed, rendered and delivered."""

    review_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL of the review UI, used for links in messages."
    )
    max_attempts: int = Field(8, ge=1, description="Delivery attempts before an alert is marked failed.")
    backoff_seconds: float = Field(30.0, ge=0, description="First retry delay; doubles with each attempt.")
    backoff_max_seconds: float = Field(3600.0, ge=0, description="Longest delay between two attempts.")
    immediate_severity: Literal["low", "medium", "high", "critical"] = Field(
        "high", description="Violations at or above this severity alert at once; the rest go to the daily digest."
    )
    rate_limit_per_hour: int = Field(30, ge=1, description="Most immediate alerts one recipient gets per hour.")
    digest_hour: int = Field(8, ge=0, le=23, description="Local hour at which daily digests are sent.")
    ack_sla_hours: int = Field(
        48, ge=1, description="Hours an alert may stay unacknowledged before it escalates to the next level."
    )
    sending_lease_seconds: float = Field(
        300.0, gt=0, description="Seconds after which a message left in 'sending' (a crashed sender) is sent again "
        "with the same idempotency key (at-least-once; receivers de-duplicate on X-PriceWarden-Key)."
    )
    notice_deadline_days: int = Field(
        7, ge=1, description="Days a partner is given to comply in a formal notice."
    )
    routing_file: Path | None = Field(
        None, description="Routing table (region fallbacks, brand manager, SLA per severity); "
        "default <workspace>/routing.yaml."
    )


class ScheduleSettings(BaseModel):
    """Cron schedules of the Prefect deployments (``pricewarden schedule``)."""

    monitor_cron: str = Field("0 */4 * * *", description="When the monitor flow runs (cron, workspace time zone).")
    import_cron: str = Field("*/15 * * * *", description="When the partner-report inbox is imported.")
    digest_cron: str = Field("0 8 * * *", description="When daily digests are sent.")
    weekly_report_cron: str = Field("0 7 * * MON", description="When the weekly report is built.")


class ScaleSettings(BaseModel):
    """How a scheduled monitor run fans out over the workers of its Prefect work pool."""

    shards: int = Field(
        0, ge=0, description="Shards a monitor run deployed on a work pool splits its listings into; 0 = one per "
        "online worker of the pool (1 = no fan-out). Runs outside a work pool never fan out."
    )
    shard_deployment: str = Field(
        "monitor/monitor-shard", description="The deployment that crawls one shard (flow/deployment name)."
    )
    shard_retries: int = Field(2, ge=0, description="Times a shard run that failed or crashed is submitted again.")
    shard_timeout: float = Field(
        7200.0, gt=0, description="Seconds a shard run may take before it is given up and submitted again."
    )


class ReportSettings(BaseModel):
    """How partner price reports (files, payloads, feeds) are validated and imported."""

    max_age_days: int = Field(
        30, ge=1, description="A reported row older than this many days is rejected as too old."
    )
    future_skew_minutes: int = Field(
        60, ge=0, description="A reported row dated after now plus this many minutes is rejected as future."
    )
    chunk_rows: int = Field(
        10_000, ge=100, description="Rows validated and inserted per chunk when importing a report."
    )
    parallel_min_mb: int = Field(
        1024, ge=0, description="A report file at least this large (MB) is read and validated in a second process "
        "while the first writes (0: every file; on a machine with one core, never). The default, above "
        "max_file_mb, keeps every import in one process: on 2 shared cores the second process cost 1.2-1.3x "
        "the CPU (rows pickled between the processes) for no gain in wall time.",
    )
    max_cell_chars: int = Field(
        1000, ge=50, description="A report cell longer than this many characters rejects its row."
    )
    max_file_mb: int = Field(
        512, ge=1, description="Largest report file or feed (MB) accepted for import."
    )
    # Limits by what a file unpacks to: a small XLSX (a zip) or feed can hold far more than its size says.
    max_unpacked_mb: int = Field(
        1024, ge=1, description="Largest total size (MB) of an XLSX workbook's parts once unpacked."
    )
    max_part_mb: int = Field(
        256, ge=1, description="Largest unpacked size (MB) of an XLSX part that is read whole (shared strings, "
        "styles, workbook); sheets are streamed and limited by rows and cells instead.",
    )
    max_shared_strings: int = Field(
        1_000_000, ge=1, description="Most entries an XLSX sharedStrings part may hold (it is read whole).",
    )
    max_parts: int = Field(
        10_000, ge=1, description="Most parts (files inside the zip) an XLSX workbook may have.",
    )
    max_rows: int = Field(
        1_048_576, ge=1, description="Most rows (blank ones included) read from a report file or feed: Excel's own "
        "limit by default.",
    )
    max_columns: int = Field(
        1024, ge=1, description="Most columns a row of a report file may have.",
    )
    max_cells: int = Field(
        30_000_000, ge=1, description="Most cells read from a report file (rows times columns as stored).",
    )
    max_rejected_rows: int = Field(
        10_000, ge=1, description="A file with more rejected rows than this is refused as a whole (nothing "
        "stored): it is the wrong file or the wrong format, and its receipt would be all rejections.",
    )
    header_rows: int = Field(
        20, ge=1, description="Rows at the top of a file (and of each sheet) searched for the header row, below "
        "any title rows.",
    )


class WebSettings(BaseModel):
    """The review app (``pricewarden web``): sessions, sign-in throttling and pages."""

    secret_key: SecretStr | None = Field(
        None, description="Key that signs session cookies; every worker behind one proxy needs the same key. "
        "Default: a random key generated once and kept owner-only in <workspace>/.web-secret-key."
    )
    session_hours: float = Field(12.0, gt=0, description="Hours a sign-in lasts before the session expires.")
    secure_cookies: bool = Field(
        False, description="Always mark the session cookie Secure (otherwise only requests that arrived over HTTPS, "
        "directly or as the trusted proxy's X-Forwarded-Proto says, get a Secure cookie)."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins for one account within login_window_minutes that lock it."
    )
    login_max_failures_per_address: int = Field(
        20, ge=1, description="Failed sign-ins from one client address within login_window_minutes that lock it."
    )
    login_window_minutes: int = Field(
        15, ge=1, description="Minutes over which failed sign-ins are counted; a lock lifts as they age out."
    )
    body_timeout: float = Field(
        30.0, gt=0, description="Seconds the app waits in all for a request's body, plus one second for every 32 KB "
        "received (a large upload on a slow link still arrives; a client that trickles it does not hold the server): "
        "past it the app answers 408 and does nothing with the request."
    )
    page_size: int = Field(50, ge=5, le=500, description="Rows per page in the violations list.")
    snooze_max_days: int = Field(30, ge=1, description="Longest a violation may be snoozed, in days.")
    partner_jobs_waiting: int = Field(
        5, ge=1, description="Re-crawls and complaint crawls one partner may have waiting (queued or running) at "
        "once; a response or complaint beyond it is refused until they have run."
    )
    partner_requests_per_day: int = Field(
        100, ge=1, description="Responses and complaints one partner may send in 24 hours (each starts a crawl and "
        "messages a manager); beyond it they are refused until the oldest is a day old."
    )
    monitor_jobs: int = Field(
        50, ge=0, description="Portal jobs (the re-crawl after a partner's response, a complaint's crawl) a monitor "
        "run drains at most, after detection; what is left waits for the next run, the app's worker or "
        "`pricewarden jobs --run`. 0: the monitor leaves them to those."
    )


class ApiSettings(BaseModel):
    """The ``/api/v1`` JSON API: rate limits, idempotency keys and webhooks."""

    rate_limit_per_minute: int = Field(
        120, ge=1, description="Requests one API token may make per minute (a fixed window shared by every worker "
        "through the database); beyond it the API answers 429 with Retry-After."
    )
    idempotency_hours: int = Field(
        24, ge=1,
        description="Hours an Idempotency-Key and its answer are kept; a retry within them gets the same answer."
    )
    max_upload_mb: int = Field(
        32, ge=1, description="Largest report body (JSON or file) the API accepts, in MB; larger reports go through "
        "the inbox or `pricewarden report import`."
    )
    max_rows: int = Field(
        100_000, ge=1, description="Most rows one JSON report may carry (larger reports go as a CSV/XLSX file)."
    )
    webhook_timeout: float = Field(
        10.0, gt=0,
        description="Seconds a webhook receiver has to answer one delivery (a failure is retried by the outbox)."
    )


class NetworkSettings(BaseModel):
    """What everything that fetches (crawl, render, screenshots, discovery, feeds, ``extract URL``) may connect to.

    Only http(s) URLs are fetched; loopback, private, link-local (cloud metadata included), CGNAT,
    multicast and other non-public addresses are refused unless listed in ``allow``.
    """

    allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Non-public addresses that may be fetched anyway: a network (10.0.0.0/8, fd00::/8), an "
        "address (127.0.0.1, ::1), an address and port (127.0.0.1:8080, [::1]:8080) or a host name with or "
        "without a port (shop.internal, shop.internal:8443; whatever it resolves to). In the environment: a "
        "JSON list or comma-separated, e.g. PRICEWARDEN_NETWORK__ALLOW=127.0.0.1:8601,10.1.0.0/16.",
    )
    allow_private: bool = Field(
        False, description="Allow every non-public address (the address policy off; schemes are still limited "
        "to http and https). Only for a closed network whose every page and feed you trust; prefer 'allow'.",
    )
    max_redirects: int = Field(
        5, ge=0, le=20, description="Redirects a feed download or `extract URL` follows, each checked like the "
        "first URL (the crawl follows up to 10).",
    )
    feed_timeout: float = Field(
        300.0, gt=0, description="Total seconds a partner feed download may take, from connecting to its last "
        "byte (a feed that keeps sending slowly fails at this limit).",
    )

    @field_validator("allow", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part for part in text.replace(",", " ").split() if part]
        return value

    @field_validator("allow")
    @classmethod
    def _parse(cls, value: list[str]) -> list[str]:
        from crawlers.network.policy import parse_allow

        for entry in value:
            try:
                parse_allow(entry)
            except ValueError as exc:
                raise ValueError(f"network.allow: {exc}") from None
        return [entry.strip() for entry in value]


class PrefectSettings(BaseModel):
    """How PriceWarden runs Prefect (its own ephemeral server unless ``PREFECT_API_URL`` names one)."""

    startup_timeout: float = Field(
        120.0, gt=0, description="Seconds Prefect's ephemeral server may take to answer before a flow run gives "
        "up with a one-line error (Prefect's own default, 20 s, is too short on a busy machine). Sets "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS."
    )


class Settings(BaseSettings):
    """PriceWarden's settings; every field can be set as ``PRICEWARDEN_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    workspace: Path = Field(
        Path("workspace"), description="Workspace folder: database, evidence, policies, profiles, inbox, reports."
    )
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the database; default a SQLite file <workspace>/pricewarden.db. "
        "Use postgresql+psycopg://user@host/db for teams and scale.",
    )
    evidence_url: str | None = Field(
        None, description="Where evidence (HTML snapshots, screenshots) is stored: a folder or any fsspec URL; "
        "default <workspace>/evidence."
    )
    evidence_codec: Literal["zstd", "gzip"] = Field(
        "zstd", description="Compression of stored HTML snapshots: zstd (fast, small) or gzip (readable by any "
        "tool); blobs of either are read whatever this says."
    )
    evidence_compress_level: int = Field(
        1, ge=1, le=9, description="Compression level for stored HTML snapshots (1 = fastest; 9 = smallest)."
    )
    browser_path: Path | None = Field(
        None,
        description="Chromium executable for rendering; default the system's headless shell "
        "(/usr/lib/chromium/chromium-headless-shell), else /usr/bin/chromium, "
        "else the browser installed by `playwright install chromium`.",
    )
    timezone: str = Field("UTC", description="Default IANA time zone for schedules, reports and policy files.")
    region_modes: dict[str, Mode] = Field(
        default_factory=lambda: dict[str, Mode]({"US": "map", "EU": "recommended", "CN": "recommended"}),
        description="Default policy mode per region when a policy scope does not say (map, recommended, "
        "maximum, observe). Your counsel sets these; see 'Legal use' in docs/policies.md.",
    )
    log_level: str = Field("INFO", description="Log level for PriceWarden's own loggers.")
    crawl: CrawlSettings = Field(default_factory=CrawlSettings, description="Crawler settings.")
    extract: ExtractSettings = Field(default_factory=ExtractSettings, description="Price extraction settings.")
    detection: DetectionSettings = Field(default_factory=DetectionSettings, description="Detection settings.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert settings.")
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings, description="Flow schedules.")
    scale: ScaleSettings = Field(default_factory=ScaleSettings, description="Monitor fan-out over workers.")
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Partner report import settings."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="Review app settings.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The /api/v1 JSON API.")
    network: NetworkSettings = Field(
        default_factory=NetworkSettings, description="Network policy of everything that fetches."
    )
    prefect: PrefectSettings = Field(default_factory=PrefectSettings, description="Prefect settings.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        workspace = Path(os.environ.get(ENV_PREFIX + "WORKSPACE", "workspace"))
        toml_file = workspace / WORKSPACE_FILE
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    # Derived locations -------------------------------------------------------------------------

    @property
    def database(self) -> str:
        """The effective database URL (a secret: never log it)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.workspace / 'pricewarden.db').resolve()}"

    @property
    def evidence(self) -> str:
        """The effective evidence location (folder path or fsspec URL)."""
        return self.evidence_url or str((self.workspace / "evidence").resolve())

    @property
    def profiles_dir(self) -> Path:
        """Folder of site profile files."""
        return self.crawl.profiles_dir or self.workspace / "profiles"

    @property
    def policies_dir(self) -> Path:
        """Folder of the workspace's policy files."""
        return self.workspace / "policies"

    @property
    def inbox_dir(self) -> Path:
        """Folder where partner report files are dropped for import."""
        return self.workspace / "inbox"

    @property
    def reports_dir(self) -> Path:
        """Folder where HTML/CSV/XLSX reports and receipts are written."""
        return self.workspace / "reports"

    @property
    def zone(self) -> ZoneInfo:
        """The default time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def chromium(self) -> str | None:
        """Path of the Chromium to launch, or ``None`` to let Playwright use its own download."""
        if self.browser_path is not None:
            if not self.browser_path.exists():
                raise ConfigError(f"PRICEWARDEN_BROWSER_PATH {self.browser_path} does not exist")
            return str(self.browser_path)
        for candidate in SYSTEM_BROWSERS:
            if Path(candidate).exists():
                return candidate
        # None: Playwright's own browser (`playwright install chromium`, whose headless shell it uses).
        return shutil.which("chromium-headless-shell") or shutil.which("chromium")

    def redacted(self) -> dict[str, Any]:
        """The effective settings as plain data with every secret replaced by ``'**********'``.

        Every URL among them (database, evidence, proxy, review links) goes through
        :func:`pricewarden.redaction.redact_url`: passwords, ``?token=``/``?key=``-style parameters.
        """
        data = self.model_dump(mode="json")
        data["database_url"] = redact_url(self.database)
        data["evidence_url"] = redact_url(self.evidence)
        if self.web.secret_key is not None:
            data["web"]["secret_key"] = "**********"  # noqa: S105 (the redaction mark)
        if self.crawl.proxy is not None:
            data["crawl"]["proxy"] = redact_url(self.crawl.proxy.get_secret_value())

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            return redact_url(value) if isinstance(value, str) and "://" in value else value

        redacted: dict[str, Any] = walk(data)
        return redacted


def redact_url(url: str) -> str:
    """A URL with its secrets hidden (:func:`pricewarden.redaction.redact_url`, the one place that decides)."""
    from pricewarden.redaction import redact_url as redact

    return redact(url)


# PRICEWARDEN_* environment variables that are not settings: the demo's clock, the workers' code
# folder, the tests' own switches and development set. Any other PRICEWARDEN_* name is a typo.
OTHER_ENV = ("PRICEWARDEN_CLOCK_OFFSET", "PRICEWARDEN_CODE_DIR", "PRICEWARDEN_REALPAGES", "PRICEWARDEN_TEST")


def _setting_names(model: type[BaseModel], prefix: str = "") -> tuple[set[str], set[str]]:
    """Every setting's dotted name, and the names of the settings that are open maps (any key below them)."""
    names: set[str] = set()
    maps: set[str] = set()
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            inner, inner_maps = _setting_names(annotation, f"{prefix}{name}.")
            names |= inner
            maps |= inner_maps
            continue
        names.add(prefix + name)
        if getattr(annotation, "__origin__", None) is dict:
            maps.add(prefix + name)
    return names, maps


def _suggest(name: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_settings() -> list[str]:
    """One line per unknown key in ``<workspace>/pricewarden.toml`` and per unknown ``PRICEWARDEN_*`` variable."""
    names, maps = _setting_names(Settings)
    groups = {n.rsplit(".", 1)[0] for n in names if "." in n}
    problems: list[str] = []
    env_names = {ENV_PREFIX + n.upper().replace(".", "__"): n for n in names}
    for key in sorted(os.environ):
        upper = key.upper()
        if not upper.startswith(ENV_PREFIX) or upper.startswith(OTHER_ENV) or upper in env_names:
            continue
        if any(upper.startswith(ENV_PREFIX + m.upper().replace(".", "__") + "__") for m in maps):
            continue
        problems.append(f"unknown setting {key} in the environment{_suggest(upper, set(env_names))}")
    workspace = Path(os.environ.get(ENV_PREFIX + "WORKSPACE", "workspace"))
    toml_file = workspace / WORKSPACE_FILE
    if toml_file.is_file():
        import tomllib

        try:
            data = tomllib.loads(toml_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return [*problems, f"{toml_file}: not valid TOML: {exc}"]

        def walk(table: dict[str, Any], prefix: str) -> None:
            for key, value in table.items():
                dotted = prefix + key
                if dotted in maps:
                    continue
                if isinstance(value, dict) and dotted in groups:
                    walk(value, dotted + ".")
                elif dotted not in names:
                    problems.append(f"{toml_file}: unknown setting {dotted}{_suggest(dotted, names | groups)}")

        walk(data, "")
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; call ``get_settings.cache_clear()`` after changing the env.

    An unknown key in ``pricewarden.toml`` or an unknown ``PRICEWARDEN_*`` variable is a
    :class:`ConfigError` that names it and the closest known setting (a typo is never ignored).
    """
    unknown = unknown_settings()
    if unknown:
        raise ConfigError("; ".join(unknown))
    try:
        return Settings()
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(f"invalid settings: {exc}") from exc
