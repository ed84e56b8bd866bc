"""Benchmark the detection rules pass: 1,000,000 observations, 10,000 SKUs, 3 policy versions.

Everything is generated in memory (no database). Only the rules pass is timed: the vectorised join
to the rule in force (version by instant, scope by region, SKU else category rule, tier row,
promotion and exemption windows) and the judgement. Prints the time and the peak RSS of the process.
Targets on the 2-core machine: <= 3 s and <= 1.5 GB. The machine is shared: figures are noisy.

    .venv/bin/python bench/bench_detect.py [--observations 1000000] [--skus 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from detection.rules import judge
from detection.tables import RuleFrames, base_row, exemption_row, promo_row

REGIONS = [("US", "us", "map", "USD"), ("EU", "eu", "recommended", "EUR"), ("CA", "ca", "maximum", "CAD")]
START = datetime(2026, 1, 1, tzinfo=UTC)


def rule_frames(n_skus: int, rng: np.random.Generator) -> RuleFrames:
    versions = [{"version": v, "effective_from": START + timedelta(days=120 * (v - 1))} for v in (1, 2, 3)]
    scopes = [{"version": v, "region": r, "scope": s, "mode": m, "currency": c}
              for v in (1, 2, 3) for r, s, m, c in REGIONS]
    base, promos, exemptions = [], [], []
    maps = rng.integers(50_00, 500_00, n_skus)  # cents
    for v in (1, 2, 3):
        for i in range(n_skus):
            sku = f"SKU-{i:05d}"
            floor = Decimal(int(maps[i]) + 100 * v) / 100
            for tier in (None, "A", "B", "C"):
                tier_floor = floor - (Decimal(5) if tier == "A" else 0)
                base.append(base_row(version=v, scope="us", kind="sku", key=sku, tier=tier, floor=tier_floor,
                                     map=tier_floor, msrp=floor * Decimal("1.25"), tolerance=Decimal("0.50"),
                                     currency="USD", rule_ref=f"v{v} us sku {sku}"))
                base.append(base_row(version=v, scope="ca", kind="sku", key=sku, tier=tier,
                                     maximum=floor * Decimal("1.3"), currency="CAD", rule_ref=f"v{v} ca sku {sku}"))
        for cat in range(50):
            for tier in (None, "A", "B", "C"):
                base.append(base_row(version=v, scope="eu", kind="category", key=f"cat-{cat}", tier=tier,
                                     recommended=Decimal(200 + cat), currency="EUR", rule_ref=f"v{v} eu cat-{cat}"))
        for p in range(100):
            sku = f"SKU-{int(rng.integers(n_skus)):05d}"
            start = START + timedelta(days=int(rng.integers(0, 350)))
            for tier in ("A", "B"):
                promos.append(promo_row(version=v, scope="us", kind="sku", key=sku, tier=tier,
                                        price=Decimal(int(maps[0]) // 2) / 100, start=start,
                                        end=start + timedelta(days=4), name=f"promo {p}"))
        for e in range(50):
            start = START + timedelta(days=int(rng.integers(0, 350)))
            exemptions.append(exemption_row(version=v, partner=f"P{e:03d}", scope=None, kind="category",
                                            key=f"cat-{e % 50}", floor=Decimal("10.00"), start=start,
                                            end=start + timedelta(days=7)))
    return RuleFrames.from_records(versions=versions, scopes=scopes, base=base, promotions=promos,
                                   exemptions=exemptions)


def observations(n: int, n_skus: int, rng: np.random.Generator) -> pd.DataFrame:
    skus = pd.Categorical.from_codes(rng.integers(0, n_skus, n), categories=[f"SKU-{i:05d}" for i in range(n_skus)])
    region_code = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    partner_code = rng.integers(-1, 200, n)  # -1: an unknown marketplace seller
    tiers = pd.Categorical.from_codes(np.where(partner_code < 0, -1, partner_code % 3), categories=["A", "B", "C"])
    seconds = rng.integers(0, 365 * 86400, n)
    return pd.DataFrame({
        "observed_at": pd.to_datetime(np.datetime64(START.replace(tzinfo=None), "s") + seconds.astype("timedelta64[s]"))
        .tz_localize("UTC").astype("datetime64[ns, UTC]"),
        "sku": skus,
        "category": pd.Categorical.from_codes(skus.codes % 50, categories=[f"cat-{c}" for c in range(50)]),
        "region": pd.Categorical.from_codes(region_code, categories=["US", "EU", "CA"]),
        "tier": tiers,
        "partner": pd.Categorical.from_codes(partner_code, categories=[f"P{p:03d}" for p in range(200)]),
        "price_e4": rng.integers(40_0000, 700_0000, n).astype(np.int64),
        "currency": pd.Categorical.from_codes(region_code, categories=["USD", "EUR", "CAD"]),
        "visibility": pd.Categorical.from_codes(rng.choice(3, n, p=[0.97, 0.02, 0.01]),
                                                categories=["visible", "cart_only", "login_only"]),
        "authorised": partner_code >= 0,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    t = time.perf_counter()
    frames = rule_frames(args.skus, rng)
    obs = observations(args.observations, args.skus, rng)
    print(f"generated {len(obs):,} observations, {len(frames.base):,} rule rows, {len(frames.promotions)} "
          f"promotion rows, {len(frames.exemptions)} exemption rows in {time.perf_counter() - t:.1f} s")
    timings = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = judge(obs, frames)
        timings.append(time.perf_counter() - t)
    kinds = result.findings.groupby(["rule", "kind"]).size()
    print("findings:", ", ".join(f"{rule}/{kind} {count:,}" for (rule, kind), count in kinds.items()))
    print(f"judged {int(result.judged.sum()):,}, compliant {int(result.compliant.sum()):,}")
    print(f"rules pass: best {min(timings):.2f} s, median {sorted(timings)[len(timings) // 2]:.2f} s "
          f"over {args.repeat} runs (target <= 3 s)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB (target <= 1,536 MB); shared noisy machine: figures are indicative")
    from bench.record import record

    record("detect", f"detection rules pass: {args.observations:,} observations, {args.skus:,} SKUs, 3 versions",
           "<= 3 s, <= 1.5 GB", f"best {min(timings):.2f} s, median {sorted(timings)[len(timings) // 2]:.2f} s "
           f"over {args.repeat} runs; peak RSS {peak_mb:,.0f} MB", best_s=round(min(timings), 3),
           peak_rss_mb=round(peak_mb))


if __name__ == "__main__":
    main()
