"""The demo's comparison: the monitor's findings and the sandbox's truth, both in violation episodes."""

from __future__ import annotations

from typing import Any

from demo.compare import compare, truth_episodes

URL = "http://127.0.0.1:8603/p003/shop/aria.html"
MARKET = "http://127.0.0.1:8607/dp/B0A18EDD2F"


def truth(day: int, rule: str = "map", sku: str = "AC-100", partner: str | None = "P003",
          seller_id: str | None = None, url: str = URL) -> dict[str, Any]:
    return {"day": day, "rule": rule, "sku": sku, "partner": partner, "seller_id": seller_id, "url": url}


def finding(first: int, last: int, rule: str = "below_map", sku: str = "AC-100", partner: str | None = "P003",
            seller_id: str | None = None, url: str = URL) -> dict[str, Any]:
    return {"rule": rule, "sku": sku, "partner": partner, "seller_id": seller_id, "url": url, "first_day": first,
            "last_day": last}


def test_it_counts_a_breach_on_consecutive_days_as_one_episode() -> None:
    episodes = truth_episodes([truth(4), truth(5), truth(6), truth(8)])
    assert [(e.rule, e.first_day, e.last_day) for e in episodes] == [("below_map", 4, 6), ("below_map", 8, 8)]


def test_it_compares_like_with_like_per_rule() -> None:
    rows = [truth(4), truth(5), truth(6),  # one MAP episode over three days, found once: 1 of 1
            truth(4, sku="AC-110"), truth(5, sku="AC-110"),  # another, missed
            truth(5, rule="unauthorised_seller", partner=None, seller_id="S-ZX9", url=MARKET)]
    found = [finding(4, 6), finding(5, 5, rule="unauthorised_seller", partner=None, seller_id="S-ZX9", url=MARKET),
             finding(5, 6, sku="AC-999"),  # a MAP finding the truth does not hold: a false positive
             finding(5, 5, rule="partner_misreport")]  # no page truth for misreports
    table = {row["rule"]: row for row in compare(rows, found)}
    assert table["below_map"] == {"rule": "below_map", "truth_episodes": 2, "findings": 2, "matched": 1,
                                  "precision": 0.5, "recall": 0.5}
    assert table["unauthorised_seller"] == {"rule": "unauthorised_seller", "truth_episodes": 1, "findings": 1,
                                            "matched": 1, "precision": 1.0, "recall": 1.0}
    assert table["partner_misreport"] == {"rule": "partner_misreport", "truth_episodes": None, "findings": 1,
                                          "matched": None, "precision": None, "recall": None}


def test_a_finding_on_other_days_does_not_match() -> None:
    (row,) = compare([truth(4)], [finding(6, 7)])
    assert (row["matched"], row["precision"], row["recall"]) == (0, 0.0, 0.0)
