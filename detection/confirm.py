"""Confirmation before accusation: a violation read by heuristics is confirmed by a second reading first.

A violation whose price came from the cascade's heuristic step, or from structured data that the
page does not show near its buy button (``structured_contradicted`` / ``structured_not_visible``),
may be a misread. Nothing partner-facing is sent about it (a notice, a ladder step that notifies the
partner) until a second, independent reading confirms it: the page rendered in Chromium and read
again (:func:`confirm_pending`), or a manager who looked at the evidence (:func:`confirm_by_person`).
Internal alerts to managers go out as before.

``Violation.confirmation``:

- ``None``: not looked at yet (:func:`classify` runs at the end of every detection pass);
- ``not_needed``: the price came from a profile, a person's rule, or structured data the page shows;
- ``pending``: a second reading is due;
- ``agreed``: the second reading shows the same price (partner-facing messages allowed);
- ``disagreed`` / ``failed``: it shows another price, or none could be made: waits for a person;
- ``confirmed``: a manager confirmed the price (audited).

Both readings are kept in ``details["confirmation"]`` as part of the violation's evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, object_session

from pricewarden.errors import InvalidTransition
from store import Observation, User, Violation, utcnow
from store.audit import audit

__all__ = ["CLEARED", "WAITING", "classify", "confirm_by_person", "confirm_pending", "hold_reason", "needs_second"]

CLEARED = frozenset({"not_needed", "agreed", "confirmed"})
WAITING = frozenset({"pending", "disagreed", "failed"})
# Flags of a structured price the page does not show near its buy button (crawlers.extract.cascade).
_DISAGREEING = ("structured_contradicted", "structured_not_visible")
_OPEN = ("open", "acknowledged")
Renderer = Callable[[dict[int, str]], dict[int, bytes]]  # {violation id: url} -> {violation id: rendered HTML}


def needs_second(observation: Observation | None) -> str | None:
    """Why a reading needs a second one before it may accuse anyone, or ``None`` when it stands alone."""
    if observation is None:
        return None
    if observation.method == "heuristic":
        return "the price was read by the heuristic step"
    flags = [f for f in (observation.details or {}).get("flags") or [] if f in _DISAGREEING]
    if flags:
        return f"structured data disagrees with what the page shows ({', '.join(flags)})"
    return None


def _amount(value: Decimal | None) -> str | None:
    """An amount as a page shows it: two decimals unless it has more (PostgreSQL keeps four: 89.0000)."""
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def _first(observation: Observation) -> dict[str, Any]:
    return {"price": _amount(observation.price), "currency": observation.currency,
            "raw_text": observation.raw_text, "method": observation.method, "observation_id": observation.id,
            "flags": list((observation.details or {}).get("flags") or [])}


def classify(session: Session) -> int:
    """Mark every open violation not looked at yet ``pending`` or ``not_needed``; returns how many need a reading.

    Read and written as plain columns on the session's connection (a first run over a long history
    classifies thousands of violations): one ``UPDATE`` for those that need no second reading.
    """
    o = Observation
    session.flush()
    connection = session.connection()
    rows = connection.execute(
        select(Violation.id, Violation.details, o.id, o.method, o.details, o.price, o.currency, o.raw_text)
        .select_from(Violation).outerjoin(o, o.id == Violation.last_observation_id)
        .where(Violation.confirmation.is_(None), Violation.kind == "violation", Violation.status.in_(_OPEN))).all()
    table = cast(Table, Violation.__table__)
    not_needed: list[int] = []
    pending: list[dict[str, Any]] = []
    for violation_id, details, obs_id, method, obs_details, price, currency, raw_text in rows:
        observation = None if obs_id is None else SimpleNamespace(
            id=obs_id, method=method, details=obs_details, price=price, currency=currency, raw_text=raw_text)
        why = needs_second(observation)  # type: ignore[arg-type]
        if why is None:
            not_needed.append(violation_id)
            continue
        pending.append({"_id": violation_id, "confirmation": "pending", "details": {
            **(details or {}), "confirmation": {"status": "pending", "why": why,
                                                "first": _first(observation)}}})  # type: ignore[arg-type]
    for start in range(0, len(not_needed), 500):
        connection.execute(update(table).where(table.c.id.in_(not_needed[start:start + 500]))
                           .values(confirmation="not_needed"))
    if pending:
        connection.execute(update(table).where(table.c.id == bindparam("_id")), pending)
    # Any of these rows already in the session is read again when used.
    changed = set(not_needed) | {p["_id"] for p in pending}
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Violation) and instance.id in changed:
            session.expire(instance)
    return len(pending)


def hold_reason(violation: Violation) -> str | None:
    """Why nothing partner-facing may be sent about ``violation`` yet, or ``None``.

    A violation not classified yet is classified from its last observation here (the gate never
    trusts a reading nobody looked at).
    """
    if violation.kind != "violation":
        return None
    state = violation.confirmation
    if state is None:
        session = object_session(violation)
        observation = (session.get(Observation, violation.last_observation_id)
                       if session is not None and violation.last_observation_id else None)
        why = needs_second(observation)
        state = "pending" if why is not None else "not_needed"
    if state in CLEARED:
        return None
    return (f"held: the price of violation {violation.id} is not confirmed ({state}); a second reading of the page, "
            "or a manager on the violation page, must confirm it before the partner is told")


def _render(urls: dict[int, str]) -> dict[int, bytes]:
    from crawlers.screenshots import render_pages

    return render_pages(urls)


def confirm_pending(session: Session, *, render: Renderer | None = None, limit: int = 100) -> dict[str, int]:
    """Make the second reading of up to ``limit`` pending violations; counts by outcome.

    The pages are rendered in Chromium (``render``; default: one browser, as a crawl renders, under
    the network policy) and read again by the cascade with the site's profile. Agreement is the same
    effective price in the same currency; another price, an undecided page or a failed render leave
    the violation to a person.
    """
    from crawlers.extract import extract
    from crawlers.profiles import find_profile, load_profiles
    from pricewarden.settings import get_settings

    counts = {"agreed": 0, "disagreed": 0, "failed": 0}
    rows = list(session.scalars(select(Violation).where(Violation.confirmation == "pending",
                                                        Violation.status.in_(_OPEN)).order_by(Violation.id)
                                .limit(limit)))
    if not rows:
        return counts
    urls = {v.id: v.url for v in rows if v.url}
    try:
        pages = (render or _render)(urls)
    except Exception as exc:  # the browser did not start: every reading is left to a person
        pages, failure = {}, f"{type(exc).__name__}: {exc}"[:500]
    else:
        failure = "the page could not be rendered"
    profiles = load_profiles()
    below = get_settings().crawl.undecided_below
    for violation in rows:
        record = dict((violation.details or {}).get("confirmation") or {})
        first_price = Decimal(str(record.get("first", {}).get("price") or violation.observed_price))
        second: dict[str, Any]
        html = pages.get(violation.id)
        if html is None:
            second = {"error": failure if violation.url else "the violation has no page address"}
            state = "failed"
        else:
            url = violation.url or ""
            result = extract(html, url, profile=find_profile(profiles, url), encoding="utf-8", undecided_below=below)
            shown = result.effective_price if result.effective_price is not None else result.price
            second = {"price": _amount(shown), "currency": result.currency,
                      "raw_text": result.raw_text, "method": result.method, "rendered": True,
                      "undecided": result.undecided}
            same = shown is not None and shown == first_price and result.currency in {None, violation.currency}
            state = "agreed" if same else "disagreed"
        counts[state] += 1
        record.update(status=state, second=second, agreed=state == "agreed", at=utcnow().isoformat(timespec="seconds"))
        violation.confirmation = state
        violation.details = {**(violation.details or {}), "confirmation": record}
        audit(session, actor="pricewarden", action="violation.confirmation", entity_type="violation",
              entity_id=violation.id, before={"confirmation": "pending"}, after={"confirmation": state, **second})
    session.flush()
    return counts


def confirm_by_person(session: Session, violation_id: int, user: User, reason: str | None = None) -> Violation:
    """A manager confirms the price read for a violation waiting for confirmation (audited)."""
    violation = session.get(Violation, violation_id)
    if violation is None or violation.confirmation not in WAITING:
        raise InvalidTransition(f"violation {violation_id} does not wait for a confirmation: "
                                f"{violation.confirmation if violation else 'missing'}")
    before = violation.confirmation
    record = dict((violation.details or {}).get("confirmation") or {})
    record.update(status="confirmed", by=user.username, at=utcnow().isoformat(timespec="seconds"),
                  previous=before, reason=reason)
    violation.confirmation = "confirmed"
    violation.details = {**(violation.details or {}), "confirmation": record}
    audit(session, actor=user.username, action="violation.confirm", entity_type="violation", entity_id=violation.id,
          before={"confirmation": before}, after={"confirmation": "confirmed"}, reason=reason)
    session.flush()
    return violation
