"""Loading and validating policy files: every problem names file, line and field, all are reported."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from policies import check_policy, load_policy, parse_policy
from pricewarden.errors import PolicyValidationError, Problem
from pricewarden.settings import get_settings

MODES = {"US": "map", "EU": "recommended", "CN": "recommended"}
SAMPLE = Path(__file__).parents[1] / "pricewarden" / "sample" / "policies" / "policy.yaml"

# A small valid policy; each case below changes one line (numbers are the file's lines).
VALID = """\
policy: Small
effective_from: 2026-03-01T00:00
timezone: America/New_York
currency: USD
scopes:
  - {name: us, regions: [US], mode: map}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
rules:
  - {sku: AC-100, scope: us, map: "199.00", tiers: {A: {map: "189.00"}}}
  - {category: headphones, scope: eu, recommended: "229.00"}
promotions:
  - {name: BF, scope: us, skus: [AC-100], price: "159.00", start: 2026-11-27T00:00, end: 2026-12-01T00:00}
exemptions:
  - {partner: P007, skus: [AC-100], floor: "149.00", start: 2026-04-01T00:00, end: 2026-04-08T00:00, reason: x}
"""


def problems_of(text: str) -> list[Problem]:
    return check_policy(text, file="p.yaml", region_modes=MODES)


def change(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_valid_policy_loads_typed() -> None:
    policy = parse_policy(VALID, file="p.yaml", region_modes=MODES)
    assert policy.effective_from == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert policy.rules[0].prices.map == Decimal("199.00")
    assert policy.rules[0].tier("A") is not None
    assert policy.promotions[0].start == datetime(2026, 11, 27, 5, tzinfo=UTC)
    assert [s.mode for s in policy.scopes] == ["map", "recommended"]
    assert len(policy.source_sha256) == 64


def test_sample_policy_is_valid_with_default_settings() -> None:
    policy = load_policy(SAMPLE)
    modes = {s.name: (s.mode, s.mode_from_settings) for s in policy.scopes}
    assert modes == {"us": ("map", False), "eu": ("recommended", False), "cn": ("recommended", True)}
    assert policy.scope("us") is not None and policy.scope("us").escalation is not None  # type: ignore[union-attr]


def test_unquoted_price_is_read_exactly() -> None:
    policy = parse_policy(change('map: "199.00"', "map: 199.10"), file="p.yaml", region_modes=MODES)
    assert policy.rules[0].prices.map == Decimal("199.10")
    assert str(policy.rules[0].prices.map) == "199.10"


# (id, old, new, line, field, message part)
CASES = [
    ("unknown root key", "currency: USD", "currency: USD\ncolour: red", 5, "colour", "unknown key 'colour'"),
    ("unknown rule key", 'map: "199.00",', 'map: "199.00", mapp: "1",', 9, "rules[0].mapp", "unknown key 'mapp'"),
    ("bad date", "effective_from: 2026-03-01T00:00", "effective_from: 2026-13-01T00:00", 2, "effective_from",
     "not a valid date-time"),
    ("unknown time zone", "timezone: America/New_York", "timezone: America/Gotham", 3, "timezone",
     "unknown time zone 'America/Gotham'"),
    ("unknown tier in override", '{A: {map: "189.00"}}', '{D: {map: "189.00"}}', 9, "rules[0].tiers.D",
     "unknown tier 'D'"),
    ("unknown tier in promotion", "end: 2026-12-01T00:00}", "end: 2026-12-01T00:00, tiers: [A, Z]}", 12,
     "promotions[0].tiers", "unknown tier 'Z'"),
    ("unknown mode", "mode: recommended,", "mode: suggested,", 7, "scopes[eu].mode", "unknown mode 'suggested'"),
    ("non-decimal price", 'map: "199.00"', 'map: "199,00"', 9, "rules[0].map", "must be a decimal number"),
    ("exponent price", 'map: "199.00"', 'map: "1e3"', 9, "rules[0].map", "must be a decimal number"),
    ("negative price", 'price: "159.00"', 'price: "-1"', 12, "promotions[0].price", "must not be negative"),
    ("boolean price", 'floor: "149.00"', "floor: true", 14, "exemptions[0].floor", "must be a decimal number"),
    ("currency not ISO 4217", "currency: EUR", "currency: EURO", 7, "scopes[eu].currency", "not an ISO 4217"),
    ("rule with unknown scope", "{category: headphones, scope: eu,", "{category: headphones, scope: de,", 10,
     "rules[1].scope", "unknown scope 'de'"),
    ("same sku and scope twice", '  - {category: headphones, scope: eu, recommended: "229.00"}',
     '  - {sku: AC-100, scope: us, map: "205.00"}', 10, "rules[1].sku", "sku AC-100 has two rules in scope `us`"),
    ("same category twice", '  - {category: headphones, scope: eu, recommended: "229.00"}',
     '  - {category: headphones, scope: eu, recommended: "229.00"}\n'
     '  - {category: headphones, scope: eu, recommended: "219.00"}', 11, "rules[2].category",
     "category headphones has two rules in scope `eu`"),
    ("end before start", "end: 2026-12-01T00:00}", "end: 2026-11-26T00:00}", 12, "promotions[0].end",
     "must be after start"),
    ("end equal to start", "end: 2026-04-08T00:00", "end: 2026-04-01T00:00", 14, "exemptions[0].end",
     "must be after start"),
    ("overlapping promotions", "exemptions:\n",
     '  - {name: BF2, scope: us, skus: [AC-100], price: "149.00", start: 2026-11-30T00:00, end: 2026-12-02T00:00}\n'
     "exemptions:\n", 13, "promotions[1]", "promotion overlaps the one at line 12 for sku AC-100"),
    ("overlapping exemptions", "reason: x}\n",
     "reason: x}\n  - {partner: P007, skus: [AC-100, AC-200], floor: \"139.00\", start: 2026-04-07T00:00, "
     "end: 2026-04-09T00:00, reason: y}\n", 15, "exemptions[1]", "exemption overlaps the one at line 14"),
    ("map rule without map", '{sku: AC-100, scope: us, map: "199.00",', '{sku: AC-100, scope: us, msrp: "249.00",',
     9, "rules[0].map", "its rules need `map`"),
    ("floor in a recommended scope", 'scope: eu, recommended: "229.00"}',
     'scope: eu, recommended: "229.00", map: "199.00"}', 10, "rules[1].map",
     "`map` is not allowed in scope `eu` (mode `recommended`)"),
    ("max discount without msrp", 'map: "199.00",', 'map: "199.00", max_discount_pct: 20,', 9,
     "rules[0].max_discount_pct", "needs an msrp"),
    ("sku and category both", "{category: headphones, scope: eu,", "{category: headphones, sku: X, scope: eu,", 10,
     "rules[1]", "exactly one of `sku` or `category`"),
    ("duplicate key", "currency: USD", "currency: USD\ncurrency: EUR", 5, "currency", "duplicate key 'currency'"),
    ("region in two scopes", "regions: [EU]", "regions: [EU, US]", 7, "scopes[eu].regions",
     "region US is already covered by scope `us`"),
    ("promotion in an unknown scope", "- {name: BF, scope: us,", "- {name: BF, scope: uk,", 12,
     "promotions[0].scope", "unknown scope 'uk'"),
    ("exemption in a recommended scope", "reason: x}", "reason: x, scope: eu}", 14, "exemptions[0].scope",
     "an exemption lowers a floor, which only a map scope has"),
    ("not YAML", "scopes:\n", "scopes: [\n", 6, None, "not valid YAML"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_one_problem_per_issue(old: str, new: str, line: int, field: str | None, message: str) -> None:
    problems = problems_of(change(old, new))
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.field) == ("p.yaml", line, field)
    assert message in problem.message


def test_all_problems_are_reported_in_line_order() -> None:
    text = change("effective_from: 2026-03-01T00:00", "effective_from: 2026-02-30T00:00")
    text = text.replace('{A: {map: "189.00"}}', '{Q: {map: "189.00"}}')
    text = text.replace('  - {category: headphones, scope: eu, recommended: "229.00"}',
                        '  - {sku: AC-100, scope: us, map: "205.00"}')
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(text, file="p.yaml", region_modes=MODES)
    found = [(p.line, p.field) for p in info.value.problems]
    assert found == [(2, "effective_from"), (9, "rules[0].tiers.Q"), (10, "rules[1].sku")]
    assert str(info.value).startswith("p.yaml:2 [effective_from]: not a valid date-time")
    assert "(and 2 more)" in str(info.value)


ESCALATING_EU = """\
policy: EU with a ladder
effective_from: 2026-03-01T00:00
timezone: Europe/Berlin
currency: EUR
scopes:
  - name: eu
    regions: [EU]
    mode: recommended
    escalation:
      window_days: 90
      steps:
        - {name: warning, after: 1, notify_partner: true}
        - {name: rebate_cancelled, after: 2, penalty: true}
