"""Confirmation before accusation: a price that may be misread is confirmed by a second reading first.

A violation whose price came from the cascade's heuristic step, from structured data that the page
does not show near its buy button (``structured_contradicted`` / ``structured_not_visible``), or
with a calibrated confidence under ``extract.auto_confidence`` (the share of such answers that were
right on pages read blind) may be a misread. Nothing partner-facing is sent about it (a notice, a
ladder step that notifies the partner) until a second, independent reading confirms it: the page
rendered in Chromium and the amount it shows at its buy box measured (:func:`confirm_pending`,
:mod:`crawlers.buybox`: layout and fonts, never structured data, meta tags or script state), or a
manager who looked at the evidence (:func:`confirm_by_person`). Internal alerts to managers go out
as before.

``Violation.confirmation``:

- ``None``: not looked at yet (:func:`classify` runs at the end of every detection pass);
- ``not_needed``: the price came from a profile or a person's rule, sure enough to act on;
- ``pending``: a second reading is due (oldest first, ``detection.confirm_per_run`` a run);
- ``agreed``: the buy box shows the same amount in the same currency, or the price before a coupon with
  that coupon still shown around it (partner-facing messages allowed);
- ``disagreed`` / ``failed``: it shows another amount, or none could be read: waits for a person;
- ``confirmed``: a manager confirmed the price (audited).

Both readings (method, raw text, where on the page) are kept in ``details["confirmation"]`` as part
of the violation's evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, object_session

from pricewarden.errors import InvalidTransition
from store import Observation, User, Violation, utcnow
from store.audit import audit

__all__ = ["CLEARED", "WAITING", "agrees", "classify", "confirm_by_person", "confirm_pending", "hold_reason",
           "needs_second"]

logger = logging.getLogger(__name__)

CLEARED = frozenset({"not_needed", "agreed", "confirmed"})
WAITING = frozenset({"pending", "disagreed", "failed"})
# Flags of a structured price the page does not show near its buy button (crawlers.extract.cascade).
_DISAGREEING = ("structured_contradicted", "structured_not_visible")
_OPEN = ("open", "acknowledged")
# {violation id: url}, currencies=, locales= -> {violation id: the buy box's reading}; a page not read is missing.
Reader = Callable[..., dict[int, Any]]


def _auto_confidence() -> float:
    from pricewarden.settings import get_settings

    return get_settings().extract.auto_confidence


def needs_second(observation: Observation | None, auto_confidence: float | None = None) -> str | None:
    """Why a reading needs a second one before it may accuse anyone, or ``None`` when it stands alone.

    ``auto_confidence``: the calibrated confidence under which a crawled price is not acted on alone
    (default: the ``extract.auto_confidence`` setting). Prices from partners' reports and feeds carry
    no confidence and stand alone, as does a page that shows no price (hidden pricing).
    """
    if observation is None:
        return None
    reasons = []
    if observation.method == "heuristic":
        reasons.append("the price was read by the heuristic step")
    flags = [f for f in (observation.details or {}).get("flags") or [] if f in _DISAGREEING]
    if flags:
        reasons.append(f"structured data disagrees with what the page shows ({', '.join(flags)})")
    confidence = getattr(observation, "confidence", None)
    # (a page that hides its price has no amount to doubt: its finding is the hiding, seen as such)
    if confidence is not None and observation.price is not None and getattr(observation, "source", "crawl") == "crawl":
        threshold = _auto_confidence() if auto_confidence is None else auto_confidence
        if confidence < threshold:
            reasons.append(f"its confidence {confidence:.2f} is under extract.auto_confidence {threshold:.2f}")
    return "; ".join(reasons) or None


def _amount(value: Decimal | None) -> str | None:
    """An amount as a page shows it: two decimals unless it has more (PostgreSQL keeps four: 89.0000)."""
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def _first(observation: Observation) -> dict[str, Any]:
    details = observation.details or {}
    first = {"price": _amount(observation.price), "currency": observation.currency,
             "raw_text": observation.raw_text, "method": observation.method, "observation_id": observation.id,
             "flags": list(details.get("flags") or []), "confidence": getattr(observation, "confidence", None)}
    if details.get("advertised_price") and details.get("advertised_price") != first["price"]:
        first["advertised_price"] = details["advertised_price"]  # before a coupon: what the buy box may show
        first["coupon"] = details.get("coupon")  # (the coupon's wording as the first reading saw it)
    return first


def classify(session: Session) -> int:
    """Mark every open violation not looked at yet ``pending`` or ``not_needed``; returns how many need a reading.

    Read and written as plain columns on the session's connection (a first run over a long history
    classifies thousands of violations): one ``UPDATE`` for those that need no second reading.
    """
    o = Observation
    session.flush()
    connection = session.connection()
    rows = connection.execute(
        select(Violation.id, Violation.details, o.id, o.method, o.details, o.price, o.currency, o.raw_text,
               o.source, o.confidence)
        .select_from(Violation).outerjoin(o, o.id == Violation.last_observation_id)
        .where(Violation.confirmation.is_(None), Violation.kind == "violation", Violation.status.in_(_OPEN))).all()
    table = cast(Table, Violation.__table__)
    not_needed: list[int] = []
    pending: list[dict[str, Any]] = []
    threshold = _auto_confidence()
    for violation_id, details, obs_id, method, obs_details, price, currency, raw_text, source, confidence in rows:
        observation = None if obs_id is None else SimpleNamespace(
            id=obs_id, method=method, details=obs_details, price=price, currency=currency, raw_text=raw_text,
            source=source, confidence=confidence)
        why = needs_second(observation, threshold)  # type: ignore[arg-type]
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


def _read(urls: dict[int, str], **kwargs: Any) -> dict[int, Any]:
    from crawlers.buybox import read_buy_boxes

    return read_buy_boxes(urls, **kwargs)


def confirm_pending(session: Session, *, read: Reader | None = None, limit: int | None = None) -> dict[str, int]:
    """Make the second reading of the ``limit`` oldest pending violations; counts by outcome, and ``waiting``.

    Each page is rendered in Chromium (``read``; default :func:`crawlers.buybox.read_buy_boxes`: one
    browser, as a crawl renders, under the network policy) and the amount it shows at its buy box is
    measured. Agreement is :func:`agrees`: the same amount in the same currency (the price judged, or the
    advertised one before a coupon when the coupon is shown again around it); another amount, none, or a
    failed render leave the violation to a person.
    ``limit`` defaults to ``detection.confirm_per_run``; the oldest go first, so each run works down
    the queue, and ``waiting`` says how many are still pending after this run (logged when any are).
    """
    from crawlers.profiles import find_profile, load_profiles
    from pricewarden.settings import get_settings

    if limit is None:
        limit = get_settings().detection.confirm_per_run
    counts = {"agreed": 0, "disagreed": 0, "failed": 0, "waiting": 0}
    pending = (Violation.confirmation == "pending", Violation.status.in_(_OPEN))
    rows = list(session.scalars(select(Violation).where(*pending).order_by(Violation.id).limit(limit)))
    if rows:
        urls = {v.id: v.url for v in rows if v.url}
        profiles = load_profiles()
        locales = {key: getattr(find_profile(profiles, url), "locale", None) for key, url in urls.items()}
        currencies = {v.id: v.currency for v in rows}
        try:
            readings = (read or _read)(urls, currencies=currencies, locales=locales)
        except Exception as exc:  # the browser did not start: every reading is left to a person
            readings, failure = {}, f"{type(exc).__name__}: {exc}"[:500]
        else:
            failure = "the page could not be rendered"
        for violation in rows:
            _settle(session, violation, readings.get(violation.id), failure, counts)
        session.flush()
    counts["waiting"] = session.scalar(select(func.count()).select_from(Violation).where(*pending)) or 0
    if counts["waiting"]:
        logger.warning("%d violations still wait for the second reading of their price (%d a run): "
                       "the violations list shows them (confirmation: waiting)", counts["waiting"], limit)
    return counts


def agrees(reading: Any, judged: Decimal | None, currency: str | None, *, advertised: Decimal | None = None) -> bool:
    """Whether a buy-box reading confirms the first: its amount is the ``judged`` price in the first reading's
    ``currency``, or the ``advertised`` one before a coupon while the rendered page still shows, around it, the
    coupon or discount that brings it to the judged price (:func:`crawlers.buybox.shows_reduction`): the
    accusation rests on the reduced price, and the advertised amount alone confirms only the page's list price."""
    from crawlers.buybox import shows_reduction

    if reading is None or reading.price is None or reading.currency != currency:
        return False
    if judged is not None and reading.price == judged:
        return True
    return (advertised is not None and judged is not None and judged < advertised and reading.price == advertised
            and shows_reduction(reading, advertised, judged, currency))


