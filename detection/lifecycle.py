"""The violation lifecycle: pure decisions over a breach's observations, and the people-facing store API.

One key (rule, SKU, partner or seller, listing) has one *episode* open at a time. An episode opens
on the first breach, is extended while the breach persists, resolves by itself after
``detection.resolve_after`` compliant observations in a row, and a later breach opens a new episode
as a repeat (a new row, ``repeat_number + 1``). People acknowledge, dismiss (false positive, reason
required) or resolve through :func:`acknowledge`, :func:`dismiss` and :func:`resolve`, each audited.

A dismissed episode absorbs the breach it was dismissed for: further breaching observations extend
it silently until the breach stops (``resolve_after`` compliant observations); only a breach after
that opens a new episode. Each episode remembers the last observation it has processed (its
*watermark*), so running detection again over the same observations changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from pricewarden.errors import AccessDenied, InvalidTransition, NotFoundError
from store import Role, User, Violation, ViolationStatus, audit
from store.access import is_manager

OPEN, ACK, RESOLVED, DISMISSED = (s.value for s in ViolationStatus)
ACTIVE = (OPEN, ACK)

# Transitions a person may make: from -> allowed targets.
MANUAL_TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({ACK, RESOLVED, DISMISSED}),
    ACK: frozenset({RESOLVED, DISMISSED}),
    RESOLVED: frozenset(),
    DISMISSED: frozenset(),
}


def violation_key(rule: str, sku: str, party: str, listing: object) -> str:
    """SHA-256 identifying a breach: rule, SKU, partner code (or ``seller:<id>``) and listing."""
    text = "\x1f".join((rule, sku, party, "" if listing is None else str(listing)))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """One judged observation of a key's subject: a breach (with its finding) or compliant."""

    obs_id: int
    at: datetime
    finding: dict[str, Any] | None = None  # None: the observation complied with this rule

    @property
    def order(self) -> tuple[datetime, int]:
        """Processing order (instant, then id) and the watermark unit."""
        return (self.at, self.obs_id)


@dataclass
class Episode:
    """The lifecycle state of one violation row, as the pure functions see it."""

    status: str
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int = 1
    compliant_streak: int = 0
    repeat_number: int = 1
    resolved_at: datetime | None = None
    first_observation_id: int | None = None
    last_observation_id: int | None = None
    watermark: tuple[datetime, int] | None = None
    finding: dict[str, Any] = field(default_factory=dict)
    status_reason: str | None = None
    row_id: int | None = None
    # A dismissed episode whose breach has stopped: a later breach is a new episode.
    breach_over: bool = False
    change: str = "unchanged"  # new | extended | resolved | unchanged


def _open(event: Event, repeat_number: int) -> Episode:
    assert event.finding is not None
    return Episode(
        status=OPEN, first_seen_at=event.at, last_seen_at=event.at, repeat_number=repeat_number,
        first_observation_id=event.obs_id, last_observation_id=event.obs_id, watermark=event.order,
        finding=dict(event.finding), change="new",
    )


_ORDER = attrgetter("at", "obs_id")  # Event.order, as a sort key


def advance(latest: Episode | None, events: Iterable[Event], resolve_after: int) -> list[Episode]:
    """Apply ``events`` (any order; those at or before the watermark are skipped) to a key.

    Returns the episodes touched: ``latest`` (possibly changed) first, then any new ones.
    ``Episode.change`` says what happened to each in this pass.
    """
    touched: list[Episode] = [] if latest is None else [latest]
    current = latest
    for event in sorted(events, key=_ORDER):
        order = (event.at, event.obs_id)  # event.order, made once
        if current is not None and current.watermark is not None and order <= current.watermark:
            continue
        if event.finding is not None:
            if current is None or current.status == RESOLVED or current.breach_over:
                current = _open(event, 1 if current is None else current.repeat_number + 1)
                touched.append(current)
                continue
            # open, acknowledged or a dismissed breach still going on: the same episode goes on.
            current.last_seen_at = event.at
            current.occurrences += 1
            current.compliant_streak = 0
            current.last_observation_id = event.obs_id
            current.finding = dict(event.finding)
            if current.change == "unchanged":
                current.change = "extended"
        elif current is not None and current.status != RESOLVED and not current.breach_over:
            current.compliant_streak += 1
            if current.compliant_streak >= resolve_after:
                if current.status == DISMISSED:
                    current.breach_over = True
                else:
                    current.status = RESOLVED
                    current.resolved_at = event.at
                    current.status_reason = f"auto: {current.compliant_streak} compliant observations"
                    current.change = "resolved" if current.change != "new" else "new"
            elif current.change == "unchanged":
                current.change = "extended"
        if current is not None:
            current.watermark = order
    return touched


# Severity and escalation -----------------------------------------------------------------------

