"""Evidence is content-addressed, stored once, verified on read, in a folder or at an fsspec URL."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import zstandard
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
    files = list((tmp_path / "ev").rglob("*.zst"))
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
    blob = next(tmp_path.rglob("*.zst"))
    blob.write_bytes(zstandard.ZstdCompressor().compress(b"tampered bytes"))
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


def test_gzip_blobs_stay_readable_whatever_the_codec(tmp_path: Path) -> None:
    page = b"<html>" + b"<p>gzip era</p>" * 5000 + b"</html>"
    old = EvidenceStore(str(tmp_path), codec="gzip")
    sha = old.write(page)
    blob = next(tmp_path.rglob("*.gz"))
    assert gzip.decompress(blob.read_bytes()) == page  # any gzip tool reads it
    assert old.location(sha, True).endswith(".gz")
    new = EvidenceStore(str(tmp_path))  # zstd by default
    assert new.get(sha) == page and new.exists(sha)
    assert new.write(b"other page") != sha and len(list(tmp_path.rglob("*.zst"))) == 1


def test_a_write_with_the_callers_sha_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = EvidenceStore(str(tmp_path))
    data = b"snapshot bytes"
    sha = store.write(data, sha=hashlib.sha256(data).hexdigest())
    assert store.get(sha) == data
    assert not list(tmp_path.rglob("*.tmp-*"))  # the temporary file was renamed into place


def test_an_unknown_codec_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unknown evidence codec"):
        EvidenceStore(str(tmp_path), codec="lz4")  # type: ignore[arg-type]
