"""The detection run: the thin store adapter around the pure rules, models and lifecycle.

Load observations and the published policy versions, run the vectorised rules pass (and the
anomaly models), turn each finding into lifecycle events per violation key, and write the
episodes back. Running it twice over the same observations changes nothing: each episode keeps a
watermark of the last observation it has processed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.frames import observations_frame
from detection.lifecycle import (
    ACTIVE,
    DISMISSED,
    RESOLVED,
    SEVERITIES,
    Episode,
    Event,
    advance,
    episode_of,
    escalation_step,
    severity,
    violation_key,
)
from detection.rules import Judgement, judge
from detection.tables import NA_E4, RuleFrames, from_e4
from pricewarden.errors import DetectionError
from store import Partner, Violation, audit, utcnow

MAX_LISTED_CHANGES = 1000
RULE_FINDINGS = ("below_map", "max_discount", "above_msrp", "below_recommended", "above_maximum",
                 "hidden_price", "unauthorised_seller")


@dataclass
class DetectSummary:
    """What one detection run changed, for the CLI and the flows."""

    observations: int = 0
    judged: int = 0
    compliant: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)

    def count(self, change: str, kind: str | None = None) -> int:
        """How many episodes had ``change`` (new, extended, resolved), optionally of one ``kind``."""
        return sum(1 for c in self.changes if c["change"] == change and (kind is None or c["kind"] == kind))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: totals, and counts by rule and by partner."""
        by_rule: dict[str, Counter[str]] = defaultdict(Counter)
        by_partner: dict[str, Counter[str]] = defaultdict(Counter)
        for c in self.changes:
            by_rule[c["rule"]][c["change"]] += 1
            by_partner[c["party"]][c["change"]] += 1
        return {
            "observations": self.observations, "judged": self.judged, "compliant": self.compliant,
            "new_violations": self.count("new", "violation"),
            "extended_violations": self.count("extended", "violation"),
            "resolved_violations": self.count("resolved", "violation"),
            "new_deviations": self.count("new", "deviation"), "new_anomalies": self.count("new", "anomaly"),
            "by_rule": {k: dict(v) for k, v in sorted(by_rule.items())},
            "by_partner": {k: dict(v) for k, v in sorted(by_partner.items())},
            # The first changes in full (a first run over a long history can touch thousands).
            "changes": self.changes[:MAX_LISTED_CHANGES],
            "changes_total": len(self.changes),
        }


def subject_of(sku: Any, party: Any, listing: Any) -> str:
    """The breach subject (SKU, partner or seller, listing) as one string."""
    listing_part = "" if listing is None or (isinstance(listing, float) and np.isnan(listing)) else str(int(listing))
    return f"{sku}|{party}|{listing_part}"