SEVERITIES = ("low", "medium", "high", "critical")
# Gap % at or above each bound reaches that severity (below the first is "low").
SEVERITY_BOUNDS = ((5, "medium"), (15, "high"), (30, "critical"))


def severity(rule: str, kind: str, gap_pct: Any, tier: str | None) -> str:
    """Severity from the depth of the breach (gap %) and the partner's tier.

    Deviations and anomalies are ``low``/``medium`` review items; a tier A partner (the brand's
    most visible resellers) is one step more severe; an unauthorised seller is ``high``.
    """
    if kind == "deviation":
        return "low"
    if kind == "anomaly":
        return "medium"
    if rule == "unauthorised_seller":
        level = 2
    elif rule in ("hidden_price", "partner_misreport") or gap_pct is None:
        level = 1
    else:
        level = 0
        for bound, name in SEVERITY_BOUNDS:
            if gap_pct >= bound:
                level = SEVERITIES.index(name)
    if tier == "A":
        level += 1
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def escalation_step(ladder: dict[str, Any] | Any, episodes_in_window: int) -> str | None:
    """The ladder step reached by ``episodes_in_window`` offences (``None`` below the first step).

    ``ladder`` is ``{"window_days": n, "steps": [{"name", "after"}, ...]}`` or a
    ``policies`` ``EscalationLadder``.
    """
    steps: Sequence[Any] = ladder["steps"] if isinstance(ladder, dict) else ladder.steps
    reached = None
    for step in sorted(steps, key=lambda s: s["after"] if isinstance(s, dict) else s.after):
        after = step["after"] if isinstance(step, dict) else step.after
        if episodes_in_window >= after:
            reached = step["name"] if isinstance(step, dict) else step.name
    return reached


# People: acknowledge, dismiss, resolve ---------------------------------------------------------


def can_see(session: Session, user: User, violation: Violation) -> bool:
    """Whether ``user`` may see ``violation``: the partner scope of :mod:`store.access`, and partner
    accounts see only violations (never the brand's internal deviations and anomalies)."""
    from store.access import visible_partner_ids

    ids = visible_partner_ids(session, user)
    if ids is not None and (violation.partner_id is None or violation.partner_id not in ids):
        return False
    return not (user.role == Role.PARTNER and violation.kind != "violation")


def _snapshot(v: Violation) -> dict[str, Any]:
    return {"status": v.status, "status_reason": v.status_reason}


def _transition(session: Session, violation_id: int, actor: User, target: str, reason: str | None,
                at: datetime | None, token: str | None = None) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFoundError(f"violation {violation_id} does not exist")
    if not can_see(session, actor, violation):
        raise AccessDenied(f"{actor.username} may not see violation {violation_id}")
    if not is_manager(actor):
        raise AccessDenied(f"{actor.username}: partners cannot change the status of a violation")
    if target not in MANUAL_TRANSITIONS.get(violation.status, frozenset()):
        raise InvalidTransition(f"violation {violation_id}: {violation.status} -> {target} is not allowed")
    if target == DISMISSED and not (reason and reason.strip()):
        raise InvalidTransition(f"violation {violation_id}: dismissing needs a reason")
    before = _snapshot(violation)
    violation.status = target
    violation.status_reason = reason
    if target == RESOLVED:
        from store import utcnow

        violation.resolved_at = at or utcnow()
    after = {**_snapshot(violation), **({"api_token": token} if token else {})}
    audit(session, actor=actor.username, action=f"violation.{target}", entity_type="violation",
          entity_id=violation.id, before=before, after=after, reason=reason)
    session.flush()
    return violation


def acknowledge(session: Session, violation_id: int, actor: User, reason: str | None = None, *,
                token: str | None = None) -> Violation:
    """Mark an open violation as acknowledged by ``actor`` (audited; ``token``: the prefix of the API token that
    acted for ``actor``, named in the entry)."""
    return _transition(session, violation_id, actor, ACK, reason, None, token)


def dismiss(session: Session, violation_id: int, actor: User, reason: str | None = None, *,
            token: str | None = None) -> Violation:
    """Dismiss an open or acknowledged violation as a false positive; ``reason`` is required."""
    return _transition(session, violation_id, actor, DISMISSED, reason, None, token)


def resolve(session: Session, violation_id: int, actor: User, reason: str | None = None,
            at: datetime | None = None, *, token: str | None = None) -> Violation:
    """Resolve an open or acknowledged violation by hand (audited)."""
    return _transition(session, violation_id, actor, RESOLVED, reason, at, token)


def _for_manager(session: Session, violation_id: int, actor: User) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFoundError(f"violation {violation_id} does not exist")
    if not can_see(session, actor, violation):
        raise AccessDenied(f"{actor.username} may not see violation {violation_id}")
    if not is_manager(actor):
        raise AccessDenied(f"{actor.username}: partners cannot change a violation")
    return violation


