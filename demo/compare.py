"""The monitor's findings against the sandbox's truth, in one unit: violation episodes.

The truth lists, for each simulated day, every breach a perfect monitor would see (``World.truth``).
A breach that lasts several days is one *episode* (the same rule, SKU, party and page on consecutive
days), which is what the monitor records as one violation (it extends an open violation while the
breach lasts). So both sides are counted in episodes: a finding *matches* a truth episode of the same
rule, SKU, party and page whose days overlap the days the finding was seen. Per rule:

- precision = findings that match a truth episode / findings;
- recall = truth episodes matched by a finding / truth episodes.

Findings of rules the page truth does not hold (misreports, which come from partner reports, and
anomalies) are listed with no truth to compare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The truth's rule names (demo.pricing) → the monitor's (detection.engine.RULE_KIND).
TRUTH_RULES = {"map": "below_map", "recommended": "below_recommended", "maximum": "above_maximum",
               "hidden_price": "hidden_price", "unauthorised_seller": "unauthorised_seller"}


def _party(partner: str | None, seller_id: str | None) -> str:
    return partner or f"seller:{seller_id or '?'}"


@dataclass(frozen=True)
class Episode:
    """Consecutive days of one breach: rule (the monitor's name), SKU, party, page, first and last day."""

    rule: str
    sku: str
    party: str
    url: str
    first_day: int
    last_day: int


def truth_episodes(rows: Iterable[Mapping[str, Any]]) -> list[Episode]:
    """Episodes of the truth's per-day violation rows (``World.truth(day)["violations"]`` of every day)."""
    days: dict[tuple[str, str, str, str], set[int]] = {}
    for row in rows:
        key = (TRUTH_RULES.get(row["rule"], row["rule"]), row["sku"], _party(row.get("partner"), row.get("seller_id")),
               row["url"])
        days.setdefault(key, set()).add(int(row["day"]))
    episodes = []
    for (rule, sku, party, url), seen in sorted(days.items()):
        ordered = sorted(seen)
        start = previous = ordered[0]
        for day in ordered[1:]:
            if day != previous + 1:
                episodes.append(Episode(rule, sku, party, url, start, previous))
                start = day
            previous = day
        episodes.append(Episode(rule, sku, party, url, start, previous))
    return episodes


def compare(truth: Iterable[Mapping[str, Any]], findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per rule: truth episodes, findings, matches, precision and recall (``None`` where undefined).

    ``findings`` are the monitor's violations and deviations as mappings with ``rule``, ``sku``,
    ``partner`` (code or ``None``), ``seller_id``, ``url``, ``first_day`` and ``last_day``.
    """
    episodes = truth_episodes(truth)
    found = [Episode(f["rule"], f["sku"] or "", _party(f.get("partner"), f.get("seller_id")), f["url"] or "",
                     int(f["first_day"]), int(f["last_day"])) for f in findings]
    by_key: dict[tuple[str, str, str, str], list[Episode]] = {}
    for episode in episodes:
        by_key.setdefault((episode.rule, episode.sku, episode.party, episode.url), []).append(episode)
    recalled: set[Episode] = set()
    matched: dict[str, int] = {}
    for finding in found:
        hits = [e for e in by_key.get((finding.rule, finding.sku, finding.party, finding.url), [])
                if e.first_day <= finding.last_day and finding.first_day <= e.last_day]
        recalled.update(hits)
        if hits:
            matched[finding.rule] = matched.get(finding.rule, 0) + 1
    rows = []
    for rule in sorted({e.rule for e in episodes} | {f.rule for f in found}):
        truth_n = sum(1 for e in episodes if e.rule == rule)
        found_n = sum(1 for f in found if f.rule == rule)
        hit_n = matched.get(rule, 0)
        recall_n = sum(1 for e in recalled if e.rule == rule)
        in_truth = rule in TRUTH_RULES.values()
        rows.append({
            "rule": rule, "truth_episodes": truth_n if in_truth else None, "findings": found_n,
            "matched": hit_n if in_truth else None,
            "precision": round(hit_n / found_n, 3) if in_truth and found_n else None,
            "recall": round(recall_n / truth_n, 3) if truth_n else None,
        })
    return rows
