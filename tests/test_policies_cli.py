"""The ``policy`` commands through the real CLI app, on the test database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pricewarden.cli import app
from pricewarden.errors import NoRuleError, NotFoundError, PolicyError
from store import AuditLog, Partner, PolicyVersion, Product, session_scope

DATA = Path(__file__).parent / "policies_data"
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def catalog(db: Engine) -> Engine:
    with session_scope(db) as s:
        s.add_all([
            Partner(code="P001", name="SoundHub", tier="C", regions=["US"]),
            Partner(code="P002", name="Klangwerk", tier="B", regions=["EU", "US"]),
            Partner(code="P003", name="Tokyo Sound", tier="A", regions=["JP", "US"]),
            Partner(code="P004", name="Osaka Audio", tier="A", regions=["JP"]),
            Product(sku="AC-100", category="headphones"),
            Product(sku="AC-200", category="headphones"),
        ])
    return db


@pytest.fixture
def two_versions(catalog: Engine, tmp_path: Path) -> Engine:
    v1 = DATA / "base.yaml"
    v2 = tmp_path / "v2.yaml"
    v2.write_text(v1.read_text().replace("effective_from: 2026-03-01T00:00", "effective_from: 2026-06-01T00:00")
                  .replace('map: "199.00"', 'map: "209.00"'))
    for path in (v1, v2):
        result = invoke("policy", "publish", str(path), "--by", "bianca")
        assert result.exit_code == 0, result.output
    return catalog


def test_check_ok() -> None:
    result = invoke("policy", "check", str(DATA / "base.yaml"))
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: ")
    assert "us=map, eu=recommended, ca=maximum, mx=observe" in result.stdout


def test_check_prints_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "base.yaml").read_text().replace("timezone: America/New_York", "timezone: Mars/Olympus")
                   .replace("A: {map:", "E: {map:"))
    result = invoke("policy", "check", str(bad))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [f"{bad}:3 [timezone]: unknown time zone 'Mars/Olympus' (use an IANA name such as "
                     "America/New_York)",
                     f"{bad}:26 [rules[0].tiers.E]: unknown tier 'E' (tiers are A, B, C)"]


def explain(at: str, sku: str = "AC-100", partner: str = "P001") -> dict[str, Any]:
    result = invoke("policy", "explain", sku, "--partner", partner, "--at", at, "--region", "US", "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(data) == 1
    return data[0]


# (at as typed by a person, version, floor, promotions): both version boundaries and a promo window.
BOUNDARIES = [
    ("2026-03-01T00:00:00", 1, "199.00", []),
    ("2026-05-31T23:59:59", 1, "199.00", []),
    ("2026-05-31T23:59:59-04:00", 1, "199.00", []),
    ("2026-06-01T00:00:00", 2, "209.00", []),
    ("2026-06-01T04:00:00+00:00", 2, "209.00", []),
    ("2026-11-26T23:59:59", 2, "209.00", []),
    ("2026-11-27T00:00:00", 2, "159.00", ["Black Friday"]),
    ("2026-11-30T23:59:59-05:00", 2, "159.00", ["Black Friday"]),
    ("2026-12-01T00:00:00", 2, "209.00", []),
]


@pytest.mark.parametrize(("at", "version", "floor", "promotions"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_explain_around_each_boundary(two_versions: Engine, at: str, version: int, floor: str,
                                      promotions: list[str]) -> None:
    data = explain(at)
    assert (data["version"], data["floor"], data["promotions"]) == (version, floor, promotions)
    assert data["rule"] == "sku AC-100" and data["rule_line"] == 20
    assert data["permits"]["partner_notices"] is True
    assert data["explanation"][0]["kind"] == "version"


def test_explain_before_the_first_version(two_versions: Engine) -> None:
    result = invoke("policy", "explain", "AC-100", "--partner", "P001", "--at", "2026-02-28T23:59:59")
    assert isinstance(result.exception, NoRuleError)
    assert "no policy version is in force" in str(result.exception)


def test_explain_text_names_rule_version_mode_and_chain(two_versions: Engine) -> None:
    result = runner.invoke(app, ["policy", "explain", "AC-200", "--partner", "P001", "--at", "2026-11-27T00:00"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "policy v2, scope us, mode map" in out
    assert "rule: v2 us category headphones (line 28)" in out
    assert "advertised price below the floor is a violation" in out
    # The promotion covers the category, but its price is above this rule's floor.
    assert ("promotion 'Black Friday' [2026-11-27 00:00 EST, 2026-12-01 00:00 EST): price 159.00 is not below "
            "the floor 150.00: no change") in out


def test_explain_each_partner_region(two_versions: Engine) -> None:
    result = invoke("policy", "explain", "AC-100", "--partner", "P002", "--at", "2026-05-05T12:00", "--json")
    data = json.loads(result.stdout)
    assert [(d["region"], d["mode"], d["floor"], d["recommended"]) for d in data] == [
        ("EU", "recommended", None, "199.00"), ("US", "map", "199.00", None)]
    assert data[0]["permits"]["partner_notices"] is False
    assert data[0]["escalation"] is None and data[1]["escalation"]["steps"][1]["notify_partner"] is True


def test_explain_region_without_scope(two_versions: Engine) -> None:
    result = invoke("policy", "explain", "AC-100", "--partner", "P003", "--at", "2026-05-05T12:00", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["region"] == "JP" and "has no scope for region JP" in data[0]["error"]
    assert (data[1]["region"], data[1]["floor"]) == ("US", "189.00")
    only_jp = invoke("policy", "explain", "AC-100", "--partner", "P004", "--at", "2026-05-05T12:00")
    assert isinstance(only_jp.exception, NoRuleError)


def test_explain_unknown_partner(two_versions: Engine) -> None:
    result = invoke("policy", "explain", "AC-100", "--partner", "NOPE", "--at", "2026-05-05T12:00")
    assert isinstance(result.exception, NotFoundError)
    assert "no partner with code 'NOPE'" in str(result.exception)


def test_list_marks_versions(two_versions: Engine) -> None:
    result = invoke("policy", "list", "--json")
    data = json.loads(result.stdout)
    assert [(d["version"], d["published_by"], d["effective_from"]) for d in data] == [
        (1, "bianca", "2026-03-01T00:00:00-05:00"), (2, "bianca", "2026-06-01T00:00:00-04:00")]
    assert [d["in_force"] for d in data] == [False, True]  # today (after 1 Jun 2026) v2 is in force


def test_publish_prints_the_diff(catalog: Engine, tmp_path: Path) -> None:
    assert invoke("policy", "publish", str(DATA / "base.yaml")).exit_code == 0
    v2 = tmp_path / "v2.yaml"
    v2.write_text((DATA / "base.yaml").read_text()
                  .replace("effective_from: 2026-03-01T00:00", "effective_from: 2026-06-01T00:00")
                  .replace('map: "199.00"', 'map: "209.00"').replace('A: {map: "189.00"}', 'A: {map: "179.00"}')
                  .replace("mode: observe", "mode: recommended").replace("{category: headphones, scope: mx}",
                                                                         '{category: headphones, scope: mx, '
                                                                         'recommended: "4000.00"}'))
    result = invoke("policy", "publish", str(v2), "--by", "bianca", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["version"], data["replaces"]) == (2, 1)
    changes = {(c["kind"], c["target"], c["tier"], c["field"], c["delta"]) for c in data["changes"]}
    assert ("stricter", "sku AC-100", None, "floor", "10.00") in changes
    assert ("looser", "sku AC-100", "A", "floor", "-10.00") in changes
    assert ("mode", "scope mx", None, "mode", None) in changes
    assert ("changed", "category headphones", None, "recommended", None) in changes
    assert ("stricter", "sku AC-100", "B", "floor", "10.00") in changes  # B overrides tolerance only
    assert len(data["changes"]) == 5


def test_publish_refuses_an_identical_file(catalog: Engine) -> None:
    assert invoke("policy", "publish", str(DATA / "base.yaml")).exit_code == 0
    result = invoke("policy", "publish", str(DATA / "base.yaml"))
    assert isinstance(result.exception, PolicyError)
    assert "identical to policy version 1" in str(result.exception)
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 1


def test_publish_of_an_invalid_file_stores_nothing(catalog: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "base.yaml").read_text()
                   .replace("effective_from: 2026-03-01T00:00", "effective_from: 2026-03-32T00:00")
                   .replace("A: {map:", "Z: {map:")
                   .replace("{category: headphones, scope: us, map: \"150.00\"}",
                            "{sku: AC-100, scope: us, map: \"150.00\"}"))
    result = invoke("policy", "publish", str(bad))
    problems = result.exception.problems
    assert [(p.file, p.line, p.field) for p in problems] == [
        (str(bad), 2, "effective_from"), (str(bad), 26, "rules[0].tiers.Z"), (str(bad), 28, "rules[1].sku")]
    assert "has two rules in scope `us` (lines 20 and 28)" in problems[2].message
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_sample_policy_publishes_and_explains(catalog: Engine) -> None:
    sample = Path(__file__).parents[1] / "pricewarden" / "sample" / "policies" / "policy.yaml"
    result = invoke("policy", "publish", str(sample), "--json")
    assert result.exit_code == 0, result.output
    tier_b = explain("2026-11-27T00:00", partner="P002")
    assert tier_b["floor"] == "159.00" and tier_b["promotions"] == ["Black Friday"]
    assert Decimal(tier_b["base_floor"]) == Decimal("199.00")
    tier_c = explain("2026-11-27T00:00", partner="P001")  # the promotion is for tiers A and B only
    assert (tier_c["floor"], tier_c["promotions"]) == ("199.00", [])


def test_diff_previews_without_publishing(catalog: Engine, tmp_path: Path) -> None:
    assert invoke("policy", "publish", str(DATA / "base.yaml")).exit_code == 0
    v2 = tmp_path / "v2.yaml"
    v2.write_text((DATA / "base.yaml").read_text().replace('map: "150.00"', 'map: "140.00"'))
    result = invoke("policy", "diff", str(v2), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["against"] == 1
    assert [(c["kind"], c["target"], c["delta"]) for c in data["changes"]] == [
        ("looser", "category headphones", "-10.00")]
    with session_scope(catalog) as s:
        assert s.scalar(select(func.count()).select_from(PolicyVersion)) == 1


def test_show_prints_the_published_text_verbatim(catalog: Engine) -> None:
    assert invoke("policy", "publish", str(DATA / "base.yaml")).exit_code == 0
    result = invoke("policy", "show", "1")
    assert result.exit_code == 0
    assert result.stdout == (DATA / "base.yaml").read_text()
    assert isinstance(invoke("policy", "show", "7").exception, NotFoundError)
