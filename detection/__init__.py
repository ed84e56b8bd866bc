"""Detection: pure rules over observations and the policy, anomaly models, and the violation lifecycle.

Public API (imported lazily so that ``pricewarden --help`` does not load pandas)::

    detect(session, since=None) -> DetectSummary          # rules + anomalies + stale listings -> violations
    judge(obs_frame, rule_frames) -> Judgement            # the pure, vectorised rules pass
    resolve_frame(obs_frame, rule_frames) -> DataFrame    # the vectorised twin of policies.resolve
    rule_frames(versions) / load_rule_frames(session)     # policy versions -> the engine's tables
    acknowledge / dismiss / resolve / reopen(session, violation_id, actor, reason=None)   # audited, scoped
    assign(session, id, actor, assignee) / snooze(session, id, actor, until, max_days=)   # audited, scoped
    parse_query(session, user, params) / search_violations(session, user, query)  # the review queue
    list_violations(session, user, filters) / get_violation(session, user, id) / scorecard(session, user, since)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "detect": "detection.run", "DetectSummary": "detection.run",
    "judge": "detection.rules", "evaluate": "detection.rules", "Judgement": "detection.rules",
    "resolve_frame": "detection.engine", "RULE_KIND": "detection.engine",
    "RuleFrames": "detection.tables", "to_e4": "detection.tables", "from_e4": "detection.tables",
    "rule_frames": "detection.policy_bridge", "load_rule_frames": "detection.policy_bridge",
    "acknowledge": "detection.lifecycle", "dismiss": "detection.lifecycle", "resolve": "detection.lifecycle",
    "advance": "detection.lifecycle", "severity": "detection.lifecycle", "violation_key": "detection.lifecycle",
    "can_see": "detection.lifecycle", "reopen": "detection.lifecycle", "assign": "detection.lifecycle",
    "snooze": "detection.lifecycle",
    "ViolationQuery": "detection.review", "parse_query": "detection.review", "search_violations": "detection.review",
    "list_violations": "detection.queries", "get_violation": "detection.queries",
    "scorecard": "detection.queries", "violation_dict": "detection.queries",
    "observations_frame": "detection.frames",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'detection' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
