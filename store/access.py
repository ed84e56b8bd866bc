"""Who may see what: the one place that scopes data by user.

- admin and brand manager: every partner;
- channel manager: the partners whose responsible channel manager they are, plus partners in their
  regions that have no responsible manager (the region fallback);
- partner account: its own partner only (an account with no partner, or inactive, sees nothing).

Every query a UI or API serves goes through :func:`visible_partner_ids` / :func:`scope` so that
no view can forget the rule.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, cast, event, false, select, true
from sqlalchemy.orm import Session

from pricewarden.errors import AccessDenied, NotFoundError, PartnerInactive
from store.models import Partner, PartnerStatus, Role, User, Violation

T = TypeVar("T", bound=tuple[Any, ...])


_CACHE = "pricewarden.read_cache"


def read_cache(session: Session) -> dict[Any, Any]:
    """Answers that stay true while ``session`` changes nothing (a web request reads the same scope several
    times): forgotten at every flush, commit and rollback, so a change is never answered from before it."""
    cache: dict[Any, Any] = session.info.setdefault(_CACHE, {})
    return cache


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_CACHE, None)


def visible_partner_ids(session: Session, user: User) -> set[int] | None:
    """The ids of the partners ``user`` may see; ``None`` means all partners."""
    if not user.active:
        return set()
    if user.role in (Role.ADMIN, Role.BRAND_MANAGER):
        return None
    if user.role == Role.PARTNER:
        return {user.partner_id} if user.partner_id is not None else set()
    if user.role == Role.CHANNEL_MANAGER:
        key = ("visible_partner_ids", user.id, tuple(sorted(str(r) for r in user.regions or [])))
        cache = read_cache(session)
        if key not in cache:
            rows = session.execute(select(Partner.id, Partner.channel_manager_id, regions_text(Partner.regions))).all()
            decoded = _Decoded()
            cache[key] = frozenset(pid for pid, manager_id, partner_regions in rows
                                   if _manages(user, manager_id, decoded[partner_regions]))
            cache[("all_partner_ids",)] = frozenset(pid for pid, _manager, _regions in rows)
        return set(cache[key])
    return set()


def regions_text(column: Any) -> Any:
    """A JSON list column read as its text: a thousand partners mostly share a few lists of regions, so each
    distinct text is decoded once (:class:`_Decoded`) rather than each row's value by the column type."""
    return cast(column, String)


class _Decoded(dict[str | None, list[Any]]):
    """JSON texts → their values, each decoded on first use."""

    def __missing__(self, raw: str | None) -> list[Any]:
        value: list[Any] = json.loads(raw) if raw else []
        self[raw] = value
        return value


def _manages(user: User, manager_id: int | None, partner_regions: list[Any] | None) -> bool:
    """Whether channel manager ``user`` sees a partner: theirs, or one with no manager in their regions."""
    return manager_id == user.id or (manager_id is None and bool(set(user.regions or []) & set(partner_regions or [])))


def partner_filter(session: Session, user: User, column: Any) -> ColumnElement[bool]:
    """A WHERE clause restricting ``column`` (a partner id column) to what ``user`` may see.

    Rows with no partner (e.g. an unauthorised marketplace seller) are visible only to users who
    see all partners: they concern the brand, not one partner.
    """
    ids = visible_partner_ids(session, user)
    if ids is None:
        return true()
    if not ids:
        return false()
    every = read_cache(session).get(("all_partner_ids",))
    if every is not None and len(ids) > len(every) // 2:
        # A manager who sees most partners (the region fallback): name the few hidden ones, not a thousand
        # visible ones (a long IN list costs the database more to plan than the query to run). Partners
        # added since the scope was read have higher ids and stay hidden, as with the list of visible ids.
        # ``+ 0`` on SQLite: an index on the partner would not narrow most of them, so SQLite must not choose
        # it. PostgreSQL weighs it rightly, and needs it to read a partner's violations when sorting by partner.
        hidden = sorted(every - ids)
        bounded = column + 0 if session.get_bind().dialect.name == "sqlite" else column
        clause: ColumnElement[bool] = bounded.between(min(ids), max(ids))
        return and_(clause, column.not_in(hidden)) if hidden else clause
    visible: ColumnElement[bool] = column.in_(sorted(ids))
    return visible


def scope(session: Session, user: User, query: Select[T], column: Any) -> Select[T]:
    """``query`` restricted to the partners ``user`` may see (``column`` is its partner id column)."""
    return query.where(partner_filter(session, user, column))


def check_partner(session: Session, user: User, partner_id: int | None) -> None:
    """Raise :class:`AccessDenied` unless ``user`` may see data of ``partner_id``."""
    ids = visible_partner_ids(session, user)
    if ids is None:
        return
    if partner_id is None or partner_id not in ids:
        raise AccessDenied(f"user {user.username!r} ({user.role}) may not see data of that partner")


def sees_violation(session: Session, user: User, violation: Violation) -> bool:
    """Whether ``user`` may see ``violation``: its partner is in scope (a violation with no partner only
    for those who see every partner), and a partner account sees only ``kind=violation`` in the
    modes that allow telling a partner (map, maximum), never the brand's own analysis."""
    if user.role == Role.CHANNEL_MANAGER and user.active:
        # One partner to check: its row, not the scope of every partner (a violation page asks this for
        # each manager who could take the violation).
        partner = session.get(Partner, violation.partner_id) if violation.partner_id is not None else None
        return partner is not None and _manages(user, partner.channel_manager_id, partner.regions)
    ids = visible_partner_ids(session, user)
    if ids is not None and (violation.partner_id is None or violation.partner_id not in ids):
        return False
    if user.role == Role.PARTNER:
        return violation.kind == "violation" and violation.mode in ("map", "maximum")
    return True


def get_violation_for_user(session: Session, user: User, violation_id: int) -> Violation:
    """Violation ``violation_id`` if ``user`` may see it; otherwise :class:`NotFoundError`, exactly as if it
    did not exist (a page outside the scope must give no hint that it exists)."""
    violation = session.get(Violation, violation_id)
    if violation is None or not sees_violation(session, user, violation):
        raise NotFoundError(f"violation {violation_id} does not exist")
    return violation


def get_partner_for_user(session: Session, user: User, code: str) -> Partner:
    """Partner ``code`` if ``user`` may see it; otherwise :class:`NotFoundError` (no hint that it exists)."""
    from sqlalchemy import select

    partner = session.scalars(select(Partner).where(Partner.code == code)).first()
    ids = visible_partner_ids(session, user)
    if partner is None or (ids is not None and partner.id not in ids):
        raise NotFoundError(f"partner {code!r} does not exist")
    return partner


def is_manager(user: User) -> bool:
    """True for roles that act on violations (not partner accounts)."""
    return user.role in (Role.ADMIN, Role.BRAND_MANAGER, Role.CHANNEL_MANAGER) and user.active


def check_standing(partner: Partner) -> Partner:
    """``partner`` if it is authorised; :class:`PartnerInactive` (its status) when suspended or terminated.

    Checked each time a partner's account or API token is used, so that a suspension takes effect at once.
    """
    if partner.status != PartnerStatus.AUTHORISED:
        raise PartnerInactive(partner.code, str(partner.status))
    return partner


__all__ = ["check_partner", "check_standing", "get_partner_for_user", "get_violation_for_user", "is_manager",
           "partner_filter", "read_cache", "regions_text", "scope", "sees_violation", "visible_partner_ids"]
