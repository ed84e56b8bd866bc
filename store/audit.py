"""The audit log: every status change and administrative action, with who, when and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pricewarden.identifiers import check_actor
from store.models import AuditLog


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditLog:
    """Add one audit entry to ``session`` (committed with the change it records).

    ``actor`` must be printable (:func:`pricewarden.identifiers.check_actor`): a NUL byte or a terminal
    escape sequence given as ``--by`` never reaches the log.
    """
    entry = AuditLog(
        actor=check_actor(actor),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before or {},
        after=after or {},
        reason=reason,
    )
    session.add(entry)
    return entry
