"""The price policy: load and validate policy files, version them, and answer "which rule applied?".

Public API::

    parse_policy(text, file=...) / load_policy(path) -> Policy      # or PolicyValidationError
    check_policy(text, file=...) -> list[Problem]
    resolve(versions, sku=, category=, partner_code=, tier=, region=, at=) -> ResolvedRule
    version_in_force(versions, at) -> PublishedPolicy | None
    compile_rules(versions) -> RuleTables                            # plain records for pandas joins
    publish_policy(session, path, published_by=) / load_versions(session)   # store adapter
    diff_policies(old, new) -> list[Change]
    expected_currency(sku, partner_code, at) -> str | None          # for partner-report import
"""

from typing import TYPE_CHECKING, Any

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
from policies._tables import RuleTables, compile_rules

if TYPE_CHECKING:
    from policies._currency import expected_currency
    from policies._store import PublishResult, load_versions, publish_policy, publish_text

_STORE_NAMES = frozenset({"PublishResult", "load_versions", "publish_policy", "publish_text"})


def __getattr__(name: str) -> Any:
    # The store adapter pulls in SQLAlchemy and the models: imported on first use, so that
    # `pricewarden --help` and pure callers of resolve() do not pay for it.
    if name in _STORE_NAMES:
        from policies import _store

        return getattr(_store, name)
    if name == "expected_currency":
        from policies import _currency

        return _currency.expected_currency
    raise AttributeError(f"module 'policies' has no attribute {name!r}")

__all__ = [
    "MODES", "MODE_PERMITS", "TIERS", "Change", "EscalationLadder", "EscalationStep", "Exemption", "Mode",
    "Permits", "Policy", "Prices", "Promotion", "PublishResult", "PublishedPolicy", "ResolvedRule", "Rule",
    "RuleTables", "Scope", "Step", "TierOverride", "Tolerance", "check_policy", "compile_rules",
    "diff_policies", "expected_currency", "load_policy", "load_versions", "parse_policy", "publish_policy",
    "publish_text", "resolve", "version_in_force",
]
