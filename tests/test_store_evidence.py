"""Evidence is content-addressed, stored once, verified on read, in a folder or at an fsspec URL."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from pricewarden.errors import NotFoundError, StoreError
from store import Evidence, EvidenceStore, session_scope


def test_put_is_content_addressed_and_stored_once(db: Engine, tmp_path: Path) -> None:
    store = EvidenceStore(str(tmp_path / "ev"))
    page = b"<html>" + "é".encode() * 50_000 + b"</html>"
    with session_scope(db) as s:
        first = store.put(s, page, kind="html", content_type="text/html")
        second = store.put(s, page, kind="html", content_type="text/html")
    assert first == second == hashlib.sha256(page).hexdigest()
    assert store.get(first) == page
    files = list((tmp_path / "ev").rglob("*.gz"))
    assert len(files) == 1
    assert len(files[0].read_bytes()) < len(page) / 10  # compressed at rest
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 1
        row = s.get(Evidence, first)
        assert row is not None
        assert (row.kind, row.size, row.compressed) == ("html", len(page), True)


def test_tampered_evidence_is_detected(tmp_path: Path) -> None:
    store = EvidenceStore(str(tmp_path))
    sha = store.write(b"original bytes")
    blob = next(tmp_path.rglob("*.gz"))
    blob.write_bytes(gzip.compress(b"tampered bytes"))
    with pytest.raises(StoreError, match="corrupt"):
        store.get(sha)


def test_missing_evidence_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no evidence"):
        EvidenceStore(str(tmp_path)).get("0" * 64)


def test_any_fsspec_url_works() -> None:
    store = EvidenceStore("memory://pricewarden-test/evidence")
    sha = store.write(b"\x89PNG screenshot", compress=False)
    assert store.get(sha) == b"\x89PNG screenshot"
    assert store.location(sha, False).startswith("memory://")
