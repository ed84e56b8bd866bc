"""What a detection run must judge again: the observations after the last run, and what a change re-opens.

A whole-store run records (``store.DetectionRun``) the last observation id it had judged and the
inputs its judgement depended on besides the observations. The next run judges the observations
from the earliest instant that can have changed:

* the earliest observation stored since (a late report or crawl reaches back as far as it goes);
* the ``effective_from`` of a policy version published, changed or removed since: a version
  decides only the instants from its start, so history before it stays as judged;
* the observations with an id at or below the last run's that it could not see yet: on PostgreSQL an
  id is taken when a row is inserted, not when it is committed, so a crawl's transaction can commit
  a lower id after another one committed a higher id and a run read it. Each run records the ids
  missing below its mark (``DetectionRun.pending``) and the next runs read them when they appear,
  for :data:`LATE_COMMIT_WINDOW` (a rolled-back or deleted id never does);
* everything again (a full run) when the catalog as the old observations see it (partners,
  products and listings that existed then), the detection settings, the anomaly model or the
  engine itself changed, since each of those can change the judgement of any old observation.

Episodes keep their own watermark (:mod:`detection.lifecycle`), so judging an observation twice
changes nothing: the window only has to hold every observation whose judgement may differ.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from store import AnomalyModel, DetectionRun, Listing, Observation, Partner, PolicyVersion, Product

# How long an id missing below a run's mark is awaited: a crawl writes in short transactions and a
# report import in one of seconds; an id still missing after this was rolled back or deleted.
LATE_COMMIT_WINDOW = timedelta(days=1)

# Bump when a change to detection changes its answers on observations it has judged before.
ENGINE = 1


def _sha(rows: Any) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def _prefix(rows: list[tuple[Any, ...]], upto: int | None = None) -> dict[str, Any]:
    """Rows (sorted by id) as ``{max_id, sha256}`` of those up to ``upto`` (default: all)."""
    kept = rows if upto is None else [r for r in rows if r[0] <= upto]
    return {"max_id": kept[-1][0] if kept else 0, "sha256": _sha(kept)}


def current_inputs(session: Session, settings: dict[str, Any], anomalies: bool) -> dict[str, Any]:
    """Everything besides the observations that the judgement depends on, in comparable form."""
    policies = {str(v.version): [v.source_sha256, v.effective_from.isoformat(), v.scope_modes]
                for v in session.scalars(select(PolicyVersion).order_by(PolicyVersion.version))}
    partners = [[p.id, p.code, p.name, p.tier, p.regions, p.status, p.seller_ids, p.authorised_skus]
                for p in session.scalars(select(Partner).order_by(Partner.id))]
    products = [tuple(r) for r in session.execute(select(Product.id, Product.sku, Product.category)
                                                  .order_by(Product.id))]
    listings = [tuple(r) for r in session.execute(select(Listing.id, Listing.product_id, Listing.partner_id,
                                                         Listing.region).order_by(Listing.id))]
    model = session.scalar(select(func.max(AnomalyModel.version))) if anomalies else None
    return {
        "engine": ENGINE, "settings": _sha([settings, anomalies]), "policies": policies,
        "partners": _sha(partners), "products": _prefix(products), "listings": _prefix(listings),
        "model": model, "_rows": {"products": products, "listings": listings},
    }


def stored_inputs(inputs: dict[str, Any], model: int | None) -> dict[str, Any]:
    """The inputs as a run records them (the anomaly model as it is after the run)."""
    return {**{k: v for k, v in inputs.items() if k != "_rows"}, "model": model}


def reopened_from(previous: dict[str, Any], current: dict[str, Any]) -> tuple[bool, datetime | None]:
    """Whether the history can stay as judged (``False``: judge everything again), and the earliest
    instant a policy change re-opens (``None``: none)."""
    for name in ("engine", "settings", "partners", "model"):
        if previous.get(name) != current.get(name):
            return False, None
    for name in ("products", "listings"):
        before = previous.get(name) or {}
        if _prefix(current["_rows"][name], int(before.get("max_id", 0))) != before:
            return False, None
    old, new = previous.get("policies") or {}, current["policies"]
    starts = [datetime.fromisoformat(entry[1]) for version, entry in new.items() if old.get(version) != entry]
    starts += [datetime.fromisoformat(entry[1]) for version, entry in old.items() if version not in new]
    return True, min(starts) if starts else None


def last_run(session: Session) -> DetectionRun | None:
    """The latest recorded whole-store run."""
    return session.scalars(select(DetectionRun).order_by(DetectionRun.id.desc()).limit(1)).first()


def stored_since(previous: DetectionRun) -> ColumnElement[bool]:
    """The observations a run after ``previous`` has not judged: above its mark, or pending below it."""
    ranges = [Observation.id.between(int(first), int(last)) for first, last, _ in previous.pending or []]
    return or_(Observation.id > previous.observation_id, *ranges)


def pending_ids(session: Session, marker: int, previous: DetectionRun | None, now: datetime) -> list[list[Any]]:
    """The ids at or below ``marker`` that this run cannot see, as ``[first, last, missing since]``.

    Read before the run's other queries (on PostgreSQL each statement sees what is committed when it
    starts: an id seen here is seen by the later reads too). Without a previous run, every id of the
    store is checked; with one, those above its mark and its own pending ones still in the window.
    """
    stamp = now.isoformat()
    bounds: list[tuple[int, int, str]] = []
    if previous is None:
        bounds.append((1, marker, stamp))
    else:
        for first, last, since in previous.pending or []:
            if datetime.fromisoformat(since) > now - LATE_COMMIT_WINDOW:
                bounds.append((int(first), int(last), since))
        if marker > previous.observation_id:
            bounds.append((previous.observation_id + 1, marker, stamp))
    out: list[list[Any]] = []
    for first, last, since in bounds:
        inside = and_(Observation.id >= first, Observation.id <= last)
        if session.scalar(select(func.count()).select_from(Observation).where(inside)) == last - first + 1:
            continue  # all there: the usual case, one count
        present = np.fromiter(session.scalars(select(Observation.id).where(inside).order_by(Observation.id)),
                              dtype=np.int64)
        edges = np.concatenate([[first - 1], present, [last + 1]])
        for at in np.flatnonzero(np.diff(edges) > 1):
            out.append([int(edges[at]) + 1, int(edges[at + 1]) - 1, since])
    return out
