"""Ground truth of the sandbox world: deterministic by seed, and the scenarios raise what they promise."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from typing import Any

import pytest
from typer.testing import CliRunner

from demo import World
from demo.truth import to_bytes
from demo.weight import MAX_BYTES, MIN_BYTES, target_size
from pricewarden.cli import app


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, products=50)


def findings(world: World, day: int, **where: Any) -> list[dict[str, Any]]:
    return [v for v in world.truth(day)["violations"] if all(v.get(k) == x for k, x in where.items())]


def test_same_seed_same_truth_bytes_other_seed_differs() -> None:
    digest = [hashlib.sha256(to_bytes(World(seed=s, products=30).truth(6))).hexdigest() for s in (7, 7, 8)]
    assert digest[0] == digest[1] != digest[2]


def test_same_seed_same_page_bytes() -> None:
    from demo.routes import Router

    a, b = World(seed=3, products=20), World(seed=3, products=20)
    path = next(x.path for x in a.listings if x.family == "eushop")
    pages = [Router(w).respond("eushop", "GET", path, 2).body for w in (a, b)]
    assert pages[0] == pages[1]
    assert Router(World(seed=4, products=20)).respond("eushop", "GET", path, 2).body != pages[0]


# (scenario, day, filter, expected number of findings)
CASES = [
    ("map_drop before", 3, {"partner": "P003", "sku": "AC-100"}, 0),
    ("map_drop", 4, {"partner": "P003", "sku": "AC-100", "rule": "map"}, 1),
    ("map_drop last day", 6, {"partner": "P003", "sku": "AC-100", "rule": "map"}, 1),
    ("map_drop recovered", 7, {"partner": "P003", "sku": "AC-100"}, 0),
    ("price war day 8", 8, {"sku": "AC-120", "rule": "map"}, 2),      # P009 site + its marketplace offer
    ("price war day 11", 11, {"sku": "AC-120", "rule": "map"}, 5),    # + P007, S-P001 offer, P002
    ("price war over", 13, {"sku": "AC-120", "rule": "map"}, 0),
    ("promotion tier C", 15, {"sku": "AC-200", "partner": "P010", "rule": "map"}, 1),
    ("promotion tier A ok", 15, {"sku": "AC-200", "partner": "P001"}, 0),
    ("exemption inside", 24, {"sku": "AC-220", "partner": "P004"}, 0),
    ("exemption over", 25, {"sku": "AC-220", "partner": "P004", "rule": "map"}, 1),
    ("policy v1", 4, {"partner": "P009", "sku": "AC-150"}, 0),
    ("policy v2 laggard", 5, {"partner": "P009", "sku": "AC-150", "rule": "map", "policy_version": 2}, 2),
    ("eu deviation", 5, {"partner": "P012", "sku": "AC-110", "kind": "deviation", "rule": "recommended"}, 1),
    ("cn above cap", 6, {"partner": "P018", "sku": "AC-100", "rule": "maximum"}, 1),
    ("cn cap ok", 8, {"partner": "P018", "sku": "AC-100"}, 0),
    ("unauthorised seller", 9, {"seller_id": "S-ZX9", "sku": "AC-140", "rule": "unauthorised_seller"}, 1),
    ("unauthorised, no MAP rule", 9, {"seller_id": "S-ZX9", "sku": "AC-160", "rule": "map"}, 0),
    ("hidden price", 9, {"partner": "P008", "sku": "AC-130", "rule": "hidden_price"}, 1),
    ("misreporting partner", 9, {"partner": "P010", "sku": "AC-110", "rule": "map"}, 1),
]


@pytest.mark.parametrize(("name", "day", "where", "count"), CASES, ids=[c[0] for c in CASES])
def test_scenarios(world: World, name: str, day: int, where: dict[str, Any], count: int) -> None:
    assert len(findings(world, day, **where)) == count


def test_eu_never_raises_violations_and_failures_raise_nothing(world: World) -> None:
    truth = world.truth(20)
    assert all(v["kind"] == "deviation" for v in truth["violations"] if v["scope"] == "eu")
    broken = {p["url"] for p in truth["pages"] if p["failure"] and p["failure"]["persistent"]}
    assert broken and not broken & {v["url"] for v in truth["violations"]}
    assert truth["summary"]["failures"]["layout_changed"] == sum(1 for x in world.listings if x.partner == "P005")


def test_every_fault_kind_every_day(world: World) -> None:
    kinds = {"captcha", "login", "redirect_loop", "truncated", "slow", "http_500", "http_503", "http_429"}
    for day in (1, 2, 9, 28):
        assert kinds <= set(world.truth(day)["summary"]["failures"])


def test_page_weight_is_real() -> None:
    sizes = [target_size(7, f"page{i}") for i in range(3000)]
    assert min(sizes) >= MIN_BYTES and max(sizes) <= MAX_BYTES
    assert 380_000 < statistics.median(sizes) < 480_000
    deciles = statistics.quantiles(sizes, n=10)
    assert 120_000 <= deciles[0] < 200_000 and 1_000_000 < deciles[-1] <= 1_300_000


def test_big_world_has_100k_pages_rendered_on_demand() -> None:
    from demo.routes import Router

    big = World(seed=1, products=5000)
    assert len(big.listings) >= 100_000
    router = Router(big, cache_bytes=4 * 1024 * 1024)
    last = big.listings[-1000]
    first = router.respond(last.family, "GET", last.path, 1)
    assert first.status == 200 and last.sku.encode() in first.body
    for x in big.listings[:20]:  # the LRU cache stays within its byte budget
        router.respond(x.family, "GET", x.path, 1)
    assert router._cached <= router.cache_bytes


def test_cli_truth_json_and_csv() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "truth", "--day", "4", "--products", "30"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(World(seed=7, products=30).truth(4), default=str))
    result = runner.invoke(app, ["demo", "truth", "--day", "4", "--products", "30", "--format", "csv",
                                 "--table", "violations"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(data["violations"]) and rows[0]["rule"] == data["violations"][0]["rule"]


def test_cli_demo_runs_the_monitoring_demo_and_keeps_its_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    # The full demo itself runs in the flows tests; here only that `pricewarden demo` calls it.
    import flows.demo_run

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(flows.demo_run, "run_demo", lambda **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(app, ["demo", "--days", "2", "--seed", "11", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert calls == [{"days": 2, "seed": 11, "products": 20, "first_day": 4, "workspace": None}]
    help_text = CliRunner().invoke(app, ["demo", "--help"]).stdout
    assert all(word in help_text for word in ("serve", "truth", "workspace", "reports", "--days"))
