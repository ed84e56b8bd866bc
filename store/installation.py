"""The installation's identity: a random id made once per database, told to nobody but mixed into keys.

Idempotency keys (``X-PriceWarden-Key``) were the SHA-256 of (violation id, kind, stage, recipient,
target): two installations sending to one receiver (a shared Slack webhook, a ticketing system that
drops repeated keys) sent the same key for their own violation 1, and the second real alert was
dropped as a duplicate. The installation id makes every key unique to its installation.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store._types import utcnow
from store.models import Installation

__all__ = ["ensure_installation", "installation_id"]

_CACHE = "pricewarden.installation_id"


def installation_id(session: Session) -> str:
    """This database's installation id, made (once, race-safe) when it has none yet."""
    cached = session.info.get(_CACHE)
    if cached:
        return str(cached)
    value = session.scalar(select(Installation.installation_id).where(Installation.id == 1))
    if value is None:
        made = secrets.token_hex(16)
        try:
            with session.begin_nested():
                session.add(Installation(id=1, installation_id=made, created_at=utcnow()))
            value = made
        except IntegrityError:  # another process made it between our look and our insert
            value = session.scalar(select(Installation.installation_id).where(Installation.id == 1))
    session.info[_CACHE] = value
    return str(value)


def ensure_installation(engine: Engine) -> str:
    """Make the installation id now (with the database: ``pricewarden init``, ``db upgrade``); returns it."""
    from store.db import session_scope

    with session_scope(engine) as session:
        return installation_id(session)
