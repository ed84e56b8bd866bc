"""The detection run: the thin store adapter around the pure rules, models and lifecycle.

Load observations and the published policy versions, run the vectorised rules pass (and the
anomaly models), turn each finding into lifecycle events per violation key, and write the
episodes back. Running it twice over the same observations changes nothing: each episode keeps a
watermark of the last observation it has processed.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from detection.episodes import apply_findings, insert_episode, subjects_of, update_episode
from detection.frames import evidence_of, observations_frame
from detection.rules import Judgement, judge
from detection.tables import NA_E4, RuleFrames, from_e4
from pricewarden.errors import DetectionError
from store import AnomalyModel, DetectionRun, Observation, Partner, utcnow

MAX_LISTED_CHANGES = 1000
SQLITE_CACHE_KIB = 65536  # SQLite's page cache during a detection run (see detect)
RULE_FINDINGS = ("below_map", "max_discount", "above_msrp", "below_recommended", "above_maximum",
                 "hidden_price", "unauthorised_seller")


@dataclass
class DetectSummary:
    """What one detection run changed, for the CLI and the flows."""

    observations: int = 0
    judged: int = 0
    compliant: int = 0
    mode: str = "full"  # full | incremental | since: what this run read (see detect)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def count(self, change: str, kind: str | None = None) -> int:
        """How many episodes had ``change`` (new, extended, resolved), optionally of one ``kind``."""
        return sum(1 for c in self.changes if c["change"] == change and (kind is None or c["kind"] == kind))

    def totals(self) -> dict[str, Any]:
        """:meth:`as_dict` without the changes listed or counted by rule and partner (a run's stored stats),
        counted in one pass over the changes (a first run makes ~180,000)."""
        counts = Counter((c["change"], c["kind"]) for c in self.changes)
        return {
            "observations": self.observations, "judged": self.judged, "compliant": self.compliant,
            "mode": self.mode,
            "new_violations": counts[("new", "violation")],
            "extended_violations": counts[("extended", "violation")],
            "resolved_violations": counts[("resolved", "violation")],
            "new_deviations": counts[("new", "deviation")], "new_anomalies": counts[("new", "anomaly")],
            "changes_total": len(self.changes),
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: totals, and counts by rule and by partner."""
        by_rule: dict[str, Counter[str]] = defaultdict(Counter)
        by_partner: dict[str, Counter[str]] = defaultdict(Counter)
        for c in self.changes:
            by_rule[c["rule"]][c["change"]] += 1
            by_partner[c["party"]][c["change"]] += 1
        totals = self.totals()
        changes_total = totals.pop("changes_total")
        return {
            **totals,
            "by_rule": {k: dict(v) for k, v in sorted(by_rule.items())},
            "by_partner": {k: dict(v) for k, v in sorted(by_partner.items())},
            # The first changes in full (a first run over a long history can touch thousands).
            "changes": self.changes[:MAX_LISTED_CHANGES],
            "changes_total": changes_total,
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


def detect(
    session: Session, *, since: datetime | None = None, frames: RuleFrames | None = None,
    anomalies: bool = True, now: datetime | None = None, retrain: bool = False, full: bool = False,
    on_step: Callable[[int, str], None] | None = None,
) -> DetectSummary:
    """Judge the stored observations and update violations.

    Without ``since`` a run judges what is new since the last run (``detection.incremental``): the
    observations stored since, from the earliest of their instants, and what a policy change
    re-opens; the whole history when it is the first run, ``full``, ``retrain``, ``frames`` is given
    or the catalog, settings or model changed. With ``since``, only observations at or after it.

    ``on_step`` is told each step as it starts (its number, 0 to ``len(DETECT_STEPS)``, and what it
    does), for a progress bar.
    """
    # SQLite's page cache (2 MB by default) for this run's connection: a first run writes ~90,000 violations
    # into a table with 16 indexes, and with the default cache most of that is re-reading index pages from the
    # OS (system time); 64 MB halves its CPU. Put back after the run: the pool keeps the connection.
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    # The cyclic garbage collector paused for the run: a run at scale makes millions of tuples that are never
    # part of a cycle (the driver's rows, their columns, the rows written), and each of the collector's full
    # passes walks every one of them again (a quarter or more of reading a million observations). Reference
    # counting frees them as usual; what cycles the run leaves are collected once the collector is back.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _detect(session, since=since, frames=frames, anomalies=anomalies, now=now, retrain=retrain, full=full,
                       on_step=on_step)
    finally:
        if collecting:
            gc.enable()
        if sqlite:
            with suppress(SQLAlchemyError):  # a failed run's error is the one to see
                connection.exec_driver_sql(f"PRAGMA cache_size={cache}")


def _detect(
    session: Session, *, since: datetime | None, frames: RuleFrames | None, anomalies: bool, now: datetime | None,
    retrain: bool, full: bool, on_step: Callable[[int, str], None] | None,
) -> DetectSummary:
    from detection.incremental import current_inputs, last_run, pending_ids, reopened_from, stored_since
    from detection.policy_bridge import load_rule_frames
    from pricewarden.settings import get_settings

    def step(number: int, text: str) -> None:
        if on_step is not None:
            on_step(number, text)

    cfg = get_settings().detection
    step(0, "loading observations")
    explicit = frames is not None
    frames = frames if frames is not None else load_rule_frames(session)
    if frames.versions.empty:
        raise DetectionError("no policy version is published: run `pricewarden policy publish FILE` first")
    session.flush()
    marker = session.scalar(select(func.max(Observation.id))) or 0
    inputs = current_inputs(session, cfg.model_dump(mode="json"), anomalies) if since is None else None
    previous = last_run(session) if inputs is not None else None
    # Before the other reads: an id this sees is seen by them too.
    pending = pending_ids(session, marker, previous, utcnow()) if inputs is not None else []
    window, mode, judge_from = since, "full" if since is None else "since", None
    if inputs is not None and previous is not None and not (full or retrain or explicit):
        keep, reopened = reopened_from(previous.inputs, inputs)
        if keep:
            mode = "incremental"
            first_new = session.scalar(select(func.min(Observation.observed_at)).where(stored_since(previous)))
            starts = [t for t in (first_new, reopened) if t is not None]
            window = min(starts) if starts else None
    read_from = since  # what the frame holds: every observation from this instant on (None: all)
    # Every crawled row's URL, run and day as read with the frame, for the crawl-day rollup (one read, not two):
    # a whole-store run's (an incremental run reads a week of context, its rollup only the new days: less).
    pages: dict[str, Any] | None = None if explicit else {}
    if mode == "incremental" and window is None:
        read_from = utcnow() + timedelta(days=1)
        obs = observations_frame(session, since=read_from, evidence=False)
    elif mode == "incremental":
        assert window is not None
        # The anomaly features of a day read the day's market and the series' recent points.
        judge_from = pd.Timestamp(window).tz_convert("UTC").floor("D").to_pydatetime()
        context = judge_from - timedelta(days=cfg.anomaly_price_war_days) if anomalies else window
        read_from = min(context, window)
        obs = observations_frame(session, since=read_from, evidence=False)
        if anomalies:
            obs = _with_series_history(session, obs, judge_from, cfg.anomaly_min_history)
    else:
        obs = observations_frame(session, since=since, evidence=False, pages=pages)
    obs = read_obs = obs.reset_index(drop=True)  # read_obs: every row judged (the lifecycle's window aside)
    step(1, f"judging {len(obs):,} observations")
    judgement: Judgement = judge(obs, frames)
    summary = DetectSummary(observations=len(obs), judged=int(judgement.judged.sum()),
                            compliant=int(judgement.compliant.sum()), mode=mode)

    models_obs, models = obs, None
    if anomalies and len(obs):
        res = judgement.resolved
        # Inside a promotion or exemption window the lower price is brand-approved, not an anomaly.
        models_obs = obs.assign(in_window=(res["floor_e4"] != NA_E4) & (res["floor_e4"] < res["base_floor_e4"]))
        from detection import forked

        if forked.can_fork(len(obs)):
            # The models' features, fit and scores in a child process while this one writes the rules' episodes.
            from detection.anomaly import AnomalyParams, latest_artifact, reports_frame

            models = forked.start(models_obs, AnomalyParams.from_settings(), reports_frame(session, judge_from),
                                  None if retrain else latest_artifact(session), judge_from)
    try:
        return _after_judging(session, obs, read_obs, judgement, summary, cfg, mode, window, since, judge_from,
                              read_from, anomalies, retrain, explicit, frames, marker, inputs, previous, pending,
                              models_obs, models, now, step, pages or None)
    finally:
        if models is not None:
            models.cancel()  # a no-op once its result was taken


def _after_judging(
    session: Session, obs: pd.DataFrame, read_obs: pd.DataFrame, judgement: Judgement, summary: DetectSummary,
    cfg: Any, mode: str, window: datetime | None, since: datetime | None, judge_from: datetime | None,
    read_from: datetime | None, anomalies: bool, retrain: bool, explicit: bool, frames: RuleFrames, marker: int,
    inputs: Any, previous: Any, pending: Any, models_obs: pd.DataFrame, models: Any, now: datetime | None,
    step: Callable[[int, str], None], pages: dict[str, Any] | None,
) -> DetectSummary:
    """:func:`detect` once the frame is judged: the episodes, reports, models, stale listings and rollups."""
    from detection.incremental import stored_inputs

    def evidence(obs_ids: Iterable[int]) -> dict[int, tuple[Any, ...]]:
        return evidence_of(session, obs_ids)

    findings, judged = judgement.findings, np.asarray(judgement.judged | judgement.resolved["has_scope"], dtype=bool)
    judged_obs = obs
    # The subjects of the frame's rows, once for both the rules' and the models' lifecycle (a million rows: ~1 s
    # each); an incremental run's passes see parts of the frame, each its own.
    subjects = subjects_of(obs) if len(obs) and mode != "incremental" else None
    if mode == "incremental" and window is not None and len(obs):
        # What was read before the window (the anomaly models' context) was judged by the earlier
        # runs and every episode's watermark is past it: the lifecycle sees the window only (a
        # subject seen only before it has no event, so its episodes stay as they are).
        first = int(np.searchsorted(obs["observed_at"].to_numpy(dtype="datetime64[ns]"),
                                    pd.Timestamp(window).tz_convert("UTC").tz_localize(None).to_datetime64()))
        pos = findings["pos"].to_numpy(dtype=np.int64)
        findings = findings[pos >= first].assign(pos=pos[pos >= first] - first)
        judged, judged_obs = judged[first:], obs.iloc[first:].reset_index(drop=True)
    step(2, f"updating violations ({len(findings):,} findings)")
    apply_findings(session, judged_obs, findings, judged,
                   RULE_FINDINGS, resolve_after=cfg.resolve_after, frames=frames, summary=summary,
                   repeat_window_days=cfg.repeat_window_days, evidence=evidence, every_key=mode == "incremental",
                   subject_rows=subjects if judged_obs is obs else None)
    from detection.confirm import classify
    from detection.misreport import detect_misreports

    step(3, "cross-checking partner reports")
    if mode != "incremental":
        detect_misreports(session, frames, since=since, summary=summary, resolve_after=cfg.resolve_after)
    elif window is not None:
        # A new web price can change the nearest match of a report up to the window before it.
        detect_misreports(session, frames, since=window - timedelta(hours=cfg.misreport_window_hours),
                          summary=summary, resolve_after=cfg.resolve_after)
    # A violation read by heuristics waits for a second reading before anything reaches the partner.
    classify(session)
    step(4, "anomaly models")
    if anomalies and len(obs):
        from detection.anomaly import detect_anomalies

        obs = models_obs
        # models_obs: the frame's rows in the frame's order, one column more.
        detect_anomalies(session, obs, summary=summary, resolve_after=cfg.resolve_after, retrain=retrain,
                         evidence=evidence, judge_from=judge_from, every_key=mode == "incremental", scored=models,
                         subjects=subjects)
    from detection.stale import detect_stale

    step(5, "stale listings")
    # Staleness is measured on the data's clock (the latest crawl), not the wall clock: a listing is
    # stale when monitoring runs but yields nothing for it, and a simulated or replayed history is
    # judged the same on every run.
    latest = obs["observed_at"].max().to_pydatetime() if len(obs) else None
    if mode == "incremental" and previous is not None and previous.observed_until is not None:
        latest = max(latest, previous.observed_until) if latest is not None else previous.observed_until
    if now is None:
        now = min(utcnow(), latest) if latest is not None else None
    if now is not None:
        detect_stale(session, now=now, summary=summary, resolve_after=cfg.resolve_after,
                     stale_after_days=cfg.stale_after_days)
    if inputs is not None:
        model = session.scalar(select(func.max(AnomalyModel.version))) if anomalies else None
        session.add(DetectionRun(mode=mode, observation_id=marker, observed_until=latest, pending=pending,
                                 inputs=stored_inputs(inputs, model), finished_at=utcnow(),
                                 stats=summary.totals()))
    session.flush()
    if not explicit:
        from detection.rollups import refresh

        # The review app's per-day sums, from the first instant this run judged again (new observations and
        # failures since the last refresh are found by refresh itself).
        refresh(session, since=window if mode == "incremental" else since, full=mode == "full",
                judged=(read_obs, judgement.judged, judgement.compliant, read_from), pages=pages)
    step(len(DETECT_STEPS), "done")
    return summary


# The steps :func:`detect` reports to ``on_step``, in order.
DETECT_STEPS = ("load", "judge", "violations", "misreports", "anomalies", "stale")


def _with_series_history(session: Session, obs: pd.DataFrame, judge_from: datetime, min_history: int) -> pd.DataFrame:
    """``obs`` with the earlier points of the series it holds too few of before ``judge_from``.

    The anomaly baseline of a point is the median of its series' previous points: a series crawled
    less often than that within the loaded context reads its history further back (by listing).
    """
    from detection.anomaly import BASELINE_WINDOW

    if not len(obs):
        return obs
    wanted = max(BASELINE_WINDOW, min_history)
    at = obs["observed_at"].to_numpy(dtype="datetime64[ns]")
    before = at < np.datetime64(pd.Timestamp(judge_from).tz_convert("UTC").tz_localize(None), "ns")
    # One code per series (SKU, party, listing), counted by code rather than by a text per row.
    from detection.episodes import subjects_of

    series = subjects_of(obs)[0]
    counts = np.bincount(series[before], minlength=int(series.max()) + 1)
    judged = np.unique(series[~before])
    short = judged[counts[judged] < wanted]
    if not len(short):
        return obs
    listings = obs.loc[np.isin(series, short) & ~before, "listing_id"]
    if listings.isna().any():
        return observations_frame(session, evidence=False)  # a series without a listing: read it all
    ids = sorted({int(v) for v in listings})
    earliest = obs["observed_at"].min().to_pydatetime()
    extra = observations_frame(session, evidence=False, listing_ids=ids, before=earliest)
    if not len(extra):
        return obs
    return pd.concat([extra, obs], ignore_index=True)


def partner_codes(session: Session) -> dict[int, str]:
    """Partner id -> code, for reports."""
    return {p.id: p.code for p in session.scalars(select(Partner))}


__all__ = ["DETECT_STEPS", "DetectSummary", "apply_findings", "detect", "finding_records", "insert_episode",
           "partner_codes",
           "update_episode"]
