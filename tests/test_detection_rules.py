"""Rule cases, one table: each rule at its boundaries, judged against a real policy file.

Times are UTC; the policy is in America/New_York (EST = UTC-5 in winter, EDT = UTC-4 in summer).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from detection.policy_bridge import rule_frames
from detection.rules import judge
from detection.tables import NA_E4, from_e4, to_e4
from policies import PublishedPolicy, parse_policy

POLICY = """
policy: Acme price policy
effective_from: 2026-03-01T00:00
timezone: America/New_York
currency: USD
tolerance: "0.00"
scopes:
  - name: us
    regions: [US]
    mode: map
    currency: USD
    escalation:
      window_days: 90
      steps:
        - {name: warning, after: 1}
        - {name: formal_notice, after: 2, notify_partner: true}
        - {name: rebate_cancelled, after: 3, penalty: true}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
  - {name: ca, regions: [CA], mode: maximum, currency: CAD}
  - {name: cn, regions: [CN], mode: observe, currency: CNY}
rules:
  - sku: AC-100
    scope: us
    map: "199.00"
    msrp: "249.00"
    tolerance: "0.50"
    tiers: {A: {map: "189.00"}}
  - {sku: AC-200, scope: us, map: "100.00", msrp: "150.00", max_discount_pct: 20}
  - {category: headphones, scope: eu, recommended: "229.00"}
  - {sku: AC-300, scope: ca, maximum: "99.00"}
  - {category: headphones, scope: cn, recommended: "1500.00"}
promotions:
  - {name: Black Friday, scope: us, skus: [AC-100], price: "159.00", start: 2026-11-27T00:00,
     end: 2026-12-01T00:00, tiers: [A, B]}
exemptions:
  - {partner: P007, skus: [AC-100], floor: "149.00", start: 2026-04-01T00:00, end: 2026-04-08T00:00,
     reason: clearance}