rules:
  - {category: headphones, scope: eu, recommended: "229.00"}
"""


def test_recommended_scope_with_escalation_is_rejected_with_reason() -> None:
    problems = problems_of(ESCALATING_EU)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.field) == (10, "scopes[eu].escalation")
    assert "EU `recommended` scope `eu`: a minimum resale price cannot be enforced" in problem.message
    assert "only allowed in map or maximum scopes" in problem.message


@pytest.mark.parametrize(("mode", "why"), [("recommended", "minimum resale price cannot be enforced"),
                                           ("observe", "only watches prices")])
def test_partner_notices_refused_outside_map_and_maximum(mode: str, why: str) -> None:
    text = change("mode: recommended, currency: EUR}", f"mode: {mode}, currency: EUR, partner_notices: true}}")
    if mode == "observe":
        text = text.replace('recommended: "229.00"}', "}")
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [(7, "scopes[eu].partner_notices")]
    assert why in problems[0].message


def test_scope_without_mode_takes_the_region_default() -> None:
    text = change("mode: recommended, currency: EUR}", "currency: EUR}")
    policy = parse_policy(text, file="p.yaml", region_modes={"US": "map", "EU": "recommended"})
    eu = policy.scope("eu")
    assert eu is not None and (eu.mode, eu.mode_from_settings) == ("recommended", True)


def test_default_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEWARDEN_REGION_MODES", '{"US": "map", "EU": "observe"}')
    get_settings.cache_clear()
    text = change("mode: recommended, currency: EUR}", "currency: EUR}").replace('recommended: "229.00"}', "}")
    eu = parse_policy(text, file="p.yaml").scope("eu")
    assert eu is not None and eu.mode == "observe"


@pytest.mark.parametrize(("regions", "message"), [
    ("[EU, US]", "its regions default to different modes (EU=recommended, US=map)"),
    ("[JP]", "settings.region_modes has no default for JP"),
])
def test_scope_without_mode_and_no_single_default(regions: str, message: str) -> None:
    text = change("- {name: eu, regions: [EU], mode: recommended, currency: EUR}",
                  f"- {{name: eu, regions: {regions}, currency: EUR}}")
    text = text.replace("- {name: us, regions: [US], mode: map}", "- {name: us, regions: [MX], mode: map}")
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [(7, "scopes[eu].mode")]
    assert message in problems[0].message


def test_stored_scope_modes_win_over_settings() -> None:
    text = change("mode: recommended, currency: EUR}", "currency: EUR}").replace('recommended: "229.00"}', "}")
    policy = parse_policy(text, file="p.yaml", region_modes={"US": "map", "EU": "map"},
                          scope_modes={"eu": "observe"})
    assert policy.scope_modes() == {"us": "map", "eu": "observe"}


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(PolicyValidationError) as info:
        load_policy(tmp_path / "nope.yaml", region_modes=MODES)
    assert len(info.value.problems) == 1 and "cannot read" in info.value.problems[0].message


def test_ladder_steps_must_climb() -> None:
    text = change("- {name: us, regions: [US], mode: map}",
                  "- {name: us, regions: [US], mode: map, escalation: {window_days: 30, steps: "
                  "[{name: a, after: 2}, {name: b, after: 2}]}}")
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [(6, "scopes[us].escalation.steps[1].after")]


def test_anchors_share_a_ladder_between_scopes() -> None:
    text = change("- {name: us, regions: [US], mode: map}",
                  "- {name: us, regions: [US], mode: map, escalation: &ladder {window_days: 30, steps: "
                  "[{name: warning, after: 1}]}}\n  - {name: ca, regions: [CA], mode: maximum, escalation: *ladder}")
    policy = parse_policy(text, file="p.yaml", region_modes=MODES)
    us, ca = policy.scope("us"), policy.scope("ca")
    assert us is not None and ca is not None and us.escalation == ca.escalation
    assert us.escalation is not None and us.escalation.window_days == 30
