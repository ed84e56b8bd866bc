"""Resolution: a table of real cases (boundaries, DST, specificity, tiers, windows, versions)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from policies import (
    PublishedPolicy,
    ResolvedRule,
    RuleTables,
    compile_rules,
    parse_policy,
    resolve,
    version_in_force,
)
from pricewarden.errors import NoRuleError, PolicyError

DATA = Path(__file__).parent / "policies_data"
MODES = {"US": "map", "EU": "recommended", "CN": "recommended"}
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def load(name: str, version: int = 1, **replace: str) -> PublishedPolicy:
    text = (DATA / name).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return PublishedPolicy(version, parse_policy(text, file=name, region_modes=MODES))


def variant(version: int, effective_from: str, map_price: str) -> PublishedPolicy:
    """base.yaml with another effective_from and another AC-100 map."""
    text = (DATA / "base.yaml").read_text()
    text = text.replace("effective_from: 2026-03-01T00:00", f"effective_from: {effective_from}")
    text = text.replace('map: "199.00"', f'map: "{map_price}"')
    return PublishedPolicy(version, parse_policy(text, file=f"v{version}.yaml", region_modes=MODES))


BASE = [load("base.yaml")]
BERLIN_SET = [load("berlin.yaml")]
# v1 from 1 Mar; v2 from 1 Jun; v3 published after v2 but back-dated to 1 Apr; v4 shares 1 Jun with v2.
V1, V2 = variant(1, "2026-03-01T00:00", "199.00"), variant(2, "2026-06-01T00:00", "209.00")
V3, V4 = variant(3, "2026-04-01T00:00", "195.00"), variant(4, "2026-06-01T00:00", "219.00")
VERSIONS = [V1, V2, V3, V4]
SETS = {"base": BASE, "berlin": BERLIN_SET, "versions": VERSIONS, "v1v2": [V1, V2]}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


D = Decimal
S = timedelta(seconds=1)

# (id, set, sku, category, partner, tier, region, at, expected fields)
CASES: list[tuple[str, str, str, str | None, str | None, str | None, str, datetime, dict[str, Any]]] = [
    # Most specific wins: the SKU's own rule beats its category's.
    ("sku beats category", "base", "AC-100", "headphones", "P001", "C", "US", ny("2026-05-01T12:00"),
     {"floor": D("199.00"), "target": "sku AC-100", "mode": "map", "version": 1}),
    ("category when no sku rule", "base", "AC-200", "headphones", "P001", "C", "US", ny("2026-05-01T12:00"),
     {"floor": D("150.00"), "target": "category headphones"}),
    ("tier override replaces map", "base", "AC-100", "headphones", "P001", "A", "US", ny("2026-05-01T12:00"),
     {"floor": D("189.00"), "base_map": D("189.00"), "msrp": D("249.00")}),
    ("tier override of tolerance only", "base", "AC-100", "headphones", "P001", "B", "US", ny("2026-05-01"),
     {"floor": D("199.00"), "tolerance": None, "tolerance_pct": D("1")}),
    ("untiered seller gets base rule", "base", "AC-100", "headphones", None, None, "US", ny("2026-05-01"),
     {"floor": D("199.00"), "tolerance": D("0.50")}),
    ("max discount raises floor, rounded", "base", "AC-400", None, "P001", "C", "US", ny("2026-05-01"),
     {"floor": D("212.49"), "base_map": D("100.00")}),
    # NY DST: 02:30 on 2026-03-08 does not exist; it means 03:30 EDT = 07:30 UTC.
    ("dst promo one second before start", "base", "AC-100", "headphones", "P001", "A", "US",
     utc("2026-03-08T07:29:59"), {"floor": D("189.00"), "promotions": ()}),
    ("dst promo start inclusive", "base", "AC-100", "headphones", "P001", "A", "US",
     utc("2026-03-08T07:30:00"), {"floor": D("179.00"), "promotions": ("Spring",)}),
    ("promo end exclusive (00:00 EDT = 04:00Z)", "base", "AC-100", "headphones", "P001", "A", "US",
     utc("2026-03-09T04:00:00"), {"floor": D("189.00"), "promotions": ()}),
    ("promo one second before end", "base", "AC-100", "headphones", "P001", "B", "US",
     utc("2026-03-09T03:59:59"), {"floor": D("179.00")}),
    ("promo not for tier C", "base", "AC-100", "headphones", "P001", "C", "US", utc("2026-03-08T12:00:00"),
     {"floor": D("199.00"), "promotions": ()}),
    ("category promo lowers sku floor", "base", "AC-100", "headphones", "P001", "C", "US",
     ny("2026-11-27T00:00"), {"floor": D("159.00"), "base_floor": D("199.00"), "promotions": ("Black Friday",)}),
    ("category promo before start (EST)", "base", "AC-100", "headphones", "P001", "C", "US",
     utc("2026-11-27T04:59:59"), {"floor": D("199.00")}),
    ("category promo end exclusive", "base", "AC-200", "headphones", "P001", "C", "US",
     ny("2026-12-01T00:00"), {"floor": D("150.00")}),
    # Exemption: per partner, lowers the floor inside [start, end) only.
    ("exemption in force", "base", "AC-100", "headphones", "P007", "C", "US", ny("2026-04-01T00:00"),
     {"floor": D("149.00"), "exemptions": ("clearance",)}),
    ("exemption one second before start", "base", "AC-100", "headphones", "P007", "C", "US",
     ny("2026-04-01T00:00") - S, {"floor": D("199.00"), "exemptions": ()}),
    ("exemption last second", "base", "AC-100", "headphones", "P007", "C", "US", ny("2026-04-08T00:00") - S,
     {"floor": D("149.00")}),
    ("exemption expired", "base", "AC-100", "headphones", "P007", "C", "US", ny("2026-04-08T00:00"),
     {"floor": D("199.00"), "exemptions": ()}),
    ("exemption is per partner", "base", "AC-100", "headphones", "P008", "C", "US", ny("2026-04-03T00:00"),
     {"floor": D("199.00")}),
    # Modes.
    ("eu recommended: no floor, no notices", "base", "AC-100", "headphones", "P007", "B", "EU",
     ny("2026-04-03T00:00"), {"floor": None, "recommended": D("229.00"), "mode": "recommended",
                              "currency": "EUR", "escalation": None}),
    ("eu promo lowers reference", "base", "AC-100", "headphones", "P003", "B", "EU", ny("2026-05-01T00:00"),
     {"recommended": D("199.00"), "floor": None}),
    ("maximum mode cap", "base", "AC-300", "earbuds", "P009", "A", "CA", ny("2026-05-01T00:00"),
     {"maximum": D("99.00"), "floor": None, "mode": "maximum", "currency": "CAD"}),
    ("observe mode", "base", "AC-100", "headphones", "P009", "A", "MX", ny("2026-05-01T00:00"),
     {"mode": "observe", "floor": None, "recommended": None}),
    # Berlin DST: 02:30 on 2026-03-29 does not exist (means 03:30 CEST = 01:30Z); 02:30 on
    # 2026-10-25 occurs twice (the first, CEST, is meant: 00:30Z).
    ("berlin dst start one second before", "berlin", "AC-100", None, "P1", "A", "DE",
     utc("2026-03-29T01:29:59"), {"floor": D("199.00")}),
    ("berlin dst start", "berlin", "AC-100", None, "P1", "A", "DE", utc("2026-03-29T01:30:00"),
     {"floor": D("149.00")}),
    ("berlin ambiguous end, last second", "berlin", "AC-100", None, "P1", "A", "DE", utc("2026-10-25T00:29:59"),
     {"floor": D("149.00")}),
    ("berlin ambiguous end exclusive", "berlin", "AC-100", None, "P1", "A", "DE", utc("2026-10-25T00:30:00"),
     {"floor": D("199.00")}),
    # Version ordering: effective_from orders; ties go to the higher number.
    ("v1 before back-dated v3", "versions", "AC-100", None, "P1", "C", "US", ny("2026-04-01T00:00") - S,
     {"version": 1, "floor": D("199.00")}),
    ("back-dated v3 from its start", "versions", "AC-100", None, "P1", "C", "US", ny("2026-04-01T00:00"),
     {"version": 3, "floor": D("195.00")}),
    ("v3 until the next start", "versions", "AC-100", None, "P1", "C", "US", ny("2026-06-01T00:00") - S,
     {"version": 3}),
    ("same effective_from: higher number wins", "versions", "AC-100", None, "P1", "C", "US",
     ny("2026-06-01T00:00"), {"version": 4, "floor": D("219.00")}),
    ("without v3 and v4, v2 from 1 Jun", "v1v2", "AC-100", None, "P1", "C", "US", ny("2026-06-01T00:00"),
     {"version": 2, "floor": D("209.00")}),
]


@pytest.mark.parametrize(("set_name", "sku", "category", "partner", "tier", "region", "at", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_resolution_table(set_name: str, sku: str, category: str | None, partner: str | None, tier: str | None,
                          region: str, at: datetime, expected: dict[str, Any]) -> None:
    resolved = resolve(SETS[set_name], sku=sku, category=category, partner_code=partner, tier=tier,
                       region=region, at=at)
    actual = {key: getattr(resolved, key) for key in expected}
    assert actual == expected


def test_back_dated_version_does_not_change_earlier_instants() -> None:
    """Publishing v3 (back-dated to 1 Apr) after v2 changes nothing before 1 Apr."""
    start = ny("2026-03-01T00:00")
    for hours in range(0, 31 * 24, 7):
        at = start + timedelta(hours=hours)
        before = resolve([V1, V2], sku="AC-100", category=None, partner_code="P1", tier="C", region="US", at=at)
        after = resolve(VERSIONS, sku="AC-100", category=None, partner_code="P1", tier="C", region="US", at=at)
        assert (before.version, before.floor) == (after.version, after.floor) == (1, D("199.00"))


def test_explanation_names_each_step_with_its_line() -> None:
    resolved = resolve(BASE, sku="AC-100", category="headphones", partner_code="P007", tier="A", region="US",
                       at=ny("2026-04-02T00:00"))
    kinds = [(s.kind, s.line) for s in resolved.explanation]
    assert kinds[:4] == [("version", 2), ("scope", 7), ("rule", 20), ("tier", 26)]
    assert ("exemption", 41) in kinds
    # The Spring promotion matches the SKU and tier but is outside its window: said so.
    assert any(s.kind == "inactive" and "Spring" in s.text for s in resolved.explanation)
    assert resolved.rule_ref == "v1 us sku AC-100 tier A (line 20)"
    assert resolved.floor == D("149.00")


def test_exemption_in_recommended_scope_is_ignored_and_said() -> None:
    policy = load("base.yaml", **{"partner: P007": "partner: P003"})
    resolved = resolve([policy], sku="AC-100", category="headphones", partner_code="P003", tier="B",
                       region="EU", at=ny("2026-04-02T00:00"))
    assert resolved.floor is None
    assert any(s.kind == "note" and "recommended scope has no floor" in s.text for s in resolved.explanation)


@pytest.mark.parametrize(("mode", "violations", "deviations", "notices", "escalation"), [
    ("US", True, False, True, True),
    ("EU", False, True, False, False),
    ("CA", True, False, True, True),
    ("MX", False, False, False, False),
])
def test_what_each_mode_permits(mode: str, violations: bool, deviations: bool, notices: bool,
                                escalation: bool) -> None:
    sku = "AC-300" if mode == "CA" else "AC-100"
    permits = resolve(BASE, sku=sku, category="headphones", partner_code="P1", tier="A", region=mode,
                      at=ny("2026-05-01")).permits
    assert (permits.flag_violations, permits.record_deviations, permits.partner_notices, permits.escalation) == (
        violations, deviations, notices, escalation)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"at": ny("2026-02-28T23:59")}, "no policy version is in force"),
    ({"region": "JP"}, "no scope for region JP"),
    ({"sku": "XX-1", "category": "cables"}, "no rule for sku XX-1 or category cables"),
])
def test_no_rule(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"sku": "AC-100", "category": "headphones", "partner_code": "P1", "tier": "A",
                            "region": "US", "at": ny("2026-05-01")} | kwargs
    with pytest.raises(NoRuleError, match=message):
        resolve(BASE, **args)


def test_naive_instant_refused() -> None:
    with pytest.raises(PolicyError, match="naive"):
        version_in_force(BASE, datetime(2026, 5, 1))


# compile_rules: a plain join over the tables gives what resolve gives ---------------------------


def table_lookup(tables: RuleTables, *, sku: str, category: str | None, partner: str | None, tier: str | None,
                 region: str, at: datetime) -> tuple[Any, ...] | None:
    """The join the module docstring of policies._tables describes, written out in plain Python."""
    version = next((v["version"] for v in tables.versions
                    if v["effective_from"] <= at and (v["effective_until"] is None or at < v["effective_until"])),
                   None)
    scope = next((s for s in tables.scopes if s["version"] == version and s["region"] == region), None)
    if version is None or scope is None:
        return None
    rows = [r for r in tables.rules if r["version"] == version and r["scope"] == scope["scope"]
            and r["tier"] == tier]
    rule = next((r for r in rows if r["kind"] == "sku" and r["key"] == sku), None) or next(
        (r for r in rows if r["kind"] == "category" and r["key"] == category), None)
    if rule is None:
        return None

    def matches(row: dict[str, Any]) -> bool:
        return (row["kind"] == "sku" and row["key"] == sku) or (row["kind"] == "category" and row["key"] == category)

    promos = [p["price"] for p in tables.promotions if p["version"] == version and p["scope"] == scope["scope"]
              and p["tier"] == tier and matches(p) and p["start"] <= at < p["end"]]
    floor, recommended = rule["floor"], rule["recommended"]
    if rule["mode"] == "map" and floor is not None:
        exempt = [e["floor"] for e in tables.exemptions if e["version"] == version and e["partner"] == partner
                  and e["scope"] in (None, scope["scope"]) and matches(e) and e["start"] <= at < e["end"]]
        floor = min([floor, *promos, *exempt])
    if rule["mode"] == "recommended" and recommended is not None:
        recommended = min([recommended, *promos])
    return (version, scope["scope"], rule["mode"], floor, recommended, rule["maximum"], rule["tolerance"],
            rule["tolerance_pct"], rule["line"], rule["rule_ref"], scope["currency"])


def as_tuple(r: ResolvedRule) -> tuple[Any, ...]:
    return (r.version, r.scope, r.mode, r.floor, r.recommended, r.maximum, r.tolerance, r.tolerance_pct,
            r.rule_line, r.rule_ref, r.currency)


def test_compile_rules_equals_resolve_on_random_cases() -> None:
    rng = random.Random(20261123)
    versions = [*VERSIONS, load("base.yaml", 5, **{"2026-03-01T00:00": "2026-09-01T00:00"})]
    tables = compile_rules(versions)
    # Instants near every boundary in the files plus random ones.
    edges = [ny(t) for t in ("2026-03-01T00:00", "2026-04-01T00:00", "2026-04-08T00:00", "2026-06-01T00:00",
                             "2026-09-01T00:00", "2026-11-27T00:00", "2026-12-01T00:00", "2026-05-01T00:00")]
    edges += [utc("2026-03-08T07:30:00"), utc("2026-03-09T04:00:00")]
    compared = 0
    for _ in range(1500):
        at = rng.choice(edges) + rng.choice([-S, timedelta(0), S]) if rng.random() < 0.5 else \
            ny("2026-02-20T00:00") + timedelta(seconds=rng.randrange(0, 330 * 86400))
        case = {"sku": rng.choice(["AC-100", "AC-200", "AC-300", "AC-400", "ZZ-9"]),
                "category": rng.choice(["headphones", "earbuds", None]),
                "partner": rng.choice(["P007", "P001", None]), "tier": rng.choice(["A", "B", "C", None]),
                "region": rng.choice(["US", "EU", "CA", "MX", "JP"]), "at": at}
        try:
            expected: tuple[Any, ...] | None = as_tuple(resolve(
                versions, sku=case["sku"], category=case["category"], partner_code=case["partner"],
                tier=case["tier"], region=case["region"], at=at))
        except NoRuleError:
            expected = None
        assert table_lookup(tables, **case) == expected, case
        compared += expected is not None
    assert compared > 300  # enough cases actually hit a rule


def test_tables_are_utc_and_shadowed_version_is_empty() -> None:
    tables = compile_rules(VERSIONS)
    assert [v["version"] for v in tables.versions] == [1, 3, 2, 4]
    shadowed = next(v for v in tables.versions if v["version"] == 2)
    assert shadowed["effective_from"] == shadowed["effective_until"]
    instants = [v["effective_from"] for v in tables.versions] + [p["start"] for p in tables.promotions]
    assert all(i.utcoffset() == timedelta(0) for i in instants)
    spring = {(p["tier"], p["start"]) for p in tables.promotions if p["name"] == "Spring" and p["version"] == 1}
    assert spring == {("A", utc("2026-03-08T07:30")), ("B", utc("2026-03-08T07:30"))}