"""
FRAMES = rule_frames([PublishedPolicy(1, parse_policy(POLICY, file="policy.yaml"))])
CATEGORY = {"AC-100": "headphones", "AC-200": "headphones", "AC-300": "speakers"}
MAY = datetime(2026, 5, 4, 12, tzinfo=UTC)


def observation(price: str | None, *, sku: str = "AC-100", region: str = "US", tier: str | None = "B",
                partner: str | None = "P001", at: datetime = MAY, visibility: str = "visible",
                currency: str | None = None, authorised: bool = True) -> dict[str, object]:
    currency = currency or {"US": "USD", "EU": "EUR", "CA": "CAD", "CN": "CNY"}.get(region, "JPY")
    return {"observed_at": at, "sku": sku, "category": CATEGORY[sku], "region": region, "tier": tier,
            "partner": partner, "price_e4": to_e4(Decimal(price)) if price else NA_E4, "currency": currency,
            "visibility": visibility, "authorised": authorised}


def run(obs: dict[str, object]) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
    frame = pd.DataFrame([obs])
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True).astype("datetime64[ns, UTC]")
    found = judge(frame, FRAMES).findings
    return sorted((r["rule"], r["kind"], from_e4(int(r["allowed_e4"])), from_e4(int(r["gap_e4"])))
                  for r in found.to_dict("records"))


M = Decimal
V, D = "violation", "deviation"
CASES = [
    # (id, observation, expected [(rule, kind, allowed, gap)])
    ("exactly at floor", observation("199.00"), []),
    ("floor minus tolerance is allowed", observation("198.50"), []),
    ("one cent below floor minus tolerance", observation("198.49"), [("below_map", V, M("199.00"), M("0.51"))]),
    ("sub-cent below the tolerance edge", observation("198.4999"), [("below_map", V, M("199.00"), M("0.5001"))]),
    ("tier A override", observation("189.00", tier="A"), []),
    ("tier A below its own floor", observation("188.00", tier="A"), [("below_map", V, M("189.00"), M("1.00"))]),
    ("above msrp", observation("249.01"), [("above_msrp", V, M("249.00"), M("0.01"))]),
    ("at msrp", observation("249.00"), []),
    # AC-200: map 100, msrp 150 less 20 % = floor 120.00: clears MAP, breaks the discount rule.
    ("max discount", observation("119.99", sku="AC-200"), [("max_discount", V, M("120.00"), M("0.01"))]),
    ("at discounted msrp", observation("120.00", sku="AC-200"), []),
    ("below map itself", observation("99.00", sku="AC-200"), [("below_map", V, M("120.00"), M("21.00"))]),
    # Black Friday [2026-11-27 00:00, 2026-12-01 00:00) New York = [05:00Z, 05:00Z), tiers A and B.
    ("promo: just before start", observation("160.00", at=datetime(2026, 11, 27, 4, 59, 59, tzinfo=UTC)),
     [("below_map", V, M("199.00"), M("39.00"))]),
    ("promo: at start", observation("160.00", at=datetime(2026, 11, 27, 5, 0, tzinfo=UTC)), []),
    ("promo: below promo price", observation("158.00", at=datetime(2026, 11, 28, tzinfo=UTC)),
     [("below_map", V, M("159.00"), M("1.00"))]),
    ("promo: last second", observation("160.00", at=datetime(2026, 12, 1, 4, 59, 59, tzinfo=UTC)), []),
    ("promo: at end (exclusive)", observation("160.00", at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
     [("below_map", V, M("199.00"), M("39.00"))]),
    ("promo: tier C not included", observation("160.00", tier="C", at=datetime(2026, 11, 28, tzinfo=UTC)),
     [("below_map", V, M("199.00"), M("39.00"))]),
    # P007's exemption [2026-04-01, 2026-04-08) New York (EDT): [04:00Z, 04:00Z).
    ("exemption in force", observation("150.00", partner="P007", at=datetime(2026, 4, 7, 12, tzinfo=UTC)), []),
    ("exemption expired", observation("150.00", partner="P007", at=datetime(2026, 4, 8, 4, 0, tzinfo=UTC)),
     [("below_map", V, M("199.00"), M("49.00"))]),
    ("exemption is per partner", observation("150.00", partner="P008", at=datetime(2026, 4, 7, 12, tzinfo=UTC)),
     [("below_map", V, M("199.00"), M("49.00"))]),
    ("before the first version", observation("1.00", at=datetime(2026, 3, 1, 4, 59, tzinfo=UTC)), []),
    ("hidden price is hidden_price, not below MAP", observation("150.00", visibility="cart_only"),
     [("hidden_price", V, M("199.00"), M("49.00"))]),
    ("cart price at the floor conceals nothing", observation("199.00", visibility="cart_only"), []),
    ("login-only with no price", observation(None, visibility="login_only"), [("hidden_price", V, M("199.00"), None)]),
    ("EU below recommended is a deviation", observation("200.00", region="EU"),
     [("below_recommended", D, M("229.00"), M("29.00"))]),
    ("EU at recommended", observation("229.00", region="EU"), []),
    ("EU hidden price is nothing", observation(None, region="EU", visibility="cart_only"), []),
    ("maximum: above cap", observation("99.01", sku="AC-300", region="CA"),
     [("above_maximum", V, M("99.00"), M("0.01"))]),
    ("maximum: at cap", observation("99.00", sku="AC-300", region="CA"), []),
    ("maximum: far below cap is fine", observation("10.00", sku="AC-300", region="CA"), []),
    ("observe flags nothing", observation("1.00", region="CN", authorised=False), []),
    ("unauthorised seller", observation("199.00", partner=None, tier=None, authorised=False),
     [("unauthorised_seller", V, None, None)]),
    ("an unknown seller below MAP is unauthorised, not a MAP breach",
     observation("150.00", partner=None, tier=None, authorised=False), [("unauthorised_seller", V, None, None)]),
    ("a suspended partner below MAP breaks both", observation("150.00", authorised=False),
     [("below_map", V, M("199.00"), M("49.00")), ("unauthorised_seller", V, None, None)]),
    ("unauthorised seller in EU is still a violation", observation("229.00", region="EU", authorised=False),
     [("unauthorised_seller", V, None, None)]),
    ("another currency is not compared", observation("1.00", currency="EUR"), []),
    ("no rule for the SKU in that scope", observation("1.00", region="US", sku="AC-300"), []),
    ("no scope for the region", observation("1.00", region="JP"), []),
]


@pytest.mark.parametrize(("obs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_cases(obs: dict[str, object], expected: list[tuple[str, str, Decimal | None, Decimal | None]]) -> None:
    assert run(obs) == sorted(expected)


def test_judged_and_compliant_masks() -> None:
    rows = [observation("199.00"), observation("150.00"), observation("1.00", region="CN"),
            observation("200.00", region="EU")]
    frame = pd.DataFrame(rows)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True).astype("datetime64[ns, UTC]")
    result = judge(frame, FRAMES)
    assert result.judged.tolist() == [True, True, False, True]
    # A deviation is recorded but is not non-compliance: recommended prices are never enforced.
    assert result.compliant.tolist() == [True, False, False, True]
