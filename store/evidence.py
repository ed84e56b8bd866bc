"""Content-addressed evidence: HTML snapshots, screenshots, receipts, each named by its SHA-256.

Blobs live under ``<evidence>/<sha[:2]>/<sha>[.zst|.gz]`` in a folder by default or at any fsspec URL
(``s3://bucket/prefix``, ``memory://...``) at scale. The SHA-256 is taken over the original bytes,
so a blob can be proven unchanged whatever its compression; identical content is stored once.

Compression: Zstandard by default (level 1 compresses a 430 KB page in ~0.8 ms against ~2 ms for
gzip level 1, and smaller); ``gzip`` is the choice for tools that only read gzip. Blobs of either
codec are read back whatever the current setting.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from typing import Any, Literal

import fsspec
import zstandard
from sqlalchemy.orm import Session

from pricewarden.errors import NotFoundError, StoreError
from pricewarden.files import FILE_MODE, make_private_dir
from pricewarden.identifiers import check_evidence_key
from store.models import Evidence

Codec = Literal["zstd", "gzip"]
_SUFFIX = {"zstd": ".zst", "gzip": ".gz"}
_STORED_AS = (".zst", ".gz", "")  # every way a blob may be on disk: either codec, or uncompressed


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _private(path: str, flags: int) -> int:
    """``open``'s opener for an owner-only (0600) file, whatever the umask."""
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def _decompress(suffix: str, raw: bytes) -> bytes:
    if suffix == ".zst":
        return zstandard.ZstdDecompressor().decompress(raw)
    if suffix == ".gz":
        return gzip.decompress(raw)
    return raw


class EvidenceStore:
    """Put and get evidence blobs by SHA-256; the database keeps one ``Evidence`` row per blob."""

    def __init__(self, url: str, *, compress_level: int = 1, codec: Codec = "zstd") -> None:
        self.url = url.rstrip("/")
        # Compression of snapshots was the largest single cost per page of a crawl: level 1 of
        # the fastest codec, for a few percent more bytes.
        self.compress_level = compress_level
        if codec not in _SUFFIX:
            raise StoreError(f"unknown evidence codec {codec!r}; use one of {sorted(_SUFFIX)}")
        self.codec: Codec = codec
        fs, root = fsspec.core.url_to_fs(self.url)
        self._fs: Any = fs
        self._root: str = root
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self._protocol: str = protocol
        self._local = protocol in ("file", "local")
        self._dirs: set[str] = set()  # folders known to exist (a crawl writes thousands of blobs)
        self._local_state = threading.local()  # one zstd context per thread (a context is not thread-safe)

    @classmethod
    def from_settings(cls) -> EvidenceStore:
        """The evidence store configured by ``PRICEWARDEN_EVIDENCE_URL`` (default ``<workspace>/evidence``)."""
        from pricewarden.settings import get_settings

        settings = get_settings()
        return cls(settings.evidence, compress_level=settings.evidence_compress_level,
                   codec=settings.evidence_codec)

    def _path(self, sha: str, suffix: str) -> str:
        # Only a SHA-256 names a blob: "../.." or any other string never becomes a path.
        check_evidence_key(sha)
        return f"{self._root}/{sha[:2]}/{sha}{suffix}"

    def location(self, sha: str, compressed: bool) -> str:
        """The URL or path where the blob ``sha`` is kept (written with the current codec)."""
        path = self._path(sha, _SUFFIX[self.codec] if compressed else "")
        return path if self._protocol == "file" else f"{self._protocol}://{path}"

    def _compress(self, data: bytes) -> bytes:
        if self.codec == "zstd":
            compressor = getattr(self._local_state, "zstd", None)
            if compressor is None:
                compressor = self._local_state.zstd = zstandard.ZstdCompressor(level=self.compress_level)
            result: bytes = compressor.compress(data)
            return result
        return gzip.compress(data, compresslevel=self.compress_level, mtime=0)

    def write(self, data: bytes, *, compress: bool = True, sha: str | None = None) -> str:
        """Write ``data`` (idempotently) and return its SHA-256; no database row.

        ``sha``: the caller's SHA-256 of ``data`` when it has one already (it is not taken twice).
        """
        sha = sha or sha256_of(data)
        path = self._path(sha, _SUFFIX[self.codec] if compress else "")
        folder = path.rsplit("/", 1)[0]
        if self._local:
            if os.path.exists(path):
                return sha
            if folder not in self._dirs:
                make_private_dir(folder)  # evidence is owner-only: 0700 folders, 0600 blobs
                self._dirs.add(folder)
            tmp = f"{path}.tmp-{os.getpid()}"
            with open(tmp, "wb", opener=_private) as handle:
                handle.write(self._compress(data) if compress else data)
            os.replace(tmp, path)  # atomic: a reader never sees half a blob
            return sha
        if not self._fs.exists(path):
            self._fs.makedirs(folder, exist_ok=True)
            tmp = f"{path}.tmp-{sha[:8]}"
            with self._fs.open(tmp, "wb") as handle:
                handle.write(self._compress(data) if compress else data)
            self._fs.mv(tmp, path)
        return sha

    def put(
        self,
        session: Session,
        data: bytes,
        *,
        kind: str,
        content_type: str = "application/octet-stream",
        compress: bool = True,
    ) -> str:
        """Store ``data`` once and record it; returns its SHA-256 (the same for identical bytes)."""
        sha = self.write(data, compress=compress)
        if session.get(Evidence, sha) is None:
            session.add(
                Evidence(
                    sha256=sha,
                    kind=kind,
                    location=self.location(sha, compress),
                    content_type=content_type,
                    size=len(data),
                    compressed=compress,
                )
            )
            session.flush()
        return sha

    def get(self, sha: str) -> bytes:
        """The bytes of blob ``sha``, verified against their SHA-256 (any codec it was written with)."""
        for suffix in _STORED_AS:
            path = self._path(sha, suffix)
            if self._fs.exists(path):
                with self._fs.open(path, "rb") as handle:
                    raw: bytes = handle.read()
                data = _decompress(suffix, raw)
                if sha256_of(data) != sha:
                    raise StoreError(f"evidence {sha} is corrupt: its bytes no longer match their SHA-256")
                return data
        raise NotFoundError(f"no evidence with SHA-256 {sha} in {self.url}")

    def exists(self, sha: str) -> bool:
        """True when blob ``sha`` is stored."""
        return any(self._fs.exists(self._path(sha, s)) for s in _STORED_AS)
