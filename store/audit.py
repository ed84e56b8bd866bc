"""The audit log: every status change and administrative action, with who, when and why."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
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


def audit_many(session: Session, *, actor: str, entries: list[dict[str, Any]]) -> None:
    """Add many audit entries by ``actor`` in one statement (``entries``: the keyword arguments of
    :func:`audit` but ``actor``), for a run that changes thousands of rows at once."""
    if not entries:
        return
    actor = check_actor(actor)
    rows = [{"actor": actor, "action": e["action"], "entity_type": e["entity_type"], "entity_id": str(e["entity_id"]),
             "before": e.get("before") or {}, "after": e.get("after") or {}, "reason": e.get("reason")}
            for e in entries]
    session.flush()
    from store.db import bulk_insert

    bulk_insert(session.connection(), cast(Table, AuditLog.__table__), rows)


def audit_batch(session: Session, *, actor: str, action: str, entity_type: str, entity_ids: list[Any],
                before: dict[str, Any], after: dict[str, Any], reasons: list[str | None]) -> None:
    """Add entries by ``actor`` of one ``action`` on many entities in one statement, by column: one entry
    per entity id, each with its reason, all with the same ``before`` and ``after`` (serialised once)."""
    if not entity_ids:
        return
    actor = check_actor(actor)
    count = len(entity_ids)
    session.flush()
    from store.db import insert_columns

    insert_columns(session.connection(), cast(Table, AuditLog.__table__), {
        "actor": [actor] * count, "action": [action] * count, "entity_type": [entity_type] * count,
        "entity_id": [str(i) for i in entity_ids], "before": [before] * count, "after": [after] * count,
        "reason": reasons})
