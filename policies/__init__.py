"""The price policy: load and validate policy files, version them, and answer "which rule applied?".

Public API::

    parse_policy(text, file=...) / load_policy(path) -> Policy      # or PolicyValidationError
    check_policy(text, file=...) -> list[Problem]
    resolve(versions, sku=, category=, partner_code=, tier=, region=, at=) -> ResolvedRule
    version_in_force(versions, at) -> PublishedPolicy | None
    compile_rules(versions) -> RuleTables                            # plain records for pandas joins
    publish_policy(session, path, published_by=) / load_versions(session)   # store adapter
    diff_policies(old, new) -> list[Change]
"""

from policies._diff import Change, diff_policies
from policies._load import check_policy, load_policy, parse_policy
from policies._model import (
    MODE_PERMITS,
    MODES,
    TIERS,
    EscalationLadder,
    EscalationStep,
    Exemption,
    Mode,
    Permits,
    Policy,
    Prices,
    Promotion,
    PublishedPolicy,
    Rule,
    Scope,
    TierOverride,
    Tolerance,
)
from policies._resolve import ResolvedRule, Step, resolve, version_in_force
from policies._store import PublishResult, load_versions, publish_policy, publish_text
from policies._tables import RuleTables, compile_rules

__all__ = [
    "MODES", "MODE_PERMITS", "TIERS", "Change", "EscalationLadder", "EscalationStep", "Exemption", "Mode",
    "Permits", "Policy", "Prices", "Promotion", "PublishResult", "PublishedPolicy", "ResolvedRule", "Rule",
    "RuleTables", "Scope", "Step", "TierOverride", "Tolerance", "check_policy", "compile_rules",
    "diff_policies", "load_policy", "load_versions", "parse_policy", "publish_policy", "publish_text",
    "resolve", "version_in_force",
]
