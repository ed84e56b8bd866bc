"""Secrets at rest: hashed passwords and API tokens (argon2), redacted Apprise URLs."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pricewarden.redaction import REDACTED, redact_notification_url

_HASHER = PasswordHasher()
__all__ = ["REDACTED", "hash_secret", "redact_apprise_url", "target_ref", "verify_secret"]


def hash_secret(secret: str) -> str:
    """An argon2id hash of a password or API token; the secret itself is never stored."""
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``stored_hash``."""
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def redact_apprise_url(url: str) -> str:
    """An Apprise URL reduced to its scheme and host: ``slack://**********``, ``mailto://smtp.example.com/**********``.

    Apprise URLs carry tokens in the user, password, path and query, so only scheme and host are kept
    (:func:`pricewarden.redaction.redact_notification_url`).
    """
    return redact_notification_url(url)


def target_ref(index: int, url: str) -> str:
    """A stable, non-secret reference to one Apprise URL of a recipient: index and short hash."""
    return f"{index}:{hashlib.sha256(url.encode()).hexdigest()[:12]}"
