"""The vectorised join (detection.engine.resolve_frame) equals the scalar policies.resolve.

Hypothesis draws observations (SKU known/unknown, category, region, tier, partner, instant) over
three policy versions with SKU and category rules, tier overrides, percentage and absolute
tolerances, tiered and untiered promotions and scoped and unscoped exemptions; instants are drawn
close to every version start and window edge so the boundaries are exercised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detection.engine import resolve_frame
from detection.policy_bridge import rule_frames
from detection.tables import NA_E4, from_e4
from policies import PublishedPolicy, parse_policy, resolve
from pricewarden.errors import NoRuleError

V1 = """
policy: Acme v1
effective_from: 2026-03-01T00:00
timezone: America/New_York
currency: USD
tolerance: "0.00"
scopes:
  - name: us
    regions: [US]
    mode: map
    currency: USD
    escalation: {window_days: 90, steps: [{name: warning, after: 1}, {name: formal_notice, after: 2}]}
  - {name: eu, regions: [EU], mode: recommended, currency: EUR}
  - {name: ca, regions: [CA], mode: maximum, currency: CAD}
  - {name: cn, regions: [CN], mode: observe, currency: CNY}
  - {name: uk, regions: [UK], mode: map, currency: GBP}
rules:
  - {sku: AC-100, scope: uk, map: "179.00"}
  - {sku: AC-100, scope: us, map: "199.00", msrp: "249.00", max_discount_pct: 20, tolerance: "0.50",
     tiers: {A: {map: "189.00"}}}
  - {category: headphones, scope: us, map: "99.00", tolerance_pct: 1.5}
  - {category: headphones, scope: eu, recommended: "229.00", msrp: "259.00"}
  - {sku: AC-300, scope: ca, maximum: "99.00"}
  - {category: headphones, scope: cn, recommended: "1500.00"}
promotions:
  - {name: Black Friday, scope: us, skus: [AC-100], price: "159.00", start: 2026-11-27T00:00,
     end: 2026-12-01T00:00, tiers: [A, B]}
  - {name: Spring, scope: us, categories: [headphones], price: "89.00", start: 2026-04-20T00:00,
     end: 2026-04-25T00:00}
  - {name: EU sale, scope: eu, categories: [headphones], price: "199.00", start: 2026-04-10T00:00,
     end: 2026-04-20T00:00}
exemptions:
  - {partner: P007, skus: [AC-100], floor: "149.00", start: 2026-04-01T00:00, end: 2026-04-08T00:00,
     reason: clearance}
  - {partner: P002, categories: [headphones], floor: "79.00", start: 2026-04-05T00:00,
     end: 2026-05-01T00:00, reason: launch}
  - {partner: P010, skus: [AC-200], scope: us, floor: "59.00", start: 2026-03-10T00:00,
     end: 2026-09-01T00:00, reason: trade-in}
  - {partner: P010, skus: [AC-100], scope: uk, floor: "9.00", start: 2026-03-10T00:00,
     end: 2026-09-01T00:00, reason: UK only}
