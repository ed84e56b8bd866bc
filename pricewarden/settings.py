"""One typed settings tree, read from ``PRICEWARDEN_*`` environment variables and the workspace file.

Precedence, highest first: values passed in code, environment (``PRICEWARDEN_CRAWL__CONCURRENCY=8``
for nested groups), ``<workspace>/pricewarden.toml``, defaults. Every field has a description;
``pricewarden config show`` prints the effective values with secrets redacted, and a test checks
that every field is documented in the README.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
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
    max_cell_chars: int = Field(
        1000, ge=50, description="A report cell longer than this many characters rejects its row."
    )
    max_file_mb: int = Field(
        512, ge=1, description="Largest report file or feed (MB) accepted for import."
    )


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
        "maximum, observe). Your counsel sets these; see 'Legal use' in the README.",
    )
    log_level: str = Field("INFO", description="Log level for PriceWarden's own loggers.")
    crawl: CrawlSettings = Field(default_factory=CrawlSettings, description="Crawler settings.")
    detection: DetectionSettings = Field(default_factory=DetectionSettings, description="Detection settings.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert settings.")
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings, description="Flow schedules.")
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Partner report import settings."
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; call ``get_settings.cache_clear()`` after changing the env."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(f"invalid settings: {exc}") from exc