def _settle(session: Session, violation: Violation, reading: Any, failure: str, counts: dict[str, int]) -> None:
    """Record the second reading of ``violation`` (``None``: none could be made) and its outcome."""
    record = dict((violation.details or {}).get("confirmation") or {})
    first = record.get("first") or {}
    judged, advertised = (None if p is None else Decimal(str(p)) for p in (
        first.get("price") or violation.observed_price, first.get("advertised_price")))
    second: dict[str, Any]
    if reading is None:
        second = {"error": failure if violation.url else "the violation has no page address"}
        state = "failed"
    else:
        second = {**reading.as_dict(), "rendered": True}
        same = agrees(reading, judged, first.get("currency") or violation.currency, advertised=advertised)
        state = "agreed" if same else "disagreed"
        second["price"] = _amount(reading.price)
        if not same and advertised is not None and reading.price == advertised:
            second["problem"] = (f"the buy box shows the price before the coupon ({_amount(advertised)}), and no "
                                 f"coupon or discount to {_amount(judged)} around it")
    counts[state] += 1
    record.update(status=state, second=second, agreed=state == "agreed", at=utcnow().isoformat(timespec="seconds"))
    violation.confirmation = state
    violation.details = {**(violation.details or {}), "confirmation": record}
    audit(session, actor="pricewarden", action="violation.confirmation", entity_type="violation",
          entity_id=violation.id, before={"confirmation": "pending"},
          after={"confirmation": state, **{k: v for k, v in second.items() if k in ("price", "currency", "raw_text",
                                                                                      "method", "problem", "error")}})


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