"""

V2 = V1.replace("effective_from: 2026-03-01T00:00", "effective_from: 2026-06-01T00:00").replace(
    'map: "199.00"', 'map: "209.00"').replace("policy: Acme v1", "policy: Acme v2")
# A third version starting at the same instant as v2: the higher number wins the tie.
V3 = V2.replace('map: "209.00"', 'map: "205.00"').replace("policy: Acme v2", "policy: Acme v3")


def published() -> list[PublishedPolicy]:
    return [PublishedPolicy(i + 1, parse_policy(text, file=f"v{i + 1}.yaml")) for i, text in
            enumerate((V1, V2, V3))]


VERSIONS = published()
FRAMES = rule_frames(VERSIONS)
EDGES = sorted({v.effective_from for v in VERSIONS}
               | {p.start for v in VERSIONS for p in v.policy.promotions}
               | {p.end for v in VERSIONS for p in v.policy.promotions}
               | {e.start for v in VERSIONS for e in v.policy.exemptions}
               | {e.end for v in VERSIONS for e in v.policy.exemptions})
SKUS = {"AC-100": "headphones", "AC-200": "headphones", "AC-300": "speakers", "ZZ-9": None}

instants = st.one_of(
    st.builds(lambda e, d: e + timedelta(seconds=d), st.sampled_from(EDGES), st.integers(-2, 2)),
    st.datetimes(min_value=datetime(2026, 2, 1), max_value=datetime(2027, 1, 31),
                 timezones=st.just(UTC)),
)
cases = st.fixed_dictionaries({
    "sku": st.sampled_from(sorted(SKUS)),
    "region": st.sampled_from(["US", "EU", "CA", "CN", "UK", "JP"]),
    "tier": st.sampled_from([None, "A", "B", "C"]),
    "partner": st.sampled_from([None, "P002", "P007", "P010"]),
    "at": instants,
})


def frame_of(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame({
        "observed_at": pd.to_datetime([r["at"] for r in rows], utc=True).astype("datetime64[ns, UTC]"),
        "sku": [r["sku"] for r in rows],
        "category": [SKUS[str(r["sku"])] for r in rows],
        "region": [r["region"] for r in rows],
        "tier": [r["tier"] for r in rows],
        "partner": [r["partner"] for r in rows],
    })


def dec(value: int) -> Decimal | None:
    return from_e4(int(value))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cases, min_size=1, max_size=25))
def test_vectorised_join_equals_scalar_resolve(rows: list[dict[str, object]]) -> None:
    got = resolve_frame(frame_of(rows), FRAMES)
    for i, row in enumerate(rows):
        res = got.iloc[i]
        try:
            want = resolve(VERSIONS, sku=str(row["sku"]), category=SKUS[str(row["sku"])],
                           partner_code=row["partner"], tier=row["tier"], region=str(row["region"]),
                           at=row["at"])
        except NoRuleError:
            assert not res["has_rule"], (row, res.to_dict())
            continue
        assert res["has_rule"], (row, want.rule_ref)
        assert res["version"] == want.version
        assert res["scope"] == want.scope
        assert res["mode"] == want.mode
        assert res["rule_currency"] == want.currency
        assert res["rule_ref"] == want.rule_ref
        assert dec(res["floor_e4"]) == want.floor, (row, want.explanation)
        assert dec(res["base_floor_e4"]) == want.base_floor
        assert dec(res["map_e4"]) == want.base_map
        assert dec(res["msrp_e4"]) == want.msrp
        assert dec(res["maximum_e4"]) == want.maximum
        assert dec(res["recommended_e4"]) == want.recommended, (row, want.explanation)
        if want.tolerance_pct is not None:
            assert dec(res["tol_pct_e4"]) == want.tolerance_pct
        else:
            assert res["tol_pct_e4"] == NA_E4
            assert dec(res["tol_e4"]) == (want.tolerance or Decimal(0))


@pytest.mark.parametrize(
    ("at", "tier", "partner", "floor"),
    [
        # Black Friday (tiers A, B) starts 2026-11-27 00:00 New York = 05:00 UTC, end exclusive.
        (datetime(2026, 11, 27, 4, 59, 59, tzinfo=UTC), "B", None, "205.00"),
        (datetime(2026, 11, 27, 5, 0, tzinfo=UTC), "B", None, "159.00"),
        (datetime(2026, 12, 1, 4, 59, 59, tzinfo=UTC), "A", None, "159.00"),
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), "A", None, "199.20"),  # A: max(189, msrp less 20 %)
        (datetime(2026, 11, 28, tzinfo=UTC), "C", None, "205.00"),
        (datetime(2026, 11, 28, tzinfo=UTC), None, None, "205.00"),
        # P007's exemption [04-01, 04-08) New York (EDT, UTC-4), in v1 (map 199.00).
        (datetime(2026, 4, 1, 3, 59, tzinfo=UTC), "C", "P007", "199.20"),
        (datetime(2026, 4, 1, 4, 0, tzinfo=UTC), "C", "P007", "149.00"),
        (datetime(2026, 4, 8, 4, 0, tzinfo=UTC), "C", "P007", "199.20"),
        # v2 and v3 both start 2026-06-01: v3 (map 205) wins; just before, v1 (map 199, msrp floor 199.20).
        (datetime(2026, 6, 1, 3, 59, 59, tzinfo=UTC), "C", None, "199.20"),
        (datetime(2026, 6, 1, 4, 0, tzinfo=UTC), "C", None, "205.00"),
    ],
)
def test_window_and_version_edges(at: datetime, tier: str | None, partner: str | None, floor: str) -> None:
    got = resolve_frame(frame_of([{"sku": "AC-100", "region": "US", "tier": tier, "partner": partner, "at": at}]),
                        FRAMES)
    assert dec(got.iloc[0]["floor_e4"]) == Decimal(floor)
