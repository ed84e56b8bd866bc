"""The store: SQLAlchemy 2 models, sessions and Alembic migrations (SQLite by default, PostgreSQL at scale)."""

from store import rollups as _rollups  # noqa: F401  (its flush listener marks the rollups stale)
from store._types import Amount, DigestKey, UTCDateTime, utcnow
from store.audit import audit, audit_batch, audit_many
from store.db import (
    bulk_insert,
    check_store,
    current_revision,
    downgrade,
    engine_for,
    get_engine,
    insert_columns,
    make_engine,
    require_schema,
    session_scope,
    upgrade,
)
from store.evidence import EvidenceStore, sha256_of
from store.installation import installation_id
from store.models import (
    AlertDelivery,
    AnomalyModel,
    ApiIdempotency,
    ApiRateWindow,
    ApiToken,
    AuditLog,
    Availability,
    Base,
    Complaint,
    ComplianceDay,
    CrawlDay,
    CrawlFailure,
    CrawlRun,
    DeliveryStatus,
    DetectionRun,
    Evidence,
    FindingKind,
    Installation,
    Listing,
    LoginAttempt,
    Observation,
    Partner,
    PartnerResponse,
    PartnerStatus,
    PolicyReceipt,
    PolicyVersion,
    PortalJob,
    Product,
    ReportBatch,
    ReportRejection,
    Role,
    RollupState,
    Source,
    Tier,
    User,
    Violation,
    ViolationStatus,
    Visibility,
    Webhook,
)
from store.secrets import hash_secret, redact_apprise_url, verify_secret

__all__ = [
    "AlertDelivery", "Amount", "AnomalyModel", "ApiIdempotency", "ApiRateWindow", "ApiToken",
    "AuditLog", "Availability", "Base", "Complaint", "ComplianceDay", "CrawlDay", "CrawlFailure",
    "CrawlRun", "DeliveryStatus", "DetectionRun", "DigestKey", "Evidence", "EvidenceStore", "FindingKind",
    "Installation", "Listing", "LoginAttempt", "Observation", "Partner", "PartnerResponse", "PartnerStatus",
    "PolicyReceipt", "PolicyVersion", "PortalJob", "Product", "ReportBatch",
    "ReportRejection", "Role", "RollupState", "Source",
    "Tier", "UTCDateTime", "User", "Violation", "ViolationStatus", "Visibility", "Webhook", "audit", "audit_batch",
    "audit_many",
    "bulk_insert",
    "check_store", "current_revision", "downgrade", "engine_for", "get_engine", "hash_secret", "insert_columns",
    "installation_id",
    "make_engine",
    "redact_apprise_url", "require_schema", "session_scope", "sha256_of", "upgrade", "utcnow", "verify_secret",
]