def reopen(session: Session, violation_id: int, actor: User, reason: str | None = None) -> Violation:
    """Reopen a resolved or dismissed violation (audited; ``reason`` required).

    Only the latest episode of its breach can be reopened: a newer episode means the breach has
    been seen again since, and that episode is the one to act on.
    """
    from sqlalchemy import func, select

    violation = _for_manager(session, violation_id, actor)
    if violation.status not in (RESOLVED, DISMISSED):
        raise InvalidTransition(f"violation {violation_id} is {violation.status}: only a resolved or dismissed "
                                "violation can be reopened")
    if not (reason and reason.strip()):
        raise InvalidTransition(f"violation {violation_id}: reopening needs a reason")
    newer = session.scalar(select(func.max(Violation.id)).where(Violation.key == violation.key,
                                                                 Violation.id > violation.id))
    if newer is not None:
        raise InvalidTransition(f"violation {violation_id}: the breach was seen again as violation {newer}; "
                                "act on that one")
    before = _snapshot(violation)
    violation.status = OPEN
    violation.status_reason = reason
    violation.resolved_at = None
    violation.compliant_streak = 0
    violation.details = {**(violation.details or {}), "breach_over": False}
    audit(session, actor=actor.username, action="violation.reopened", entity_type="violation",
          entity_id=violation.id, before=before, after=_snapshot(violation), reason=reason)
    session.flush()
    return violation


def assign(session: Session, violation_id: int, actor: User, assignee: User | None) -> Violation:
    """Give the follow-up of a violation to ``assignee`` (``None``: nobody), who must be an active manager
    able to see it (audited)."""
    violation = _for_manager(session, violation_id, actor)
    if assignee is not None and not (is_manager(assignee) and can_see(session, assignee, violation)):
        raise InvalidTransition(f"{assignee.username} cannot take violation {violation_id}: not an active manager "
                                "who sees its partner")
    new_id = assignee.id if assignee is not None else None
    if violation.assignee_id == new_id:
        raise InvalidTransition(f"violation {violation_id} is already assigned to "
                                f"{assignee.username if assignee else 'nobody'}")
    before = {"assignee_id": violation.assignee_id}
    violation.assignee_id = new_id
    audit(session, actor=actor.username, action="violation.assigned", entity_type="violation",
          entity_id=violation.id, before=before,
          after={"assignee_id": new_id, "assignee": assignee.username if assignee else None})
    session.flush()
    return violation


def snooze(session: Session, violation_id: int, actor: User, until: datetime | None, *, max_days: int,
           reason: str | None = None, now: datetime | None = None) -> Violation:
    """Take an open or acknowledged violation out of the queue (and pause its escalation) until ``until``,
    at most ``max_days`` ahead; ``until=None`` ends a snooze (audited)."""
    from datetime import timedelta

    from store import utcnow

    violation = _for_manager(session, violation_id, actor)
    now = now or utcnow()
    if until is not None:
        if violation.status not in ACTIVE:
            raise InvalidTransition(f"violation {violation_id} is {violation.status}: only an open or acknowledged "
                                    "violation can be snoozed")
        if until <= now:
            raise InvalidTransition(f"violation {violation_id}: a snooze must end in the future")
        if until > now + timedelta(days=max_days):
            raise InvalidTransition(f"violation {violation_id}: a snooze may last at most {max_days} days")
    elif violation.snoozed_until is None or violation.snoozed_until <= now:
        raise InvalidTransition(f"violation {violation_id} is not snoozed")
    before = {"snoozed_until": violation.snoozed_until.isoformat() if violation.snoozed_until else None}
    violation.snoozed_until = until
    audit(session, actor=actor.username, action="violation.snoozed" if until else "violation.unsnoozed",
          entity_type="violation", entity_id=violation.id, before=before,
          after={"snoozed_until": until.isoformat() if until else None}, reason=reason)
    session.flush()
    return violation


def episode_of(row: Violation) -> Episode:
    """The pure lifecycle state of a stored violation row."""
    mark = row.details.get("watermark") if row.details else None
    watermark = (datetime.fromisoformat(mark[0]), int(mark[1])) if mark else None
    return Episode(
        status=row.status, first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
        occurrences=row.occurrences, compliant_streak=row.compliant_streak, repeat_number=row.repeat_number,
        resolved_at=row.resolved_at, first_observation_id=row.first_observation_id,
        last_observation_id=row.last_observation_id, watermark=watermark,
        breach_over=bool((row.details or {}).get("breach_over", False)),
        status_reason=row.status_reason, row_id=row.id,
    )


__all__ = [
    "Episode", "Event", "acknowledge", "advance", "assign", "can_see", "dismiss", "episode_of", "escalation_step",
    "reopen", "resolve", "severity", "snooze", "violation_key",
]