def _none(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


def finding_records(obs: pd.DataFrame, findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Findings joined with their observation's evidence, money back to ``Decimal``."""
    records = []
    rows = obs.iloc[findings["pos"].to_numpy(dtype=np.int64)].reset_index(drop=True) if len(findings) else obs.iloc[:0]
    for f, o in zip(findings.to_dict("records"), rows.to_dict("records"), strict=True):
        observed = from_e4(int(f["observed_e4"])) if f["observed_e4"] != NA_E4 else None
        allowed = from_e4(int(f["allowed_e4"])) if f["allowed_e4"] != NA_E4 else None
        gap = from_e4(int(f["gap_e4"])) if f["gap_e4"] != NA_E4 else None
        gap_pct = (gap * 100 / allowed).quantize(Decimal("0.01")) if gap is not None and allowed else None
        records.append({
            "pos": int(f["pos"]), "obs_id": int(o["obs_id"]), "at": o["observed_at"].to_pydatetime(),
            "rule": f["rule"], "kind": f["kind"], "mode": f["mode"], "scope": _none(f.get("scope")),
            "version": int(f["version"]) if f["version"] != -1 else None, "rule_ref": _none(f.get("rule_ref")),
            "observed_price": observed, "allowed_price": allowed, "gap": gap, "gap_pct": gap_pct,
            "currency": _none(f["currency"]), "sku": o["sku"], "party": o["party"],
            "tier": _none(o["tier"]), "partner_id": _none(o["partner_id"]),
            "product_id": _none(o["product_id"]), "listing_id": _none(o["listing_id"]),
            "seller_id": _none(o["seller_id"]), "seller_name": _none(o["seller_name"]),
            "region": _none(o["region"]), "url": _none(o["url"]), "raw_text": _none(o["raw_text"]),
            "html_sha256": _none(o["html_sha256"]), "screenshot_sha256": _none(o["screenshot_sha256"]),
            "explanation": f.get("explanation"),
        })
    return records


def apply_findings(
    session: Session, obs: pd.DataFrame, findings: list[dict[str, Any]], judged: np.ndarray,
    rules: Iterable[str], *, resolve_after: int, frames: RuleFrames | None, summary: DetectSummary,
    repeat_window_days: int,
) -> None:
    """Advance the lifecycle of every key of ``rules`` touched by ``findings`` or still open.

    ``judged`` marks the observations that count as compliant for a key of their subject when
    they carry no finding of the key's rule.
    """
    rules = tuple(rules)
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in findings:
        record["subject"] = subject_of(record["sku"], record["party"], record["listing_id"])
        by_key[violation_key(record["rule"], record["sku"], record["party"], record["listing_id"])].append(record)
    breached = {(r["pos"], r["rule"]) for r in findings}

    latest: dict[str, Violation] = {}
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        for found in session.scalars(select(Violation).where(Violation.key.in_(keys[start:start + 500]))):
            if found.key not in latest or found.id > latest[found.key].id:
                latest[found.key] = found
    open_rows = session.scalars(select(Violation).where(
        Violation.rule.in_(rules), Violation.status.in_([*ACTIVE, DISMISSED])))
    for open_row in open_rows:
        if open_row.status == DISMISSED and (open_row.details or {}).get("breach_over"):
            continue
        if open_row.key not in latest or open_row.id > latest[open_row.key].id:
            latest[open_row.key] = open_row

    subjects = pd.Series([subject_of(s, p, listing) for s, p, listing in zip(
        obs["sku"], obs["party"], obs["listing_id"], strict=True)], dtype=object)
    positions: dict[str, np.ndarray] = {}
    wanted = {r["subject"] for r in findings} | {(row.details or {}).get("subject") for row in latest.values()}
    if len(obs):
        mask = subjects.isin(wanted).to_numpy() & judged
        for subject, idx in subjects[mask].groupby(subjects[mask], sort=False).groups.items():
            positions[str(subject)] = np.asarray(idx, dtype=np.int64)
    obs_ids = obs["obs_id"].to_numpy(dtype=np.int64)
    instants = obs["observed_at"]

    new_episodes: list[tuple[Episode, dict[str, Any]]] = []
    for key in set(by_key) | set(latest):
        row = latest.get(key)
        records = by_key.get(key, [])
        rule = records[0]["rule"] if records else row.rule if row else ""
        subject = records[0]["subject"] if records else (row.details or {}).get("subject") if row else None
        events = [Event(r["obs_id"], r["at"], r) for r in records]
        for pos in positions.get(str(subject), ()):
            if (int(pos), rule) not in breached:
                events.append(Event(int(obs_ids[pos]), instants.iat[int(pos)].to_pydatetime(), None))
        touched = advance(episode_of(row) if row is not None else None, events, resolve_after)
        for episode in touched:
            if episode.row_id is None:
                new_episodes.append((episode, episode.finding))
            elif row is not None and episode.watermark != episode_of(row).watermark:
                update_episode(session, row, episode, summary)
    new_episodes.sort(key=lambda pair: (pair[0].first_seen_at, pair[1]["rule"]))
    for episode, record in new_episodes:
        insert_episode(session, episode, record, frames, summary, repeat_window_days)


def _change(summary: DetectSummary, row: Violation, change: str, party: str) -> None:
    summary.changes.append({"change": change, "kind": row.kind, "rule": row.rule, "party": party,
                            "key": row.key, "status": row.status, "severity": row.severity,
                            "repeat_number": row.repeat_number, "escalation_step": row.escalation_step})


def update_episode(session: Session, row: Violation, episode: Episode, summary: DetectSummary) -> None:
    """Write a stored episode's new lifecycle state (and latest evidence) back to its row."""
    before = row.status
    row.status = episode.status
    row.last_seen_at = episode.last_seen_at
    row.occurrences = episode.occurrences
    row.compliant_streak = episode.compliant_streak
    row.last_observation_id = episode.last_observation_id or None
    if episode.status == RESOLVED and before != RESOLVED:
        row.resolved_at = episode.resolved_at
        row.status_reason = episode.status_reason
        audit(session, actor="detection", action="violation.auto_resolved", entity_type="violation",
              entity_id=row.id, before={"status": before}, after={"status": row.status},
              reason=episode.status_reason)
    latest = episode.finding
    if latest.get("obs_id") == episode.last_observation_id and "observed_price" in latest:
        # Keep the latest evidence of a persisting breach; the first is in first_observation_id.
        for name in ("observed_price", "allowed_price", "gap", "gap_pct", "url", "raw_text", "html_sha256",
                     "screenshot_sha256", "rule_ref", "policy_version"):
            if name == "policy_version":
                row.policy_version = latest.get("version")
            elif name == "screenshot_sha256" and latest.get(name) is None:
                continue  # a later page crawled without a browser keeps the episode's picture
            else:
                setattr(row, name, latest.get(name))
        # A breach that deepens raises the severity; it never drops while the episode lasts.
        deeper = severity(row.rule, row.kind, latest.get("gap_pct"), latest.get("tier"))
        if SEVERITIES.index(deeper) > SEVERITIES.index(row.severity):
            row.severity = deeper
    assert episode.watermark is not None
    row.details = {**(row.details or {}), "watermark": [episode.watermark[0].isoformat(), episode.watermark[1]],
                   "breach_over": episode.breach_over}
    party = (row.details or {}).get("subject", "||").split("|")[1]
    if episode.change in ("extended", "resolved") and before != DISMISSED:
        _change(summary, row, episode.change, party)


def insert_episode(
    session: Session, episode: Episode, record: dict[str, Any], frames: RuleFrames | None,
    summary: DetectSummary, repeat_window_days: int,
) -> None:
    """Store a new episode (a first breach or a repeat) with severity and escalation step."""
    row = Violation(
        key=violation_key(record["rule"], record["sku"], record["party"], record["listing_id"]),
        kind=record["kind"], rule=record["rule"], mode=record["mode"] or "observe", status=episode.status,
        severity=severity(record["rule"], record["kind"], record["gap_pct"], record["tier"]),
        product_id=record["product_id"], partner_id=record["partner_id"], listing_id=record["listing_id"],
        seller_id=record["seller_id"], seller_name=record["seller_name"], region=record["region"],
        observed_price=record["observed_price"], allowed_price=record["allowed_price"],
        currency=record["currency"], gap=record["gap"], gap_pct=record["gap_pct"],
        policy_version=record["version"], rule_ref=record["rule_ref"],
        first_seen_at=episode.first_seen_at, last_seen_at=episode.last_seen_at, resolved_at=episode.resolved_at,
        occurrences=episode.occurrences, compliant_streak=episode.compliant_streak,
        # Id 0 marks an event with no observation behind it (a stale listing).
        repeat_number=episode.repeat_number, first_observation_id=episode.first_observation_id or None,
        last_observation_id=episode.last_observation_id or None, url=record["url"], raw_text=record["raw_text"],
        html_sha256=record["html_sha256"], screenshot_sha256=record["screenshot_sha256"],
        status_reason=episode.status_reason,
        details={
            "subject": record["subject"], "scope": record["scope"], "tier": record["tier"],
            "watermark": [episode.watermark[0].isoformat(), episode.watermark[1]] if episode.watermark else None,
            "breach_over": episode.breach_over, "explanation": record.get("explanation"),
        },
    )
    if row.kind == "violation" and row.mode in ("map", "maximum") and row.partner_id is not None and frames:
        ladder = frames.ladder(record["version"], record["scope"]) if record["version"] is not None else None
        if ladder is not None:
            window = timedelta(days=int(ladder.get("window_days") or repeat_window_days))
            earlier = session.scalar(select(func.count()).select_from(Violation).where(
                Violation.partner_id == row.partner_id, Violation.kind == "violation",
                Violation.mode.in_(["map", "maximum"]), Violation.status != DISMISSED,
                Violation.first_seen_at > row.first_seen_at - window,
                Violation.first_seen_at <= row.first_seen_at)) or 0
            row.escalation_step = escalation_step(dict(ladder), earlier + 1)
            row.details["offences_in_window"] = earlier + 1
            step = next((st for st in ladder["steps"] if st["name"] == row.escalation_step), None)
            # What the step allows, for alerts: a notice to the partner, a penalty.
            row.details["escalation"] = {
                "step": row.escalation_step, "offences_in_window": earlier + 1,
                "window_days": window.days, "notify_partner": bool(step and step.get("notify_partner")),
                "penalty": bool(step and step.get("penalty")),
            }
    session.add(row)
    session.flush()
    _change(summary, row, "new", record["party"])
    if episode.status == RESOLVED:  # opened and resolved within this one run
        audit(session, actor="detection", action="violation.auto_resolved", entity_type="violation",
              entity_id=row.id, before={"status": "open"}, after={"status": row.status},
              reason=episode.status_reason)
        _change(summary, row, "resolved", record["party"])


def detect(
    session: Session, *, since: datetime | None = None, frames: RuleFrames | None = None,
    anomalies: bool = True, now: datetime | None = None, retrain: bool = False,
    on_step: Callable[[int, str], None] | None = None,
) -> DetectSummary:
    """Judge the stored observations (optionally only those since ``since``) and update violations.

    ``on_step`` is told each step as it starts (its number, 0 to ``len(DETECT_STEPS)``, and what it
    does), for a progress bar.
    """
    from detection.policy_bridge import load_rule_frames
    from pricewarden.settings import get_settings

    def step(number: int, text: str) -> None:
        if on_step is not None:
            on_step(number, text)

    cfg = get_settings().detection
    step(0, "loading observations")
    frames = frames if frames is not None else load_rule_frames(session)
    if frames.versions.empty:
        raise DetectionError("no policy version is published: run `pricewarden policy publish FILE` first")
    obs = observations_frame(session, since=since).reset_index(drop=True)
    step(1, f"judging {len(obs):,} observations")
    judgement: Judgement = judge(obs, frames)
    summary = DetectSummary(observations=len(obs), judged=int(judgement.judged.sum()),
                            compliant=int(judgement.compliant.sum()))
    step(2, f"updating violations ({len(judgement.findings):,} findings)")
    records = finding_records(obs, judgement.findings)
    apply_findings(session, obs, records, judgement.judged | judgement.resolved["has_scope"],
                   RULE_FINDINGS, resolve_after=cfg.resolve_after, frames=frames, summary=summary,
                   repeat_window_days=cfg.repeat_window_days)
    from detection.confirm import classify
    from detection.misreport import detect_misreports

    step(3, "cross-checking partner reports")
    detect_misreports(session, frames, since=since, summary=summary, resolve_after=cfg.resolve_after)
    # A violation read by heuristics waits for a second reading before anything reaches the partner.
    classify(session)
    step(4, "anomaly models")
    if anomalies and len(obs):
        from detection.anomaly import detect_anomalies

        res = judgement.resolved
        # Inside a promotion or exemption window the lower price is brand-approved, not an anomaly.
        obs = obs.assign(in_window=(res["floor_e4"] != NA_E4) & (res["floor_e4"] < res["base_floor_e4"]))
        detect_anomalies(session, obs, summary=summary, resolve_after=cfg.resolve_after, retrain=retrain)
    from detection.stale import detect_stale

    step(5, "stale listings")
    if now is None:
        # Staleness is measured on the data's clock (the latest crawl), not the wall clock: a listing
        # is stale when monitoring runs but yields nothing for it, and a simulated or replayed
        # history is judged the same on every run.
        latest = obs["observed_at"].max() if len(obs) else None
        now = min(utcnow(), latest.to_pydatetime()) if latest is not None else None
    if now is not None:
        detect_stale(session, now=now, summary=summary, resolve_after=cfg.resolve_after,
                     stale_after_days=cfg.stale_after_days)
    session.flush()
    step(len(DETECT_STEPS), "done")
    return summary


# The steps :func:`detect` reports to ``on_step``, in order.
DETECT_STEPS = ("load", "judge", "violations", "misreports", "anomalies", "stale")


def partner_codes(session: Session) -> dict[int, str]:
    """Partner id -> code, for reports."""
    return {p.id: p.code for p in session.scalars(select(Partner))}
