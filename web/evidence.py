"""Evidence as the review app shows it: each blob read back and its SHA-256 checked when it is opened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pricewarden.errors import NotFoundError, StoreError
from store import Evidence, EvidenceStore
from store.evidence import sha256_of


@dataclass(frozen=True)
class EvidenceCheck:
    """One piece of evidence: its SHA-256, what it is, and whether the stored bytes still match it."""

    sha256: str
    kind: str
    status: str  # verified | mismatch | missing
    size: int = 0
    content_type: str = "application/octet-stream"


def evidence_store(app_state: Any) -> EvidenceStore:
    """The app's evidence store (made once per app from its settings)."""
    store: EvidenceStore | None = getattr(app_state, "evidence", None)
    if store is None:
        settings = app_state.settings
        store = app_state.evidence = EvidenceStore(settings.evidence, compress_level=settings.evidence_compress_level,
                                                   codec=settings.evidence_codec)
    return store


def read_checked(store: EvidenceStore, row: Evidence | None, sha: str, kind: str) -> tuple[EvidenceCheck, bytes | None]:
    """The blob ``sha`` and its check; the bytes are ``None`` when they are missing or no longer match."""
    content_type = row.content_type if row is not None else "application/octet-stream"
    try:
        data = store.get(sha)
    except NotFoundError:
        return EvidenceCheck(sha, kind, "missing", 0, content_type), None
    except StoreError:  # the bytes on disk no longer hash to their name
        return EvidenceCheck(sha, kind, "mismatch", 0, content_type), None
    status = "verified" if sha256_of(data) == sha else "mismatch"
    return EvidenceCheck(sha, kind, status, len(data), content_type), data if status == "verified" else None


__all__ = ["EvidenceCheck", "evidence_store", "read_checked"]
