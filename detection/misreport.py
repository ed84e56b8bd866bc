"""Partner misreporting: a reported price that differs from what the web showed shoppers.

The comparison itself is ``crawlers.reports.cross_check`` (nearest web observation of the same
partner and SKU within ``detection.misreport_window_hours``, beyond
``detection.misreport_tolerance_pct``). Here each misreport becomes a finding of rule
``partner_misreport`` whose kind follows the mode of the scope in force at the report's instant:
a violation in map and maximum scopes, a deviation in recommended scopes, nothing in observe.
The observed price is the web price; the "allowed" price is what the partner reported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from detection.engine import RULE_KIND, resolve_frame
from detection.tables import NA_E4, RuleFrames, to_e4

if TYPE_CHECKING:
    from detection.run import DetectSummary

RULE = "partner_misreport"


def misreport_findings(reports: pd.DataFrame, misreports: list[Any], frames: RuleFrames) -> pd.DataFrame:
    """Findings (engine format, ``pos`` into ``reports``) for ``misreports`` (``Misreport`` records)."""
    columns = ["pos", "rule", "kind", "mode", "scope", "version", "rule_ref", "observed_e4", "allowed_e4",
               "gap_e4", "currency", "explanation"]
    if not misreports or reports.empty:
        return pd.DataFrame(columns=columns)
    position = pd.Series(np.arange(len(reports)), index=reports["obs_id"].to_numpy(dtype=np.int64))
    resolved = resolve_frame(reports, frames)
    rows = []
    for m in misreports:
        if m.reported_observation_id not in position.index:
            continue
        pos = int(position[m.reported_observation_id])
        mode = resolved["mode"].iat[pos]
        kind = RULE_KIND[RULE].get(mode) if mode else None
        if kind is None:
            continue
        observed, reported = to_e4(m.observed_price), to_e4(m.reported_price)
        rows.append({
            "pos": pos, "rule": RULE, "kind": kind, "mode": mode, "scope": resolved["scope"].iat[pos],
            "version": int(resolved["version"].iat[pos]), "rule_ref": resolved["rule_ref"].iat[pos],
            "observed_e4": observed, "allowed_e4": reported, "gap_e4": abs(reported - observed),
            "currency": m.currency,
            "explanation": {"web_observation_id": m.web_observation_id, "web_observed_at": m.observed_at.isoformat(),
                            "reported_at": m.reported_at.isoformat(), "diff_pct": str(m.diff_pct)},
        })
    return pd.DataFrame(rows, columns=columns)


def detect_misreports(session: Session, frames: RuleFrames, *, since: datetime | None, summary: DetectSummary,
                      resolve_after: int) -> None:
    """Cross-check partner reports with the web and record each misreport (no-op without reports)."""
    try:
        from crawlers.reports import cross_check
    except ImportError:  # the reports package is optional for detection
        return
    from sqlalchemy import select

    from detection.episodes import apply_findings
    from detection.frames import observations_frame
    from store import Observation, Source

    # Without a report there is nothing to cross-check: do not read the web prices at all.
    reported = select(Observation.id).where(Observation.source.in_([Source.PARTNER_REPORT, Source.FEED]))
    if since is not None:
        reported = reported.where(Observation.observed_at >= since)
    if session.scalar(reported.limit(1)) is None:
        return
    misreports = cross_check(session, since=since)
    if not misreports:
        return
    reports = observations_frame(session, since=since, sources=("partner_report", "feed")).reset_index(drop=True)
    reports = reports[reports["price_e4"] != NA_E4].reset_index(drop=True)
    findings = misreport_findings(reports, misreports, frames)
    if findings.empty:
        return
    reports, findings, evidence = with_web_evidence(session, reports, findings)
    apply_findings(session, reports, findings, np.zeros(len(reports), dtype=bool), (RULE,),
                   resolve_after=resolve_after, frames=frames, summary=summary, repeat_window_days=0,
                   evidence=evidence)


def with_web_evidence(session: Session, reports: pd.DataFrame, findings: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Misreport findings whose evidence is the page that showed shoppers the other price.

    A misreport's observed price is what the web showed; its proof is that page: its URL, the price
    as shown there, its HTML snapshot and screenshot (the web observation's). What the partner
    reported stays as the allowed price, and its row's raw text goes into the explanation. Returns
    the reports, the findings (explanations completed) and the evidence reader for ``apply_findings``.
    """
    from sqlalchemy import select

    from detection.tables import from_e4
    from store.models import Observation

    columns = ("url", "raw_text", "html_sha256", "screenshot_sha256")
    own = {int(i): tuple(reports[c].iat[n] if c in reports else None for c in columns)
           for n, i in enumerate(reports["obs_id"])}
    web_of: dict[int, int] = {}
    explanations: list[Any] = []
    for pos, allowed_e4, observed_e4, explanation in zip(findings["pos"], findings["allowed_e4"],
                                                         findings["observed_e4"], findings["explanation"],
                                                         strict=True):
        explanation = dict(explanation or {})
        if explanation.get("web_observation_id") is not None:
            report_id = int(reports["obs_id"].iat[int(pos)])
            web_of[report_id] = int(explanation["web_observation_id"])
            explanation.update(reported_raw_text=own[report_id][1], reported_price=str(from_e4(int(allowed_e4))),
                               shown_price=str(from_e4(int(observed_e4))))
        explanations.append(explanation)
    findings = findings.assign(explanation=explanations)
    pages = {}
    if web_of:
        ids = sorted(set(web_of.values()))
        for start in range(0, len(ids), 500):
            for row in session.execute(select(Observation.id, *(getattr(Observation, c) for c in columns))
                                       .where(Observation.id.in_(ids[start:start + 500]))):
                pages[int(row[0])] = tuple(row[1:])

    def evidence(obs_ids: Any) -> dict[int, tuple[Any, ...]]:
        return {int(i): pages.get(web_of.get(int(i), -1), own.get(int(i), (None,) * 4)) for i in obs_ids}

    return reports, findings, evidence
