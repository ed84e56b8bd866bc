"""Natural keys: what makes a stored row the same row again (a re-crawl, a re-imported report), kept compact."""

from __future__ import annotations

import hashlib

KEY_BYTES = 16
"""Bytes of a natural key: the first 128 bits of a SHA-256. Among n keys the chance that any two are equal is
about n² / 2¹²⁹: 1.5e-21 for a billion observations, 1.5e-15 for a trillion."""


def digest_key(text: str) -> bytes:
    """The natural key of ``text`` (a row's identity written out): the first ``KEY_BYTES`` of its SHA-256."""
    return hashlib.sha256(text.encode()).digest()[:KEY_BYTES]
