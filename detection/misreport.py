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
    from detection.frames import observations_frame
    from detection.run import apply_findings, finding_records

    misreports = cross_check(session, since=since)
    if not misreports:
        return
    reports = observations_frame(session, since=since, sources=("partner_report", "feed")).reset_index(drop=True)
    reports = reports[reports["price_e4"] != NA_E4].reset_index(drop=True)
    findings = misreport_findings(reports, misreports, frames)
    if findings.empty:
        return
    records = with_web_evidence(session, finding_records(reports, findings))
    apply_findings(session, reports, records, np.zeros(len(reports), dtype=bool),
                   (RULE,), resolve_after=resolve_after, frames=frames, summary=summary, repeat_window_days=0)


def with_web_evidence(session: Session, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Misreport records whose evidence is the page that showed shoppers the other price.

    A misreport's observed price is what the web showed; its proof is that page: its URL, the price
    as shown there, its HTML snapshot and screenshot (the web observation's). What the partner
    reported stays as the allowed price, and its row's raw text goes into the explanation.
    """
    from store.models import Observation

    ids = {int(r["explanation"]["web_observation_id"]) for r in records
           if (r.get("explanation") or {}).get("web_observation_id") is not None}
    if not ids:
        return records
    web = {o.id: o for o in session.query(Observation).filter(Observation.id.in_(ids))}
    out = []
    for record in records:
        explanation = dict(record.get("explanation") or {})
        page = web.get(int(explanation.get("web_observation_id") or 0))
        if page is None:
            out.append(record)
            continue
        explanation.update(reported_raw_text=record.get("raw_text"), reported_price=str(record["allowed_price"]),
                           shown_price=str(record["observed_price"]))
        out.append({**record, "url": page.url, "raw_text": page.raw_text, "html_sha256": page.html_sha256,
                    "screenshot_sha256": page.screenshot_sha256, "explanation": explanation})
    return out
